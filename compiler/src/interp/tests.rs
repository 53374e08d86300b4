//! Every builtin's documented examples, evaluated by the interpreter and compared with
//! their expected JSON text; and a few semantics the examples do not cover.

use super::value::write_json;
use super::{Interp, Value};
use crate::ir::{NodeKind, Op};

/// Evaluates `expr` (inside a `map` lambda, so lists and lambdas work as in a stage) and
/// returns its JSON text, or the error message.
fn eval_json(expr: &str) -> Result<String, String> {
    let text = format!(
        "source one: int = range(0, 1)\nstage s = one |> map(_z => {expr})\nsink s -> discard()\n"
    );
    let mut s = crate::driver::Session::new();
    let m = s.load_text("example.kiln", &text);
    let program = s.check(m);
    let run = s.finish();
    if run.has_errors() {
        let msgs: Vec<String> = run.diagnostics.iter().map(|d| d.message.clone()).collect();
        return Err(format!("does not check: {}", msgs.join("; ")));
    }
    let p = crate::ir::lower::lower(&program);
    let f = p
        .graph
        .node_indices()
        .find_map(|n| match &p.graph[n].kind {
            NodeKind::Stage { ops, .. } => ops.iter().find_map(|o| match o {
                Op::Map(f) => Some(f.clone()),
                _ => None,
            }),
            _ => None,
        })
        .ok_or("no map")?;
    let mut cx = Interp::new(&p, Vec::new());
    let v = cx.apply_row(&f, Value::Int(0)).map_err(|e| format!("{} ({})", e.message, e.code))?;
    let mut out = Vec::new();
    write_json(&v, &f.body.ty, &mut out);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn check_all(cases: &[(&str, &str)]) -> Vec<String> {
    let cases: Vec<(String, String)> =
        cases.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    crate::driver::with_big_stack(move || {
        cases
            .iter()
            .filter_map(|(expr, want)| match eval_json(expr) {
                Ok(got) if got == *want => None,
                Ok(got) => Some(format!("`{expr}`: expected {want}, got {got}")),
                Err(e) => Some(format!("`{expr}`: {e}")),
            })
            .collect()
    })
}

#[test]
fn every_builtin_example_evaluates_to_its_documented_value() {
    let mut cases = Vec::new();
    for b in crate::builtins::ALL {
        cases.extend(b.examples.iter().copied());
    }
    assert!(cases.len() > 60, "only {} examples", cases.len());
    let failures = check_all(&cases);
    assert!(failures.is_empty(), "examples that fail:\n{}", failures.join("\n"));
}

#[test]
fn semantics_beyond_the_examples() {
    let failures = check_all(&[
        ("7 // 2", "3"),
        ("-7 // 2", "-4"),
        ("-7 % 2", "1"),
        ("7 % -2", "-1"),
        ("-7.5 % 2.0", "0.5"),
        ("7 / 2", "3.5"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1.0 / 0.0", "null"),
        ("round(0.5)", "1.0"),
        ("round(-0.5)", "-1.0"),
        ("int(-0.9)", "0"),
        ("substr(\"héllo\", -2, 3)", "\"hél\""),
        ("truncate(\"ab\", -1)", "\"\""),
        ("split(\"añb\", \"\")", "[\"a\",\"ñ\",\"b\"]"),
        ("\"b\" < \"a\"", "false"),
        ("[1, 2] < [1, 2, 0]", "true"),
        ("{ a: 1, b: [2] } == { a: 1, b: [2] }", "true"),
        ("sort([\"b\", \"A\", \"a\", \"é\"])", "[\"A\",\"a\",\"b\",\"é\"]"),
        ("vec[2]([1, 2]) + 1", "[2.0,3.0]"),
        ("2 * vec[2]([1.5, 2])", "[3.0,4.0]"),
        ("to_list(softmax(vec[2]([0, 0])))", "[0.5,0.5]"),
        ("tokens(\"Ünïcode_text 42x\")", "[\"ünïcode\",\"text\",\"42x\"]"),
        ("hash_embed(\"b a\", 4) == hash_embed(\"a b\", 4)", "true"),
        ("norm(hash_embed(\"x y z\", 16)) > 0.999", "true"),
        ("[1, 2, 3, 4, 5] |> batch(2) |> map(b => sum(b))", "[3,7,5]"),
        ("[3, 1, 2, 1] |> sort_by(x => x)", "[1,1,2,3]"),
        (
            "[{a: 1, b: 1}, {a: 0, b: 2}, {a: 1, b: 3}] |> sort_by(x => x.a, desc: true) |> map(x => x.b)",
            "[1,3,2]",
        ),
        (
            "[1] |> filter(x => x > 1) |> aggregate(n: count(), s: sum(x => x), m: mean(x => x), lo: min(x => x))",
            "{\"n\":0,\"s\":0,\"m\":null,\"lo\":null}",
        ),
        (
            "[1, 2] |> left_join([{k: 1, v: \"a\"}, {k: 1, v: \"b\"}], l => l, r => r.k) |> map(p => p.right)",
            "[{\"k\":1,\"v\":\"a\"},{\"k\":1,\"v\":\"b\"},null]",
        ),
        ("str({ a: 1.0, b: [null, \"x\"] })", "\"{\\\"a\\\":1.0,\\\"b\\\":[null,\\\"x\\\"]}\""),
        ("parse_float(\" -1.5e2 \")", "-150.0"),
        ("max([\"b\", \"c\", \"a\"])", "\"c\""),
        ("clamp(5, 7, 9)", "7"),
        ("contains([[1], [2]], [2])", "true"),
    ]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn run_time_errors_carry_a_code_and_a_message() {
    let cases = [
        ("9223372036854775807 + 1", "E0600"),
        ("1 // (1 - 1)", "E0601"),
        ("[1, 2][2]", "E0602"),
        ("[1][-1]", "E0602"),
        ("int(0.0 / 0.0)", "E0603"),
        ("int(1e19)", "E0603"),
        ("vec[3]([1, 2])", "E0603"),
        ("parse_int(\"4x\")", "E0604"),
        ("parse_int(\"99999999999999999999\")", "E0604"),
        ("parse_float(\"nan\")", "E0604"),
        ("max([1] |> filter(x => x > 1))", "E0605"),
        ("[1] |> batch(len(\"\"))", "E0606"),
        ("abs(-9223372036854775807 - 1)", "E0600"),
        ("sum([9223372036854775807, 1])", "E0600"),
    ];
    let cases: Vec<(String, String)> =
        cases.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let failures: Vec<String> = crate::driver::with_big_stack(move || {
        cases
            .iter()
            .filter_map(|(expr, code)| match eval_json(expr) {
                Err(e) if e.contains(&format!("({code})")) => None,
                other => Some(format!("`{expr}`: expected {code}, got {other:?}")),
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
