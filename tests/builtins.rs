//! Every builtin's documented examples (the `examples` of each `compiler/src/builtins/*.rs`
//! entry) through `kiln run` on both engines: each example is a stage of one pipeline, its
//! value written by a sink and compared with the documented JSON. `--engine jit` refuses
//! a pipeline with an expression it cannot compile (E0610), so a builtin without a native
//! lowering fails here. (`compiler/src/interp/tests.rs` checks the same examples on the
//! interpreter's values directly.)

mod support;

use support::{kiln, write};

#[test]
fn every_builtin_example_gives_its_value_on_both_engines() {
    let mut cases = Vec::new();
    for b in kiln::builtins::ALL {
        for (expr, want) in b.examples {
            cases.push((b.name, *expr, *want));
        }
    }
    assert!(cases.len() > 60, "only {} examples", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("source one: int = range(0, 1)\n");
    for (k, (_, expr, _)) in cases.iter().enumerate() {
        text.push_str(&format!("stage e{k} = one |> map(_z => {expr})\n"));
        text.push_str(&format!("sink e{k} -> jsonl(\"out/e{k}.jsonl\")\n"));
    }
    write(dir.path(), "examples.kiln", &text);
    for engine in ["interp", "jit"] {
        // The examples are constant expressions: without `fold`, compiled code computes them.
        let env = [("KILN_SKIP_PASSES", "fold")];
        let r = kiln(dir.path(), &["run", "examples.kiln", "--engine", engine], &env, None);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        let mut wrong = Vec::new();
        for (k, (name, expr, want)) in cases.iter().enumerate() {
            let got = std::fs::read_to_string(dir.path().join(format!("out/e{k}.jsonl")))
                .unwrap_or_default();
            if got.trim_end() != *want {
                wrong
                    .push(format!("{name}: `{expr}` gave {} (documented: {want})", got.trim_end()));
            }
        }
        assert!(wrong.is_empty(), "{engine}:\n{}", wrong.join("\n"));
    }
}
