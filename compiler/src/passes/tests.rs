//! Each pass on small programs: what it rewrites, and what it must leave alone.

use crate::compile::{Input, Options, Outcome, compile};
use crate::ir::print::text;

/// The program's graph after lowering and after each pass, as `kiln view --passes` prints.
fn passes(src: &str) -> Vec<(&'static str, bool, String)> {
    let input = Input::Text { name: "t.kiln", text: src };
    match compile(input, Options { keep_passes: true, skip: Vec::new() }) {
        Ok(Outcome::Compiled(c)) => {
            c.passes.iter().map(|s| (s.name, s.changed, text(&s.graph))).collect()
        }
        Ok(Outcome::Failed(run)) => panic!("does not compile: {:?}", run.diagnostics),
        Err(e) => panic!("{e}"),
    }
}

fn after<'a>(ps: &'a [(&'static str, bool, String)], name: &str) -> (bool, &'a str) {
    let (_, changed, g) = ps.iter().find(|(n, ..)| *n == name).expect("no such pass");
    (*changed, g)
}

const HEAD: &str = "type R = { a: int, s: str }\nsource xs: R = jsonl(\"in.jsonl\")\n";

#[test]
fn every_pass_runs_in_order_after_lowering() {
    let ps = passes(&format!("{HEAD}sink xs -> stdout()\n"));
    let names: Vec<&str> = ps.iter().map(|(n, ..)| *n).collect();
    assert_eq!(names, ["lower", "dead", "fold", "pushdown", "fuse", "batch"]);
}

#[test]
fn dead_removes_stages_and_errors_that_feed_no_sink() {
    let src = format!(
        "{HEAD}stage used = xs |> map(r => r.a)\nstage unused = xs |> map(r => r.a * 2)\n\
         stage bad = errors |> map(e => e.line)\nsink used -> stdout()\n"
    );
    let ps = passes(&src);
    let (_, lowered) = after(&ps, "lower");
    assert!(lowered.contains("stage unused") && lowered.contains("source errors"), "{lowered}");
    let (changed, g) = after(&ps, "dead");
    assert!(changed);
    assert!(!g.contains("unused") && !g.contains("errors") && !g.contains("stage bad"), "{g}");
    assert!(g.contains("stage used") && g.contains("source xs"), "{g}");
    // Nothing to remove: unchanged.
    let ps = passes(&format!("{HEAD}sink xs -> stdout()\n"));
    assert!(!after(&ps, "dead").0);
}

#[test]
fn fold_computes_constants_and_closed_expressions() {
    let src = format!(
        "{HEAD}const k: int = 6 * 7\nconst name = upper(\"ab\") + \"c\"\n\
         stage s = xs |> map(r => {{ x: r.a + k, y: name, z: len(\"abcd\") * 2, w: r.s + \"!\" }})\n\
         stage t = s |> take(k - 40)\nsink t -> stdout()\n"
    );
    let ps = passes(&src);
    let (changed, g) = after(&ps, "fold");
    assert!(changed);
    assert!(g.contains("(v0.a + 42)"), "{g}");
    assert!(g.contains("\"ABc\"") && g.contains("z: 8"), "{g}");
    assert!(g.contains("(v0.s + \"!\")"), "row-dependent code stays: {g}");
    assert!(g.contains("take(2)"), "{g}");
}

#[test]
fn fold_leaves_failing_and_row_dependent_expressions() {
    let src = format!(
        "{HEAD}param p: int = 3\nstage s = xs |> map(r => {{ a: [1, 2][5], b: p + 1, c: r.a }})\n\
         sink s -> stdout()\n"
    );
    let ps = passes(&src);
    let (changed, g) = after(&ps, "fold");
    assert!(!changed, "{g}");
    assert!(g.contains("[1, 2][5]") && g.contains("(param p + 1)"), "{g}");
}

#[test]
fn skipped_optimizations_do_not_run_and_unknown_names_are_refused() {
    let src =
        format!("{HEAD}const k = 2 + 3\nstage s = xs |> map(r => r.a + k)\nsink s -> stdout()\n");
    let input = Input::Text { name: "t.kiln", text: &src };
    let skip = vec!["fold".to_string()];
    let Ok(Outcome::Compiled(c)) = compile(input, Options { keep_passes: true, skip }) else {
        panic!("does not compile")
    };
    let names: Vec<&str> = c.passes.iter().map(|s| s.name).collect();
    assert_eq!(names, ["lower", "dead", "pushdown", "fuse", "batch"]);
    assert!(text(&c.optimized).contains("(v0.a + k)"), "{}", text(&c.optimized));
    let input = Input::Text { name: "t.kiln", text: &src };
    let skip = vec!["dead".to_string(), "nope".to_string()];
    match compile(input, Options { keep_passes: false, skip }) {
        Err(e) => assert!(e.contains("names no pass `nope`") && e.contains("fold"), "{e}"),
        Ok(_) => panic!("an unknown pass name is accepted"),
    }
}

#[test]
fn fuse_merges_stateless_stages_into_their_only_reader() {
    let src = format!(
        "{HEAD}stage a = xs |> map(r => r.a)\nstage b = a |> filter(x => x > 1)\n\
         stage c = b |> map(x => x * 2)\nsink c -> stdout()\n"
    );
    let ps = passes(&src);
    let (changed, g) = after(&ps, "fuse");
    assert!(changed);
    assert!(g.contains("stage c: stream<int> = xs"), "{g}");
    assert!(g.contains("-- stage a:") && g.contains("-- stage b:") && g.contains("-- stage c:"));
    assert!(!g.contains("stage a: stream"), "{g}");
}

#[test]
fn fuse_keeps_stages_read_twice_stateful_or_not_next_in_plan_order() {
    // `a` has two readers; `s` sorts (stateful); `m` is read by `late`, but `other` comes
    // between them in plan order, so merging would change the order of failures.
    let src = format!(
        "{HEAD}stage a = xs |> map(r => r.a)\nstage b = a |> map(x => x + 1)\n\
         stage s = xs |> sort_by(r => r.a)\nstage t = s |> map(r => r.s)\n\
         stage m = xs |> map(r => r.s)\nstage other = xs |> map(r => r.a)\n\
         stage late = m |> map(s => s + \"!\")\n\
         sink a -> jsonl(\"1.jsonl\")\nsink b -> jsonl(\"2.jsonl\")\nsink t -> jsonl(\"3.jsonl\")\n\
         sink other -> jsonl(\"4.jsonl\")\nsink late -> jsonl(\"5.jsonl\")\n"
    );
    let ps = passes(&src);
    let (changed, g) = after(&ps, "fuse");
    assert!(!changed, "{g}");
    assert!(!g.contains("-- stage"), "{g}");
}

#[test]
fn pushdown_marks_the_fields_nothing_reads() {
    let wide = "type W = { id: int, name: str, tags: [str], price: float }\n\
                source ws: W = jsonl(\"w.jsonl\")\n";
    // Read through a filter and a sort, then a map: `tags` and `name` are never read.
    let src = format!(
        "{wide}stage s = ws |> filter(w => w.price > 1.0) |> sort_by(w => w.id) \
         |> map(w => w.id)\nsink s -> stdout()\n"
    );
    let ps = passes(&src);
    let (changed, g) = after(&ps, "pushdown");
    assert!(changed);
    assert!(g.contains("(read, not stored: name, tags)"), "{g}");
    // A sink of the records, a function given the whole record, or a second reader that
    // reads `name`: nothing or less is left unread.
    for (tail, unread) in [
        ("stage s = ws |> filter(w => w.price > 1.0)\nsink s -> stdout()\n", None),
        ("fn f(w: W) -> int = w.id\nstage s = ws |> map(w => f(w))\nsink s -> stdout()\n", None),
        (
            "stage s = ws |> map(w => w.id)\nstage t = ws |> map(w => w.name)\n\
             sink s -> jsonl(\"a.jsonl\")\nsink t -> jsonl(\"b.jsonl\")\n",
            Some("tags, price"),
        ),
    ] {
        let ps = passes(&format!("{wide}{tail}"));
        let (_, g) = after(&ps, "pushdown");
        match unread {
            None => assert!(!g.contains("not stored"), "{tail}: {g}"),
            Some(u) => assert!(g.contains(&format!("(read, not stored: {u})")), "{tail}: {g}"),
        }
    }
}
