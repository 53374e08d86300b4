//! Expressions and `:run`. An expression is checked as the hidden declarations
//! `stage __repl_it = range(0, 1) |> map(_ => EXPR)` and `sink __repl_it -> discard()`
//! added to the session's program, so it sees every name of the session; its typed body
//! is then JIT-compiled on its own and run once (`codegen::eval`), never interpreted.
//! An expression of stream type (`reviews |> take(3)`) and `:run STAGE [N]` run the
//! session's pipeline, without its sinks, into a hidden `stdout()` sink after `take(N)`.

use super::session::{Checked, Session};
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::codegen::eval::{Clif, Evaluated};
use crate::codegen::run::RunParams;
use crate::compile::Compiled;
use crate::ir::{NodeKind, Op, Pipeline};

const IT: &str = "__repl_it";
const RUN: &str = "__repl_run";

/// What to do with an expression.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Print `value : type`.
    Show,
    /// Print its type (`:type`).
    Type,
}

/// Checks the expression `origin[start..end]` against the session.
pub fn check_expr(s: &Session, origin: usize, start: usize, end: usize) -> Option<Checked> {
    let t = s.decls.len();
    let built = s.build(&s.decls, |b| {
        // A lambda's body extends as far as it can: no parentheses needed (and none
        // wanted, as they would widen the expression's span beyond the input).
        b.push_hidden(&format!("stage {IT} = range(0, 1) |> map(_ => "), t);
        b.push(s, origin, start, end, t);
        b.push_hidden(&format!("\n)\nsink {IT} -> discard()\n"), t);
    });
    s.check(built).ok()
}

/// The typed expression of a check made by [`check_expr`].
pub fn typed(c: &Compiled) -> Option<&TExpr> {
    let p = &c.reference;
    let n = p.graph.node_indices().find(|&n| &*p.graph[n].name == IT)?;
    match &p.graph[n].kind {
        NodeKind::Stage { ops, .. } => match ops.first() {
            Some(Op::Map(f)) => Some(&f.body),
            _ => None,
        },
        _ => None,
    }
}

/// Evaluates (or types) an expression input. Returns whether it succeeded.
pub fn expr(s: &Session, origin: usize, start: usize, end: usize, mode: Mode) -> bool {
    let Some(checked) = check_expr(s, origin, start, end) else { return false };
    let c = match &checked.outcome {
        Ok(c) => c,
        Err(run) => {
            // Maybe a stream: `reviews |> take(3)` runs like `:run`.
            if let Some(ok) = try_stream(s, origin, start, end, mode) {
                return ok;
            }
            let errors: Vec<_> = run.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
            s.render(&checked, &errors);
            return false;
        }
    };
    show_warnings(s, &checked);
    let Some(e) = typed(c) else {
        super::error("internal error: the REPL's hidden declaration is missing");
        return false;
    };
    if mode == Mode::Type {
        println!("{}", e.ty);
        return true;
    }
    match value(s, &checked, c, e, None) {
        Some(v) => {
            println!("{v} : {}", e.ty);
            true
        }
        None => false,
    }
}

/// Warnings about the input itself (not the session's declarations).
fn show_warnings(s: &Session, checked: &Checked) {
    let t = s.decls.len();
    let mine: Vec<_> = checked
        .run()
        .diagnostics
        .iter()
        .filter(|d| s.owner(checked, d) == Some(t))
        .cloned()
        .collect();
    if !mine.is_empty() {
        s.render(checked, &mine);
    }
}

/// The JSON text of `e`'s value, computed by compiled code; `None` after reporting why not.
pub fn value(
    s: &Session,
    checked: &Checked,
    c: &Compiled,
    e: &TExpr,
    clif: Option<&mut Clif>,
) -> Option<String> {
    let p = &c.reference;
    let (agents, params) = prepare(s, checked, p)?;
    match crate::codegen::eval::eval(p, agents, e, &params, clif) {
        Ok(Evaluated::Value(v)) => Some(v),
        Ok(Evaluated::Failed(d) | Evaluated::Refused(d)) | Err(d) => {
            s.render(checked, &[*d]);
            None
        }
    }
}

