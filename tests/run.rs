//! End-to-end tests of `kiln run`: every operator and its order guarantees, sources and
//! sinks, params, record errors (the errors sink and fail-fast), number formatting, and the
//! examples under examples/ compared byte for byte with their expected output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kiln_in(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the kiln binary runs");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).expect("stdin accepts the input");
    }
    child.wait_with_output().expect("kiln exits")
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Writes `pipeline` as p.kiln plus `files`, runs `kiln run p.kiln ARGS`.
fn run_with(
    pipeline: &str,
    files: &[(&str, &str)],
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.kiln", pipeline);
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    let mut all = vec!["run", "p.kiln"];
    all.extend_from_slice(args);
    let out = kiln_in(dir.path(), &all, env, stdin);
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (dir, r)
}

fn run(pipeline: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Run) {
    run_with(pipeline, files, &[], &[], None)
}

fn ok(pipeline: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let (dir, r) = run(pipeline, files);
    assert_eq!(r.code, 0, "stderr:\n{}", r.stderr);
    (dir, r.stdout)
}

#[test]
fn map_filter_flat_map_take_skip_batch_enumerate() {
    let (_d, out) = ok(
        r#"source xs: int = range(0, 10)
stage s = xs
  |> filter(x => x % 2 == 0)
  |> map(x => x * 10)
  |> flat_map(x => [x, x + 1])
  |> skip(1)
  |> take(6)
  |> batch(4)
  |> enumerate()
sink s -> stdout()
"#,
        &[],
    );
    assert_eq!(out, "{\"index\":0,\"item\":[1,20,21,40]}\n{\"index\":1,\"item\":[41,60]}\n");
}

#[test]
fn distinct_sort_by_and_union_keep_their_order() {
    let (_d, out) = ok(
        r#"type R = { k: str, v: int }
source rs: R = jsonl("r.jsonl")
stage d = rs |> distinct(r => r.k) |> map(r => r.v)
stage up = rs |> sort_by(r => r.k) |> map(r => r.v)
stage down = rs |> sort_by(r => r.k, desc: true) |> map(r => r.v)
stage all = union(d, union(up, down))
sink all -> stdout()
"#,
        &[(
            "r.jsonl",
            "{\"k\":\"b\",\"v\":1}\n{\"k\":\"a\",\"v\":2}\n{\"k\":\"b\",\"v\":3}\n{\"k\":\"a\",\"v\":4}\n{\"k\":\"c\",\"v\":5}\n",
        )],
    );
    // distinct: first of each key; sort: stable; desc keeps equal keys in input order.
    assert_eq!(out.lines().collect::<Vec<_>>().join(" "), "1 2 5 2 4 1 3 5 5 1 3 2 4");
}

#[test]
fn union_converts_the_elements_of_both_streams() {
    let (_d, out) = ok(
        r#"source xs: int = range(0, 2)
stage halves = xs |> map(x => float(x) + 0.5)
stage ints_first = union(xs, halves)
stage maybe = xs |> map(x => { v: if x > 0 { x } else { null } })
stage plain = xs |> map(x => { v: x })
stage records = union(plain, maybe)
sink ints_first -> stdout()
sink records -> jsonl("r.jsonl")
"#,
        &[],
    );
    // Ints widened to float print as floats, whichever side they are on.
    assert_eq!(out, "0.0\n1.0\n0.5\n1.5\n");
    for engine in ["jit", "interp"] {
        let (d, r) = run_with(
            r#"source xs: int = range(0, 2)
stage maybe = xs |> map(x => { v: if x > 0 { x } else { null } })
stage plain = xs |> map(x => { v: x })
stage records = union(plain, maybe)
sink records -> stdout()
"#,
            &[],
            &["--engine", engine],
            &[],
            None,
        );
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(r.stdout, "{\"v\":0}\n{\"v\":1}\n{\"v\":null}\n{\"v\":1}\n", "{engine}");
        drop(d);
    }
}

#[test]
fn group_by_and_aggregate() {
    let (dir, out) = ok(
        r#"type R = { k: str, v: int, f: float }
source rs: R = jsonl("r.jsonl")
stage g = rs |> group_by(r => r.k, n: count(), s: sum(r => r.v), m: mean(r => r.v),
  lo: min(r => r.f), hi: max(r => r.f), a: first(r => r.v), z: last(r => r.v), all: collect(r => r.v))
stage total = rs |> aggregate(n: count(), s: sum(r => r.f), lo: min(r => r.v))
stage none = rs |> filter(r => r.v > 100) |> aggregate(n: count(), s: sum(r => r.v),
  fs: sum(r => r.f), m: mean(r => r.v), lo: min(r => r.v), a: first(r => r.k), c: collect(r => r.v))
sink g -> stdout()
sink total -> jsonl("total.jsonl")
sink none -> jsonl("none.jsonl")
"#,
        &[(
            "r.jsonl",
            "{\"k\":\"x\",\"v\":1,\"f\":0.5}\n{\"k\":\"y\",\"v\":2,\"f\":2}\n{\"k\":\"x\",\"v\":4,\"f\":-1.5}\n",
        )],
    );
    assert_eq!(
        out,
        "{\"key\":\"x\",\"n\":2,\"s\":5,\"m\":2.5,\"lo\":-1.5,\"hi\":0.5,\"a\":1,\"z\":4,\"all\":[1,4]}\n\
         {\"key\":\"y\",\"n\":1,\"s\":2,\"m\":2.0,\"lo\":2.0,\"hi\":2.0,\"a\":2,\"z\":2,\"all\":[2]}\n"
    );
    assert_eq!(read(dir.path(), "total.jsonl"), "{\"n\":3,\"s\":1.0,\"lo\":1}\n");
    assert_eq!(
        read(dir.path(), "none.jsonl"),
        "{\"n\":0,\"s\":0,\"fs\":0.0,\"m\":null,\"lo\":null,\"a\":null,\"c\":[]}\n"
    );
}

