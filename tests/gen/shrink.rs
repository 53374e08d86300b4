//! The minimizer: shrinks a failing program while it still checks and still fails the same
//! way (drops declarations, stage operators, `--param` arguments and input lines, then
//! replaces expressions by a plain literal or by one of their sub-expressions of the same
//! type), and writes the result out as a `tests/diff`-style fixture.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::expr::{Expr, Part, zero};
use super::prog::{Kind, Program};
use super::run::{Runner, Verdict};

/// What must stay the same while shrinking: the verdict's class, and for a crash the
/// configuration and the sign of it.
fn signature(v: &Verdict) -> String {
    match v {
        Verdict::Crash(s) => format!("crash {}", s.lines().next().unwrap_or("")),
        v => v.class().to_string(),
    }
}

struct Shrinker<'a> {
    runner: &'a Runner,
    chunk: usize,
    want: String,
    tries: usize,
    deadline: Instant,
}

impl Shrinker<'_> {
    fn keeps(&mut self, p: &Program) -> bool {
        if Instant::now() > self.deadline {
            return false;
        }
        self.tries += 1;
        signature(&self.runner.judge(p, self.chunk)) == self.want
    }
}

fn count(parts: &[Part]) -> usize {
    parts.iter().map(|p| if let Part::E(e) = p { 1 + count(&e.parts) } else { 0 }).sum()
}

/// The `n`-th expression (pre-order) inside `parts`.
fn nth(parts: &mut [Part], mut n: usize) -> Option<&mut Expr> {
    for p in parts.iter_mut() {
        if let Part::E(e) = p {
            if n == 0 {
                return Some(e);
            }
            n -= 1;
            let size = count(&e.parts);
            if n < size {
                return nth(&mut e.parts, n);
            }
            n -= size;
        }
    }
    None
}

/// Sub-expressions of `e` (up to three levels down) of type `t`, nearest first.
fn same_typed(e: &Expr, t: &super::ty::Ty, out: &mut Vec<Expr>) {
    let mut level: Vec<&Expr> = vec![e];
    for _ in 0..3 {
        let mut next = Vec::new();
        for x in level {
            for p in &x.parts {
                if let Part::E(c) = p {
                    if c.ty == *t {
                        out.push(c.clone());
                    }
                    next.push(c);
                }
            }
        }
        level = next;
    }
}

fn item_parts(p: &mut Program) -> Vec<&mut Vec<Part>> {
    let mut v = Vec::new();
    for it in &mut p.items {
        v.push(&mut it.head);
        for op in &mut it.ops {
            v.push(op);
        }
    }
    v
}

fn total_exprs(p: &mut Program) -> usize {
    item_parts(p).iter().map(|ps| count(ps)).sum()
}

fn expr_at(p: &mut Program, mut n: usize) -> Option<&mut Expr> {
    for ps in item_parts(p) {
        let c = count(ps);
        if n < c {
            return nth(ps, n);
        }
        n -= c;
    }
    None
}

/// Shrinks `p`, which fails with verdict `v`; gives up improving after `budget`.
pub fn minimize(
    runner: &Runner,
    p: &Program,
    v: &Verdict,
    chunk: usize,
    budget: Duration,
) -> Program {
    let mut s =
        Shrinker { runner, chunk, want: signature(v), tries: 0, deadline: Instant::now() + budget };
    let mut best = p.clone();
    loop {
        let mut progress = false;
        // declarations, sinks first
        for kind in [
            Kind::Sink,
            Kind::Stage,
            Kind::Fn,
            Kind::Const,
            Kind::Param,
            Kind::Type,
            Kind::Source,
            Kind::Use,
        ] {
            let mut i = best.items.len();
            while i > 0 {
                i -= 1;
                if best.items[i].kind != kind {
                    continue;
                }
                let mut q = best.clone();
                q.items.remove(i);
                if s.keeps(&q) {
                    best = q;
                    progress = true;
                }
            }
        }
        // stage operators
        for i in 0..best.items.len() {
            let mut j = best.items[i].ops.len();
            while j > 0 {
                j -= 1;
                let mut q = best.clone();
                q.items[i].ops.remove(j);
                if s.keeps(&q) {
                    best = q;
                    progress = true;
                }
            }
        }
        // --param arguments
        let mut j = best.args.len();
        while j > 0 {
            j -= 1;
            let mut q = best.clone();
            q.args.remove(j);
            if s.keeps(&q) {
                best = q;
                progress = true;
            }
        }
        // input lines, in halves, quarters, ..., ones
        for f in 0..best.files.len() {
            let skip = usize::from(best.files[f].header);
            let mut k = (best.files[f].lines.len() - skip).div_ceil(2).max(1);
            loop {
                let mut at = skip;
                while at < best.files[f].lines.len() {
                    let mut q = best.clone();
                    let end = (at + k).min(q.files[f].lines.len());
                    q.files[f].lines.drain(at..end);
                    if s.keeps(&q) {
                        best = q;
                        progress = true;
                    } else {
                        at += k;
                    }
                }
                if k == 1 {
                    break;
                }
                k = k.div_ceil(2);
            }
        }
        // expressions: a literal, or a sub-expression of the same type
        let mut n = 0;
        while n < total_exprs(&mut best) {
            let e = expr_at(&mut best, n).unwrap().clone();
            let mut cands = vec![zero(&e.ty)];
            same_typed(&e, &e.ty, &mut cands);
            for c in cands.into_iter().take(6) {
                if c.print() == e.print() {
                    continue;
                }
                let mut q = best.clone();
                *expr_at(&mut q, n).unwrap() = c;
                if s.keeps(&q) {
                    best = q;
                    progress = true;
                    break;
                }
            }
            n += 1;
        }
        if !progress || Instant::now() > s.deadline {
            break;
        }
    }
    eprintln!("gen: minimized {} in {} runs", p.name, s.tries);
    best
}

/// Writes `p` (only the data files it still reads) and what went wrong to `out/NAME/`.
pub fn save(p: &Program, runner: &Runner, chunk: usize, out: &Path) -> PathBuf {
    let dir = out.join(&p.name);
    let _ = std::fs::remove_dir_all(&dir);
    let mut q = p.clone();
    let src = q.source();
    q.files.retain(|f| src.contains(&f.path));
    q.write(&dir).unwrap();
    let v = runner.judge(&q, chunk);
    let mut note = format!(
        "kiln run {}.kiln{}\nKILN_CHUNK_SIZE={chunk}\nverdict: {}\n",
        q.name,
        q.args
            .iter()
            .map(|a| match a.strip_prefix("env:") {
                Some(kv) => format!(" (env KILN_PARAM_{kv})"),
                None => format!(" --param {a}"),
            })
            .collect::<String>(),
        v.class()
    );
    if let Verdict::Mismatch(s) | Verdict::Crash(s) | Verdict::Invalid(s) = &v {
        note.push_str(s);
    }
    std::fs::write(dir.join("VERDICT.txt"), note).unwrap();
    dir
}