/// The loaded agents and the params' values (defaults and `KILN_PARAM_*`).
fn prepare(
    s: &Session,
    checked: &Checked,
    p: &Pipeline,
) -> Option<(crate::agent::net::Agents, RunParams)> {
    let run = checked.run();
    let agents = match crate::driver::agents::prepare(p, &run.map) {
        Ok(a) => a,
        Err(d) => {
            s.render(checked, &[*d]);
            return None;
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let values = match crate::interp::params::resolve(p, &[], &env) {
        Ok(v) => v,
        Err(crate::interp::params::ParamError::Usage(m)) => {
            super::error(&m);
            return None;
        }
        Err(crate::interp::params::ParamError::Diag(d)) => {
            s.render(checked, &[*d]);
            return None;
        }
    };
    let given = crate::interp::params::given(p, &[], &env);
    let values = values.iter().map(crate::interp::params::runtime_value).collect();
    Some((agents, RunParams { values, given }))
}

/// Checks the session's pipeline without its sinks, plus `stage __repl_run =
/// (origin[start..end]) |> take(n)` into a `stdout()` sink.
fn check_run(s: &Session, origin: usize, start: usize, end: usize, n: u64) -> Option<Checked> {
    let decls: Vec<_> = s.decls.iter().filter(|d| d.keyword != "sink").cloned().collect();
    let t = decls.len();
    let built = s.build(&decls, |b| {
        b.push_hidden(&format!("stage {RUN} = ("), t);
        b.push(s, origin, start, end, t);
        // Failing records are counted, not fatal (`run_checked` says how many).
        b.push_hidden(
            &format!("\n) |> take({n})\nsink {RUN} -> stdout()\nsink errors -> discard()\n"),
            t,
        );
    });
    s.check(built).ok()
}

/// Checks a stream expression as `:run` does.
pub fn check_stream(s: &Session, origin: usize, start: usize, end: usize) -> Option<Checked> {
    check_run(s, origin, start, end, 10)
}

/// The type of the stream a check made by [`check_stream`] runs.
pub fn stream_type(c: &Compiled) -> Option<Ty> {
    c.program.stages.iter().find(|st| &*st.name == RUN).map(|st| st.expr.ty.clone())
}

/// An expression that checks as a stream: runs it (10 elements); `None` when it does not
/// check as one either.
fn try_stream(s: &Session, origin: usize, start: usize, end: usize, mode: Mode) -> Option<bool> {
    let checked = check_run(s, origin, start, end, 10)?;
    let c = checked.outcome.as_ref().ok()?;
    if mode == Mode::Type {
        println!("{}", stream_type(c)?);
        return Some(true);
    }
    Some(run_checked(s, &checked, c))
}

/// `:run EXPR [N]`: `origin` holds the command's text, `start..end` the expression.
pub fn run(s: &Session, origin: usize, start: usize, end: usize, n: u64) -> bool {
    let Some(checked) = check_run(s, origin, start, end, n) else { return false };
    match &checked.outcome {
        Ok(c) => {
            let p = &c.program;
            let ok =
                p.stages.iter().any(|st| &*st.name == RUN && matches!(st.expr.ty, Ty::Stream(_)));
            ok && run_checked(s, &checked, c)
        }
        Err(run) => {
            let errors: Vec<_> = run.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
            s.render(&checked, &errors);
            false
        }
    }
}

/// Runs a checked `:run` program, JIT-compiled, on the parallel executor. Ctrl-C stops it
/// (`kiln_runtime::exec::interrupt`).
fn run_checked(s: &Session, checked: &Checked, c: &Compiled) -> bool {
    let p = &c.optimized;
    let Some((agents, params)) = prepare(s, checked, p) else { return false };
    let map = &checked.run().map;
    let program = match crate::codegen::run::compile(p, map, agents) {
        Ok(Ok(program)) => program,
        Ok(Err(d)) | Err(d) => {
            s.render(checked, &[*d]);
            return false;
        }
    };
    let progress = kiln_runtime::program::progress::bar(false);
    let drew = progress.is_some();
    let opts = crate::codegen::run::RunOptions {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        chunk_size: None,
        progress,
    };
    kiln_runtime::exec::interrupt::clear();
    let r = program.run(&params, opts);
    if drew {
        kiln_runtime::program::progress::clear();
    }
    let interrupted = kiln_runtime::exec::interrupt::requested();
    kiln_runtime::exec::interrupt::clear();
    match r {
        Ok(0) => true,
        Ok(n) => {
            let s = if n == 1 { "" } else { "s" };
            println!(
                "note: {n} record{s} failed to read or process and {} left out (`kiln run` reports them)",
                if n == 1 { "was" } else { "were" }
            );
            true
        }
        Err(_) if interrupted => {
            println!("interrupted");
            false
        }
        Err(d) => {
            s.render(checked, &[*d]);
            false
        }
    }
}
