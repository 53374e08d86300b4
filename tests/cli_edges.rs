//! Rough edges a new user meets on the command line (issue 17): a closed standard output,
//! `--quiet`, files that are not pipelines, missing files, and messages for bad values.

mod support;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{ENGINES, folder, kiln, write};

#[test]
fn a_closed_standard_output_stops_the_run_quietly() {
    let p = "source xs: int = range(0, 100000000)\nsink xs |> map(x => { a: x }) -> stdout()\n";
    for engine in ENGINES {
        let dir = folder(&[("p.kiln", p)]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["run", "p.kiln"])
            .args(engine)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert_eq!(first, "{\"a\":0}\n");
        // The reader is dropped here, as `head -1` exits.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{engine:?}: {stderr}");
        assert_eq!(stderr, "", "{engine:?}");
    }
}

#[test]
fn quiet_hides_the_errors_sink_note() {
    let p = "source xs: str = lines(\"in.txt\")\nsink xs |> map(s => parse_int(s)) -> stdout()\n\
             sink errors -> jsonl(\"errors.jsonl\")\n";
    for engine in ENGINES {
        let dir = folder(&[("p.kiln", p), ("in.txt", "1\nx\n")]);
        let mut args = vec!["run", "p.kiln"];
        args.extend_from_slice(engine);
        let loud = kiln(dir.path(), &args, &[], None);
        assert!(loud.stderr.contains("note: 1 record failed"), "{}", loud.stderr);
        args.push("--quiet");
        let quiet = kiln(dir.path(), &args, &[], None);
        assert_eq!((quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()), (0, "1\n", ""));
    }
}

#[test]
fn a_pipeline_without_sinks_is_an_error_to_run() {
    let dir = folder(&[("p.kiln", "source xs: int = range(0, 3)\nstage s = xs |> map(x => x)\n")]);
    let r = kiln(dir.path(), &["run", "p.kiln"], &[], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("p.kiln declares no sink, so there is nothing to run"),
        "{}",
        r.stderr
    );
}