#[test]
fn joins_follow_left_order_then_right_order() {
    let (dir, out) = ok(
        r#"type L = { id: int, k: int }
type Rt = { k: int, name: str }
source ls: L = jsonl("l.jsonl")
source rs: Rt = csv("r.csv")
stage inner = ls |> join(rs, l => l.k, r => r.k) |> map(p => str(p.left.id) + p.right.name)
stage outer = ls |> left_join(rs, l => l.k, r => r.k)
sink inner -> stdout()
sink outer -> jsonl("outer.jsonl")
"#,
        &[
            ("l.jsonl", "{\"id\":1,\"k\":2}\n{\"id\":2,\"k\":9}\n{\"id\":3,\"k\":1}\n"),
            ("r.csv", "k,name\n1,a\n2,b\n1,c\n2,d\n"),
        ],
    );
    assert_eq!(out, "\"1b\"\n\"1d\"\n\"3a\"\n\"3c\"\n");
    assert_eq!(
        read(dir.path(), "outer.jsonl"),
        "{\"left\":{\"id\":1,\"k\":2},\"right\":{\"k\":2,\"name\":\"b\"}}\n\
         {\"left\":{\"id\":1,\"k\":2},\"right\":{\"k\":2,\"name\":\"d\"}}\n\
         {\"left\":{\"id\":2,\"k\":9},\"right\":null}\n\
         {\"left\":{\"id\":3,\"k\":1},\"right\":{\"k\":1,\"name\":\"a\"}}\n\
         {\"left\":{\"id\":3,\"k\":1},\"right\":{\"k\":1,\"name\":\"c\"}}\n"
    );
}

#[test]
fn csv_in_and_out() {
    let (dir, _) = ok(
        r#"type C = { name: str, note: str?, n: int?, ok: bool, x: float }
source cs: C = csv("in.csv")
sink cs -> csv("out.csv")
sink cs |> map(c => { name: c.name, note: c.note, n: c.n }) -> jsonl("out.jsonl")
"#,
        &[(
            "in.csv",
            "extra,name,note,n,ok,x\r\n1,\"Smith, J.\",\"said \"\"hi\"\"\",7,true, 1.5\r\n2,plain,,,false,2\r\n3,\"multi\nline\",\"\",-3,true,1e2\r\n",
        )],
    );
    assert_eq!(
        read(dir.path(), "out.csv"),
        "name,note,n,ok,x\n\"Smith, J.\",\"said \"\"hi\"\"\",7,true,1.5\nplain,,,false,2.0\n\"multi\nline\",\"\",-3,true,100.0\n"
    );
    assert_eq!(
        read(dir.path(), "out.jsonl"),
        "{\"name\":\"Smith, J.\",\"note\":\"said \\\"hi\\\"\",\"n\":7}\n{\"name\":\"plain\",\"note\":null,\"n\":null}\n{\"name\":\"multi\\nline\",\"note\":\"\",\"n\":-3}\n"
    );
}