#[test]
fn run_and_view_take_one_pipeline_file() {
    let dir = folder(&[("m.af", "name: m\n"), ("t.prompt", "---\n---\nhi\n"), ("d.jsonl", "{}\n")]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for cmd in ["run", "view"] {
        for (file, words) in [
            ("missing.kiln", "missing.kiln: no such file or folder"),
            (
                "m.af",
                "m.af: is an agent file, not a pipeline: use it from a pipeline with `agent NAME = \"m.af\"`",
            ),
            ("t.prompt", "t.prompt: is a prompt template, not a pipeline"),
            (
                "d.jsonl",
                "d.jsonl: is data, not a pipeline: read it from a pipeline with `source rows: T = jsonl(\"d.jsonl\")`",
            ),
            ("sub", "sub: is a folder"),
        ] {
            let r = kiln(dir.path(), &[cmd, file], &[], None);
            assert_eq!(r.code, 2, "{cmd} {file}: {}", r.stderr);
            assert!(r.stderr.contains(words), "{cmd} {file}: {}", r.stderr);
        }
    }
    let r = kiln(dir.path(), &["check", "missing.kiln"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn repl_reads_standard_input_when_it_is_not_a_terminal() {
    let dir = folder(&[]);
    let r = kiln(dir.path(), &["repl"], &[], Some("fn sq(x: int) -> int = x * x\nsq(12)\n"));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "defined sq : (int) -> int\n144 : int\n"),
        "{}",
        r.stderr
    );
    let r = kiln(dir.path(), &["repl"], &[], None);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
}

#[test]
fn param_values_out_of_range_say_so() {
    let p = "param n: int = 3\nparam f: float? = 1.0\nsource xs: int = range(0, n)\n\
             sink xs |> map(x => f ?? 0.0) -> stdout()\n";
    let dir = folder(&[("p.kiln", p)]);
    for (args, env, words) in [
        (
            &["--param", "n=99999999999999999999"][..],
            &[][..],
            "invalid value for param `n`: 99999999999999999999 is out of range for int, which holds -9223372036854775808 to 9223372036854775807 (from --param n)",
        ),
        (
            &[],
            &[("KILN_PARAM_N", "-99999999999999999999")],
            "-99999999999999999999 is out of range for int",
        ),
        (
            &["--param", "f=1e999"],
            &[],
            "invalid value for param `f`: 1e999 is out of range for float (from --param f)",
        ),
        (&["--param", "f=x"], &[], "expected a number or `null`, found \"x\""),
        (&["--param", "n=x"], &[], "expected an integer, found \"x\""),
    ] {
        let mut all = vec!["run", "p.kiln"];
        all.extend_from_slice(args);
        let r = kiln(dir.path(), &all, env, None);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    }
}

/// The format's reference file (LANGUAGE.md §2, `shared/formats/agent-v1.af`, copied here
/// verbatim) checks with no error and no warning, and `kiln train` trains it.
#[test]
fn the_reference_agent_file_checks_cleanly_and_trains() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let copy = std::fs::read_to_string(root.join("tests/ui/agents/reference_agent_v1.af")).unwrap();
    if let Ok(shared) = std::fs::read_to_string(root.join("../shared/formats/agent-v1.af")) {
        assert_eq!(
            copy, shared,
            "tests/ui/agents/reference_agent_v1.af is no longer the shared file"
        );
    }
    let mut rows = String::new();
    for i in 0..20 {
        let x: Vec<String> =
            (0..784).map(|j| format!("{}", ((i * 7 + j) % 13) as f32 / 13.0)).collect();
        rows.push_str(&format!("{{\"x\":[{}],\"label\":{}}}\n", x.join(","), i % 10));
    }
    let dir = folder(&[("a.af", &copy), ("rows.jsonl", &rows)]);
    let r = kiln(dir.path(), &["check", "a.af"], &[], None);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_eq!((r.code, all.as_str()), (0, "checked 1 file: no problems found\n"));
    let r =
        kiln(dir.path(), &["train", "a.af", "--data", "rows.jsonl", "--epochs", "1"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trained = std::fs::read_to_string(dir.path().join("a.af")).unwrap();
    assert!(trained.starts_with(&copy), "the YAML was changed");
    assert!(trained.contains("---BINARY_SECTION:neural_weights---"));
    let r = kiln(dir.path(), &["check", "--deny-warnings", "a.af"], &[], None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn agent_requirements_are_enforced_by_run_and_train() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui/runtime");
    let af = std::fs::read_to_string(root.join("needs_many_cores.af")).unwrap();
    let p = std::fs::read_to_string(root.join("e0612_agent_requirements.kiln")).unwrap();
    for engine in ENGINES {
        let dir = folder(&[
            ("needs_many_cores.af", &af),
            ("p.kiln", &p),
            ("rows.jsonl", "{\"x\":[1,2]}\n"),
        ]);
        let mut args = vec!["run", "p.kiln"];
        args.extend_from_slice(engine);
        let r = kiln(dir.path(), &args, &[], None);
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
        assert!(
            r.stderr.contains("error[E0612]: agent `tiny` requires at least 100000 cores"),
            "{}",
            r.stderr
        );
    }
    let dir = folder(&[("a.af", &af)]);
    let r = kiln(dir.path(), &["train", "a.af"], &[], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("requires at least 100000 cores"), "{}", r.stderr);
    let r = kiln(dir.path(), &["train", "a.af", "--data", "nope.jsonl"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: cannot read the training data `nope.jsonl`: no such file"),
        "{}",
        r.stderr
    );
}

/// The errors sink names an input as the pipeline does, so it does not depend on the
/// folder `kiln run` is started in (and the fail-fast message neither).
#[test]
fn error_records_name_the_input_as_written() {
    let p = "source rs: { a: int } = jsonl(\"data/in.jsonl\")\nsink rs -> jsonl(\"out/ok.jsonl\")\n\
             sink errors -> jsonl(\"out/errors.jsonl\")\n";
    for engine in ENGINES {
        let dir =
            folder(&[("pipe/p.kiln", p), ("pipe/data/in.jsonl", "{\"a\":1}\n{\"a\":\"x\"}\n")]);
        let mut runs = Vec::new();
        for (cwd, file) in [("", "pipe/p.kiln"), ("pipe", "p.kiln")] {
            let mut args = vec!["run", file];
            args.extend_from_slice(engine);
            let r = kiln(&dir.path().join(cwd), &args, &[], None);
            assert_eq!(r.code, 0, "{}", r.stderr);
            runs.push(support::read(dir.path(), "pipe/out/errors.jsonl"));
        }
        assert_eq!(runs[0], runs[1], "{engine:?}");
        assert!(runs[0].starts_with("{\"source\":\"data/in.jsonl\",\"line\":2,"), "{}", runs[0]);
    }
}

/// A broken `kiln.toml` in a parent folder concerns only pipelines that call a model: one
/// that does not still checks and runs; one that calls `complete` reports the file.
#[test]
fn a_broken_kiln_toml_above_concerns_only_model_calls() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kiln.toml", "[models.default]\nprovider = openai\n");
    write(dir.path(), "p/plain.kiln", "source xs: int = range(0, 2)\nsink xs -> stdout()\n");
    write(
        dir.path(),
        "p/model.kiln",
        "source xs: str = lines(\"x.txt\")\nsink xs |> map(x => complete(x)) -> stdout()\n",
    );
    let r = kiln(&dir.path().join("p"), &["check", "plain.kiln"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = kiln(&dir.path().join("p"), &["run", "plain.kiln"], &[], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "0\n1\n"), "{}", r.stderr);
    let r = kiln(&dir.path().join("p"), &["check", "model.kiln"], &[], None);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 1, "{all}");
    assert!(all.contains("E0700") && all.contains("kiln.toml"), "{all}");
}

#[test]
fn view_passes_prints_the_graph_after_lowering_and_each_pass() {
    let text = "const k = 40 + 2\nsource xs: int = range(0, 3)\nstage s = xs |> map(x => x + k)\n\
                stage unused = xs |> map(x => x)\nsink s -> stdout()\n";
    let dir = folder(&[("p.kiln", text)]);
    let r = kiln(dir.path(), &["view", "p.kiln", "--passes"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let heads: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(heads.len(), 6, "{}", r.stdout);
    assert!(heads[0].starts_with("== after `lower`"), "{}", r.stdout);
    assert!(heads[1].starts_with("== after pass `dead` (changed)"), "{}", r.stdout);
    assert!(heads[2].starts_with("== after pass `fold` (changed)"), "{}", r.stdout);
    assert!(heads[3].starts_with("== after pass `pushdown` (unchanged)"), "{}", r.stdout);
    assert!(heads[4].starts_with("== after pass `fuse` (unchanged)"), "{}", r.stdout);
    assert!(heads[5].starts_with("== after pass `batch` (unchanged)"), "{}", r.stdout);
    assert!(r.stdout.contains("(v0 + 42)"), "{}", r.stdout);
    // Without `--passes`: the graph code generation compiles.
    let r = kiln(dir.path(), &["view", "p.kiln"], &[], None);
    assert!(r.stdout.contains("(v0 + 42)") && !r.stdout.contains("unused"), "{}", r.stdout);
    let r = kiln(dir.path(), &["view", "p.kiln", "--passes", "--format", "dot"], &[], None);
    assert_eq!(r.stdout.matches("digraph").count(), 6, "{}", r.stdout);
}