#[test]
fn csv_header_without_a_required_column_fails_before_reading() {
    let (_d, r) = run(
        "type C = { id: int, name: str }\nsource cs: C = csv(\"in.csv\")\nsink cs -> stdout()\n",
        &[("in.csv", "id,title\n1,x\n")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("E0608") && r.stderr.contains("no column `name`"), "{}", r.stderr);
}

const PARAMS: &str = r#"param n: int = 1
param label: str = "default"
param scale: float = 1.0
param on: bool = false
param tag: str? = null
source xs: int = range(0, n)
stage s = xs |> map(x => { x: x, label: label, y: float(x) * scale, on: on, tag: tag })
sink s -> stdout()
"#;

#[test]
fn params_from_the_cli_win_over_the_environment_over_defaults() {
    let (_d, r) = run_with(PARAMS, &[], &[], &[], None);
    assert_eq!(r.stdout, "{\"x\":0,\"label\":\"default\",\"y\":0.0,\"on\":false,\"tag\":null}\n");
    let env = [("KILN_PARAM_LABEL", "env"), ("KILN_PARAM_n", "2"), ("KILN_PARAM_TAG", "t")];
    let (_d, r) = run_with(
        PARAMS,
        &[],
        &["--param", "label=cli", "--param", "scale=2.5", "--param", "on=true"],
        &env,
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"x\":0,\"label\":\"cli\",\"y\":0.0,\"on\":true,\"tag\":\"t\"}\n{\"x\":1,\"label\":\"cli\",\"y\":2.5,\"on\":true,\"tag\":\"t\"}\n"
    );
}

#[test]
fn bad_and_missing_params_are_rejected_before_reading() {
    let (_d, r) = run_with(PARAMS, &[], &["--param", "n=two"], &[], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("E0609") && r.stderr.contains("param `n`"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let (_d, r) = run_with(PARAMS, &[], &["--param", "nope=1"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (_d, r) = run_with(PARAMS, &[], &["--param", "novalue"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let missing = "type R = { id: int }\nparam input: str\nsource rs: R = jsonl(input)\nsink rs -> stdout()\n";
    let (_d, r) = run(missing, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("E0307") && r.stderr.contains("`input`"), "{}", r.stderr);
    let (_d, r) = run_with(
        missing,
        &[("in.jsonl", "{\"id\":5}\n")],
        &["--param", "input=in.jsonl"],
        &[],
        None,
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"id\":5}\n"), "{}", r.stderr);
}

const FAILING: &str = r#"type R = { id: int, n: int, s: str }
source rs: R = jsonl("in.jsonl")
stage out = rs |> map(r => { id: r.id, q: 100 // r.n, v: parse_int(r.s) })
sink out -> stdout()
"#;

const FAILING_INPUT: &str = "{\"id\":1,\"n\":5,\"s\":\"7\"}\n\n{\"id\":2,\"n\":0,\"s\":\"1\"}\n{\"id\":3,\"n\":1,\"s\":\"x\"}\nnot json\n{\"id\":5,\"n\":2}\n{\"id\":6,\"n\":2,\"s\":\" 8 \"}\n";

#[test]
fn without_an_errors_sink_the_first_failure_stops_the_run() {
    let (_d, r) = run(FAILING, &[("in.jsonl", FAILING_INPUT)]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "{\"id\":1,\"q\":20,\"v\":7}\n");
    for want in [
        "E0601",
        "integer division by zero",
        "line 3 of in.jsonl",
        "stage `out`",
        "p.kiln:3:43",
        "100 // r.n",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?} in:\n{}", r.stderr);
    }
}

#[test]
fn with_an_errors_sink_every_failing_record_goes_there() {
    let pipeline = format!("{FAILING}sink errors -> jsonl(\"errors.jsonl\")\n");
    let (dir, r) = run(&pipeline, &[("in.jsonl", FAILING_INPUT)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"id\":1,\"q\":20,\"v\":7}\n{\"id\":6,\"q\":50,\"v\":8}\n");
    assert!(r.stderr.contains("4 records failed"), "{}", r.stderr);
    let errors = read(dir.path(), "errors.jsonl");
    let rows: Vec<serde_json::Value> =
        errors.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary: Vec<(i64, &str)> =
        rows.iter().map(|v| (v["line"].as_i64().unwrap(), v["stage"].as_str().unwrap())).collect();
    assert_eq!(summary, [(3, "out"), (4, "out"), (5, "rs"), (6, "rs")]);
    assert_eq!(rows[0]["source"], "in.jsonl");
    assert_eq!(rows[0]["raw"], "{\"id\":2,\"n\":0,\"s\":\"1\"}");
    assert!(rows[1]["message"].as_str().unwrap().contains("cannot parse \"x\" as an integer"));
    assert!(rows[2]["message"].as_str().unwrap().starts_with("invalid JSON"));
    assert_eq!(rows[3]["message"], "missing field `s`");
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["source", "line", "stage", "message", "raw"]);
}

/// docs/run.md, "Order of failures": one record's failures come stage by stage in plan
/// order (declaration order; a stage reading one declared after it comes after that one),
/// operator by operator, element by element; the sinks' order does not matter.
const ORDERED: &str = r#"source rs: { a: int, b: int } = jsonl("in.jsonl")
stage first = rs |> flat_map(r => [r.a, r.b]) |> map(x => 10 // x) |> map(q => 6 // (q - 5))
stage reads_later = later |> map(x => 4 // x)
stage later = rs |> map(r => r.a - 2)
stage nested = first |> map(q => 1 // (q + 6))
sink nested -> jsonl("nested.jsonl")
sink reads_later -> jsonl("reads_later.jsonl")
sink errors -> jsonl("errors.jsonl")
"#;

#[test]
fn one_records_failures_come_in_plan_order_on_both_engines() {
    for engine in ["interp", "jit"] {
        let (dir, r) = run_with(
            ORDERED,
            &[("in.jsonl", "{\"a\":2,\"b\":0}\n")],
            &["--engine", engine],
            &[],
            None,
        );
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        let errors = read(dir.path(), "errors.jsonl");
        let got: Vec<(String, String)> = errors
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = v["message"].as_str().unwrap();
                (v["stage"].as_str().unwrap().to_string(), m[..m.find(" (at").unwrap()].to_string())
            })
            .collect();
        // `first`'s first map fails on the second element, its second map on the first
        // element: operator by operator. `reads_later` comes after `later`, after `first`.
        let want: Vec<(String, String)> = [
            ("first", "integer division by zero: 10 // 0"),
            ("first", "integer division by zero: 6 // 0"),
            ("reads_later", "integer division by zero: 4 // 0"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want, "{engine}");
    }
}

#[test]
fn a_failure_once_the_errors_stream_ended_stops_the_run_on_both_engines() {
    // The group of key 0 (released when every source and the errors stream have ended)
    // fails: its error could not go to the errors stream any more.
    let pipeline = r#"source rs: { k: int, d: int } = jsonl("in.jsonl")
stage ok = rs |> map(r => { k: r.k, v: 10 // r.d })
stage errs = errors |> map(e => { k: 0, v: e.line })
stage both = ok |> union(errs) |> group_by(x => x.k, n: count()) |> map(g => { k: g.key, q: 6 // (g.n - 2) })
sink both -> stdout()
sink errors -> jsonl("errors.jsonl")
"#;
    let input = "{\"k\":1,\"d\":1}\n{\"k\":0,\"d\":0}\n{\"k\":0,\"d\":2}\n{\"k\":2,\"d\":1}\n";
    for engine in ["interp", "jit"] {
        let (dir, r) = run_with(pipeline, &[("in.jsonl", input)], &["--engine", engine], &[], None);
        assert_eq!(r.code, 1, "{engine}: {}", r.stderr);
        assert_eq!(r.stdout, "{\"k\":1,\"q\":-6}\n", "{engine}");
        assert!(r.stderr.contains("cannot go to the errors stream"), "{engine}: {}", r.stderr);
        assert_eq!(read(dir.path(), "errors.jsonl").lines().count(), 1, "{engine}");
    }
}

#[test]
fn malformed_records_follow_the_input_rules() {
    let pipeline = "type R = { id: int, v: vec[2]?, t: [str]? }\nsource rs: R = jsonl(\"in.jsonl\")\nsink rs -> stdout()\nsink errors -> jsonl(\"e.jsonl\")\n";
    let input = "{\"id\":1.5}\n{\"id\":1e3}\n{\"id\":99999999999999999999}\n{\"id\":1,\"v\":[1,2,3]}\n{\"id\":2,\"v\":[1,\"a\"]}\n{\"id\":3,\"t\":[\"a\",3]}\n[1]\n{\"id\":4,\"v\":[0.1,2],\"unused\":{\"deep\":[1,{}]}}\n\u{feff}\n";
    let (dir, r) = run(pipeline, &[("in.jsonl", input)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"id\":4,\"v\":[0.1,2.0],\"t\":null}\n");
    let msgs: Vec<String> = read(dir.path(), "e.jsonl")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["message"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(msgs[0], "field `id`: expected an integer, found 1.5");
    assert!(msgs[2].ends_with("is out of range for int"), "{}", msgs[2]);
    assert_eq!(msgs[3], "field `v`: expected an array of 2 numbers, found 3");
    assert_eq!(msgs[5], "field `t[1]`: expected a string, found 3");
    assert_eq!(msgs[6], "expected an object, found an array");
    assert_eq!(msgs.len(), 8, "{msgs:?}");
}

#[test]
fn empty_inputs_and_standard_input() {
    let pipeline = "type R = { id: int }\nsource rs: R = jsonl(\"-\")\nstage n = rs |> aggregate(n: count(), s: sum(r => r.id))\nsink n -> stdout()\n";
    let (_d, r) = run_with(pipeline, &[], &[], &[], Some(""));
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"n\":0,\"s\":0}\n"), "{}", r.stderr);
    let (_d, r) = run_with(pipeline, &[], &[], &[], Some("{\"id\":2}\r\n\r\n{\"id\":3}"));
    assert_eq!(r.stdout, "{\"n\":2,\"s\":5}\n");
    let (_d, r) = run(
        "type R = { id: int }\nsource rs: R = csv(\"e.csv\")\nsink rs -> csv(\"o.csv\")\n",
        &[("e.csv", "")],
    );
    // A CSV source needs its header row: an empty file is an error, not an empty input.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("a CSV source needs a header row"), "{}", r.stderr);
}

#[test]
fn unicode_text_and_number_formatting() {
    let (dir, out) = ok(
        r#"source ls: str = lines("in.txt")
stage s = ls |> map(l => { l: l, n: len(l), up: upper(l), rev: reverse(l), t: tokens(l), sub: substr(l, 1, 2) })
stage nums = range(0, 1) |> map(i => { a: 0.1 + 0.2, b: 2.0, c: 1e308 * 10.0, d: sqrt(-1.0), e: 1.0 / 3.0,
  f: 1e-7, g: -0.0, h: 9007199254740993, v: vec[2]([0.1, 1e10]), w: float(i) })
sink s -> stdout()
sink nums -> jsonl("nums.jsonl")
sink ls -> lines("copy.txt")
"#,
        &[("in.txt", "\u{feff}Grüße, 世界 😀\n\ntab\there\n")],
    );
    assert_eq!(
        out,
        "{\"l\":\"Grüße, 世界 😀\",\"n\":11,\"up\":\"GRÜSSE, 世界 😀\",\"rev\":\"😀 界世 ,eßürG\",\"t\":[\"grüße\",\"世界\"],\"sub\":\"rü\"}\n\
         {\"l\":\"\",\"n\":0,\"up\":\"\",\"rev\":\"\",\"t\":[],\"sub\":\"\"}\n\
         {\"l\":\"tab\\there\",\"n\":8,\"up\":\"TAB\\tHERE\",\"rev\":\"ereh\\tbat\",\"t\":[\"tab\",\"here\"],\"sub\":\"ab\"}\n"
    );
    assert_eq!(
        read(dir.path(), "nums.jsonl"),
        "{\"a\":0.30000000000000004,\"b\":2.0,\"c\":null,\"d\":null,\"e\":0.3333333333333333,\"f\":1e-7,\"g\":-0.0,\"h\":9007199254740993,\"v\":[0.1,10000000000.0],\"w\":0.0}\n"
    );
    assert_eq!(read(dir.path(), "copy.txt"), "Grüße, 世界 😀\n\ntab\there\n");
}

/// Both engines render templates as LANGUAGE.md §3 says (the JIT natively,
/// `codegen/expr/prompts.rs`): tag-only lines dropped,
/// trim markers, numbers as in JSON output, lists and records as compact JSON, filters
/// as calls (builtins and the pipeline's functions), loops with `loop`, prompts in
/// `.prompt` files and inline, and a prompt calling itself.
#[test]
fn prompts_render_on_both_engines() {
    let pipeline = r####"type Review = { id: int, text: str, stars: int, title: str?, tags: [str]? }
fn clean(s: str) -> str = s |> trim |> lower
const MAX = 5
prompt summarize = "summarize.prompt"
prompt line(r: Review) = """#{{ r.id }} {{ r.stars / MAX }} {{ r }} {{- " " -}} {{ [0.1 + 0.2, 2.0] }}"""
prompt countdown(n: int) = "{{ n }}{% if n > 0 %},{{ countdown(n - 1) }}{% end %}"
source reviews: Review = jsonl("reviews.jsonl")
stage out = reviews |> map(r => summarize(r, 20) + line(r) + "|" + countdown(2))
sink out -> lines("-")
"####;
    let prompt = r####"---
params:
  review: "{ id: int, text: str, stars: int, title: str?, tags: [str]? }"
  words: int
---
{# a comment line #}
Summarize #{{ review.id }} in {{ words }} words:
{{ review.text | clean | truncate(12) }}
{% if review.title != null %}
  Title: {{ review.title }}
{% else if review.stars < 3 %}
  Focus on what went wrong.
{% end %}
{% for t in review.tags ?? [] %}
{{ loop.index }}. {{ t | upper }}{% if not loop.last %},{% end %}
{% end %}
"####;
    let reviews = r#"{"id": 1, "text": "  GREAT Value, would buy  ", "stars": 4, "title": "Nice", "tags": ["a", "b"]}
{"id": 2, "text": "meh", "stars": 2}
"#;
    let files = [("summarize.prompt", prompt), ("reviews.jsonl", reviews)];
    let want = r#"Summarize #1 in 20 words:
great value,
  Title: Nice
0. A,
1. B
#1 0.8 {"id":1,"text":"  GREAT Value, would buy  ","stars":4,"title":"Nice","tags":["a","b"]} [0.30000000000000004,2.0]|2,1,0
Summarize #2 in 20 words:
meh
  Focus on what went wrong.
#2 0.4 {"id":2,"text":"meh","stars":2,"title":null,"tags":null} [0.30000000000000004,2.0]|2,1,0
"#;
    for args in [&["--engine", "interp"][..], &[], &["--threads", "2"]] {
        let (_d, r) = run_with(pipeline, &files, args, &[], None);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, want, "{args:?}");
    }
}

/// An expression the JIT cannot compile (a comparison of lists of `null`, which have no
/// run-time layout): `--engine jit` refuses the pipeline before running anything (E0610),
/// the default engine warns and runs it on the interpreter; compiled code never calls
/// the interpreter.
#[test]
fn an_expression_the_jit_cannot_compile_is_refused_not_bridged() {
    // Row-dependent, so constant folding cannot compute it ahead.
    let text = "source one: int = range(0, 2)\nstage s = one |> map(x => [null] == (if x > 5 { [] } else { [null] }))\nsink s -> stdout()\n";
    let (_d, r) = run_with(text, &[], &["--engine", "jit"], &[], None);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(
        r.stderr.contains("error[E0610]: the JIT cannot compile `==` on `[null]`"),
        "{}",
        r.stderr
    );
    let (_d, r) = run_with(text, &[], &[], &[], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\ntrue\n"), "{}", r.stderr);
    assert!(r.stderr.contains("warning[E0610]"), "{}", r.stderr);
    let (_d, r) = run_with(text, &[], &["--quiet"], &[], None);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn compile_errors_missing_files_threads_and_quiet() {
    let (_d, r) = run("source xs: int = range(0, 3)\nsink ys -> stdout()\n", &[]);
    assert_eq!(r.code, 1);
    let (_d, r) = run(
        "type R = { id: int }\nsource rs: R = jsonl(\"nope.jsonl\")\nsink rs -> stdout()\n",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("E0608") && r.stderr.contains("no such file"), "{}", r.stderr);
    let p = "source xs: int = range(0, 3)\nstage unused = xs |> take(1)\nsink xs -> stdout()\n";
    let (_d, r) = run_with(p, &[], &["--threads", "4"], &[], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "0\n1\n2\n"));
    assert!(r.stderr.contains("W0001"), "{}", r.stderr);
    let (_d, r) = run_with(p, &[], &["--quiet"], &[], None);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let (_d, r) = run_with(p, &[], &["--threads", "0"], &[], None);
    assert_eq!(r.code, 2);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "expected" || name == "out" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

#[test]
fn examples_produce_their_expected_output() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs {
        let expected = dir.join("expected");
        if !expected.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&dir, tmp.path());
        let file = format!("{name}.kiln");
        let mut args = vec!["run", file.as_str()];
        // An example that calls a model replays its committed cache: no network.
        if dir.join("kiln.toml").is_file() {
            args.push("--offline");
        }
        let out = kiln_in(tmp.path(), &args, &[("KILN_CACHE_DIR", "")], None);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&expected).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let file = f.file_name().unwrap().to_string_lossy().into_owned();
            let want = std::fs::read(&f).unwrap();
            let got = if file == "stdout" {
                out.stdout.clone()
            } else {
                std::fs::read(tmp.path().join("out").join(&file)).unwrap_or_default()
            };
            assert!(
                got == want,
                "{name}/{file} differs:\n--- expected\n{}\n--- got\n{}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            );
        }
        let produced = std::fs::read_dir(tmp.path().join("out")).map(|d| d.count()).unwrap_or(0);
        let listed = std::fs::read_dir(&expected)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "stdout")
            .count();
        assert_eq!(produced, listed, "{name}: out/ and expected/ hold different files");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} examples");
}

/// The UI inputs for the codes only `kiln run` reports (E06xx, E0307; tests/ui.rs checks
/// that they check cleanly): run with a fitting input, each reports its code, on both
/// engines. Every such code of the registry has a case here, except internal errors.
#[test]
fn runtime_ui_inputs_report_their_codes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        ("e0307", &[], &[]),
        ("e0600", &[("rows.jsonl", "{\"n\": 4000000000}\n")], &[]),
        ("e0601", &[("rows.jsonl", "{\"total\": 1, \"count\": 0}\n")], &[]),
        ("e0602", &[("app.log", "single\n")], &[]),
        ("e0603", &[("rows.jsonl", "{\"xs\": [1, 2]}\n")], &[]),
        ("e0604", &[("numbers.txt", "12\nx\n")], &[]),
        ("e0605", &[("rows.jsonl", "{\"scores\": []}\n")], &[]),
        ("e0606", &[], &[]),
        ("e0607", &[("reviews.jsonl", "{\"id\": 7}\n")], &[]),
        ("e0608", &[], &[]),
        ("e0609", &[], &["--param", "limit=ten"]),
        ("e0610", &[], &[]),
        (
            "e0614",
            &[
                ("names.txt", "Ada\n"),
                (
                    "kiln.toml",
                    "[models.default]\nbase_url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\nretries = 0\n",
                ),
            ],
            &["--no-cache"],
        ),
        ("e0613", &[("rows.jsonl", "{\"n\": 3}\n{\"n\": -1}\n")], &[]),
        (
            "e0612",
            &[
                ("needs_many_cores.af", include_str!("ui/runtime/needs_many_cores.af")),
                ("rows.jsonl", "{\"x\": [1, 2]}\n"),
            ],
            &[],
        ),
    ];
    // Internal errors (a bug in Kiln) have no input that produces them.
    const INTERNAL: &[&str] = &["E0611"];
    for code in kiln::diag::codes::ALL.iter().map(|c| c.as_str()) {
        let run_only = code.starts_with("E06") || code == "E0307";
        let covered = cases.iter().any(|(c, ..)| c.eq_ignore_ascii_case(code));
        assert_eq!(run_only && !INTERNAL.contains(&code), covered, "{code}: add or drop its case");
    }
    for (code, files, args) in cases {
        let file = ["runtime", "pipeline"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{code}_")))
            .unwrap_or_else(|| panic!("no UI input for {code}"));
        let text = std::fs::read_to_string(&file).unwrap();
        // E0610 is the JIT refusing an expression: the interpreter runs it.
        let engines: &[&str] = if *code == "e0610" { &["jit"] } else { &["interp", "jit"] };
        for &engine in engines {
            let mut all = vec!["--engine", engine];
            all.extend_from_slice(args);
            let (_d, r) = run_with(&text, files, &all, &[], None);
            assert_eq!(r.code, 1, "{code} ({engine}): {}", r.stderr);
            let want = format!("error[{}]", code.to_uppercase());
            assert!(r.stderr.contains(&want), "{code} ({engine}): {}", r.stderr);
        }
    }
}

#[test]
fn agents_run_their_forward_pass() {
    let agents = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/agents");
    let dir = tempfile::tempdir().unwrap();
    for f in ["digits.af", "digits_test.jsonl"] {
        std::fs::copy(agents.join(f), dir.path().join(f)).unwrap();
    }
    write(
        dir.path(),
        "p.kiln",
        r#"agent digits = "digits.af"
type Row = { x: vec[64], label: int }
source rows: Row = jsonl("digits_test.jsonl")
stage acc = rows
  |> map(r => { label: r.label, p: digits(r.x) })
  |> aggregate(n: count(), right: sum(r => if argmax(r.p) == r.label { 1 } else { 0 }),
       total: sum(r => sum(r.p)))
sink acc -> stdout()
"#,
    );
    let out = kiln_in(dir.path(), &["run", "p.kiln"], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["n"], 359);
    assert!(v["right"].as_i64().unwrap() > 330, "{v}");
    // Softmax outputs sum to 1 per row.
    assert!((v["total"].as_f64().unwrap() - 359.0).abs() < 0.01, "{v}");
}

/// Issue 17 item 9: `<` on optionals orders null first (as `sort_by`), `min`/`max` skip
/// nulls, and a narrowed `param`/`const` is its value; both engines agree.
#[test]
fn optionals_order_null_first_and_min_max_skip_nulls() {
    let pipeline = r#"type Row = { id: int, s: float? }
param cut: float? = null
const two: int? = 2
source rows: Row = jsonl("rows.jsonl")
stage lt = rows |> map(r => { id: r.id, lt: r.s < 1.0, gt: r.s > cut })
stage agg = rows |> aggregate(lo: min(r => r.s), hi: max(r => r.s), n: count())
stage lists = rows |> take(1) |> map(r => { a: min([null, 3, 1]), b: max([null, two]) })
stage narrowed = rows |> take(1) |> map(r => if cut != null { cut } else { if two != null { float(two + 1) } else { 0.0 } })
sink lt -> stdout()
sink agg -> jsonl("agg.jsonl")
sink lists -> jsonl("lists.jsonl")
sink narrowed -> jsonl("narrowed.jsonl")
"#;
    let rows = "{\"id\": 1, \"s\": null}\n{\"id\": 2, \"s\": 0.5}\n{\"id\": 3, \"s\": 2.0}\n";
    for engine in ["interp", "jit"] {
        let (d, r) = run_with(pipeline, &[("rows.jsonl", rows)], &["--engine", engine], &[], None);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(
            r.stdout,
            "{\"id\":1,\"lt\":true,\"gt\":false}\n{\"id\":2,\"lt\":true,\"gt\":true}\n\
             {\"id\":3,\"lt\":false,\"gt\":true}\n",
            "{engine}"
        );
        assert_eq!(read(d.path(), "agg.jsonl"), "{\"lo\":0.5,\"hi\":2.0,\"n\":3}\n", "{engine}");
        assert_eq!(read(d.path(), "lists.jsonl"), "{\"a\":1,\"b\":2}\n", "{engine}");
        assert_eq!(read(d.path(), "narrowed.jsonl"), "3.0\n", "{engine}");
    }
}

/// Issue 17 item 18: an int aggregate that overflows is the user's E0600 on both engines;
/// E0611 is kept for internal errors.
#[test]
fn aggregate_overflow_is_e0600_not_an_internal_error() {
    let pipeline = r#"type Row = { n: int }
source rows: Row = jsonl("rows.jsonl")
stage total = rows |> group_by(r => 1, s: sum(r => r.n))
sink total -> stdout()
"#;
    let rows = "{\"n\": 9223372036854775807}\n{\"n\": 1}\n";
    for engine in ["interp", "jit"] {
        let (_d, r) = run_with(pipeline, &[("rows.jsonl", rows)], &["--engine", engine], &[], None);
        assert_eq!(r.code, 1, "{engine}: {}", r.stderr);
        assert!(r.stderr.contains("error[E0600]: integer overflow"), "{engine}: {}", r.stderr);
        assert!(!r.stderr.contains("E0611"), "{engine}: {}", r.stderr);
    }
}

/// Issue 17 items 7 and 10: JSON numbers are read correctly rounded and JSON `-0` is the
/// int 0 (the float -0.0 in a float field), on both engines.
#[test]
fn json_numbers_read_exactly_on_both_engines() {
    let pipeline = r#"type P = { i: int, x: float }
source src: P = jsonl("p.jsonl")
sink src -> stdout()
"#;
    let data = "{\"i\": -0, \"x\": -97.72015183993683}\n{\"i\": 1, \"x\": -0}\n";
    for engine in ["interp", "jit"] {
        let (_d, r) = run_with(pipeline, &[("p.jsonl", data)], &["--engine", engine], &[], None);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(
            r.stdout, "{\"i\":0,\"x\":-97.72015183993683}\n{\"i\":1,\"x\":-0.0}\n",
            "{engine}"
        );
    }
}

/// Issue 17 items 3, 12, 22 (LANGUAGE.md §1.5): exact sums, on both engines. Float sums and
/// means are correctly rounded (as Python's `math.fsum`), an int mean is the exact total
/// over the count, an int sum may leave `int` and come back, and a group whose total does
/// not fit is one error record with the group's first line.
#[test]
fn sums_are_exact_on_both_engines() {
    let pipeline = r#"type R = { k: int, v: int, x: float }
source src: R = jsonl("r.jsonl")
stage g = src |> group_by(r => r.k, s: sum(r => r.v), m: mean(r => r.v), f: sum(r => r.x))
stage l = src |> aggregate(xs: collect(r => r.x))
  |> map(a => { s: sum(a.xs), m: mean(a.xs), big: sum([1e100, 1.0, -1e100, 1e-100]) })
sink g -> stdout()
sink l -> jsonl("l.jsonl")
sink errors -> jsonl("errors.jsonl")
"#;
    let max = i64::MAX;
    let p = 9007199254740993i64; // 2^53 + 1
    let data = format!(
        "{{\"k\": 1, \"v\": {max}, \"x\": 0.1}}\n{{\"k\": 2, \"v\": {p}, \"x\": 0.1}}\n\
         {{\"k\": 1, \"v\": 1, \"x\": 0.1}}\n{{\"k\": 2, \"v\": {p}, \"x\": 0.1}}\n\
         {{\"k\": 1, \"v\": -2, \"x\": 0.1}}\n{{\"k\": 2, \"v\": 1, \"x\": 0.1}}\n\
         {{\"k\": 3, \"v\": {max}, \"x\": 0.1}}\n{{\"k\": 2, \"v\": 1, \"x\": 0.1}}\n\
         {{\"k\": 3, \"v\": 1, \"x\": 0.1}}\n{{\"k\": 3, \"v\": 5, \"x\": 0.1}}\n"
    );
    for engine in ["interp", "jit"] {
        let (d, r) = run_with(
            pipeline,
            &[("r.jsonl", &data)],
            &["--engine", engine, "--threads", "2"],
            &[("KILN_CHUNK_SIZE", "64")],
            None,
        );
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(
            r.stdout,
            "{\"key\":1,\"s\":9223372036854775806,\"m\":3.0744573456182584e18,\"f\":0.30000000000000004}\n\
             {\"key\":2,\"s\":18014398509481988,\"m\":4503599627370497.0,\"f\":0.4}\n",
            "{engine}"
        );
        assert_eq!(read(d.path(), "l.jsonl"), "{\"s\":1.0,\"m\":0.1,\"big\":1.0}\n", "{engine}");
        let errors = read(d.path(), "errors.jsonl");
        assert_eq!(
            errors,
            "{\"source\":\"r.jsonl\",\"line\":7,\"stage\":\"g\",\"message\":\"integer overflow: \
             the sum 9223372036854775813 does not fit in int\",\"raw\":\"{\\\"k\\\": 3, \\\"v\\\": \
             9223372036854775807, \\\"x\\\": 0.1}\"}\n",
            "{engine}"
        );
    }
}

/// Plan arguments that read params (`range` bounds, `take`/`batch` counts, `desc:`, a sink
/// path) are computed when the run starts, by compiled code on the JIT: one compiled
/// program, any param values. A failing one stops the run before any sink creates its
/// file, on both engines.
#[test]
fn plan_arguments_read_params_when_the_run_starts() {
    let text = "param n: int = 2\nparam out: str = \"o.jsonl\"\nparam d: bool = false\n\
                source xs: int = range(0, n * 3)\n\
                stage s = xs |> sort_by(x => x, desc: d) |> take(n + 1) |> batch(n - 1)\n\
                sink s -> jsonl(out)\nsink s -> stdout()\n";
    for engine in ["jit", "interp"] {
        let e = ["--engine", engine];
        let (d, r) = run_with(text, &[], &e, &[], None);
        assert_eq!((r.code, r.stdout.as_str()), (0, "[0]\n[1]\n[2]\n"), "{engine}: {}", r.stderr);
        assert_eq!(read(d.path(), "o.jsonl"), "[0]\n[1]\n[2]\n");
        let args = [&e[..], &["--param", "n=3", "--param", "d=true"]].concat();
        let (_d, r) = run_with(text, &[], &args, &[("KILN_PARAM_out", "x.jsonl")], None);
        assert_eq!((r.code, r.stdout.as_str()), (0, "[8,7]\n[6,5]\n"), "{engine}: {}", r.stderr);
        for (n, words) in [
            ("1", "error[E0606]: `batch` needs a positive size, found 0"),
            ("4611686018427387904", "error[E0600]: integer overflow: 4611686018427387904 * 3"),
        ] {
            let given = format!("n={n}");
            let args = [&e[..], &["--param", &given]].concat();
            let (d, r) = run_with(text, &[("o.jsonl", "keep\n")], &args, &[], None);
            assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{engine} {n}");
            assert!(r.stderr.contains(words), "{engine} {n}: {}", r.stderr);
            assert!(r.stderr.contains("could start"), "{engine} {n}: {}", r.stderr);
            assert_eq!(read(d.path(), "o.jsonl"), "keep\n", "{engine} {n}: the sink's file");
        }
    }
}
