//! End to end: build agent executables, run them on JSONL rows, and compare their outputs
//! with the forward pass of `agent::net` (no interpreter involved).

use crate::agent::command::{AgentEmit, Ui, run_build_agent};
use crate::agent::net::{forward, pack_layers};
use crate::source::FileId;
use crate::syntax::agent::{AgentFile, parse_agent, rewrite_weights};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// An agent `5 -> [7, 6] -> out` with deterministic weights, written to `dir/name.af`.
fn agent(dir: &Path, name: &str, out: usize, act: &str, limits: &str) -> (PathBuf, AgentFile) {
    let yaml = format!(
        "name: \"{name}\"\nneural_config:\n  input_size: 5\n  output_size: {out}\n  hidden_layers: [7, 6]\n  activation_function: \"tanh\"\n  output_activation: \"{act}\"\n{limits}"
    );
    let (a, d) = parse_agent(FileId(0), &yaml);
    assert!(d.is_empty(), "{d:?}");
    let n = a.unwrap().weight_count();
    let w: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 1.5).collect();
    let text = rewrite_weights(&yaml, &w);
    let path = dir.join(format!("{name}.af"));
    std::fs::write(&path, &text).unwrap();
    let (a, d) = parse_agent(FileId(0), &text);
    assert!(d.is_empty(), "{d:?}");
    (path, a.unwrap())
}

fn build(af: &Path, dir: &Path) -> PathBuf {
    let exe = dir.join(af.file_stem().unwrap());
    assert_eq!(
        run_build_agent(af, &exe, AgentEmit::Exe, Ui::QUIET),
        0,
        "building {}",
        af.display()
    );
    exe
}

fn run(exe: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    // A child that stops early (a refused memory limit, `--help`) closes its stdin first:
    // a broken pipe here is its decision, and its exit status tells the test what happened.
    match child.stdin.take().unwrap().write_all(input.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn parse_outputs(stdout: &[u8]) -> Vec<Vec<f32>> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Vec<f32>>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn rows(n: usize) -> Vec<Vec<f32>> {
    (0..n).map(|r| (0..5).map(|i| ((r * 5 + i) * 13 % 17) as f32 / 4.0 - 2.0).collect()).collect()
}

#[test]
fn exe_matches_the_forward_pass() {
    let dir = tempfile::tempdir().unwrap();
    for (name, out, act) in [("soft", 4, "softmax"), ("lin", 3, "linear")] {
        let (af, a) = agent(dir.path(), name, out, act, "");
        let exe = build(&af, dir.path());
        // 600 rows: several driver batches; arrays, objects with other fields, blank lines.
        let xs = rows(600);
        let mut input = String::new();
        for (i, x) in xs.iter().enumerate() {
            let arr = serde_json::to_string(x).unwrap();
            match i % 3 {
                0 => input.push_str(&arr),
                1 => input
                    .push_str(&format!("{{\"id\": \"r{i}\", \"x\": {arr}, \"y\": [[1], {{}}]}}")),
                _ => input.push_str(&format!("  {arr}  \n")),
            }
            input.push('\n');
        }
        let o = run(&exe, &[], &input);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = parse_outputs(&o.stdout);
        let flat: Vec<f32> = xs.concat();
        let want = forward(&pack_layers(&a, a.weights.as_ref().unwrap()), &flat, xs.len());
        assert_eq!(got.len(), xs.len());
        for (r, g) in got.iter().enumerate() {
            for (j, v) in g.iter().enumerate() {
                let w = want[r * out + j];
                assert!((v - w).abs() <= 1e-5 * w.abs().max(1.0), "{name} row {r}: {v} vs {w}");
            }
        }
        // No trailing newline on the last row, and an empty input.
        let o = run(&exe, &[], "[1,2,3,4,5]");
        assert_eq!(parse_outputs(&o.stdout).len(), 1);
        let o = run(&exe, &[], "");
        assert!(o.status.success() && o.stdout.is_empty());
    }
}

#[test]
fn bad_lines_name_the_line_after_earlier_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (af, _) = agent(dir.path(), "bad", 2, "sigmoid", "");
    let exe = build(&af, dir.path());
    for (input, msg) in [
        (
            "[1,2,3,4,5]\n\n[1,2,3]\n",
            "error: line 3: the row has 3 numbers, the agent's input_size is 5",
        ),
        ("[1,2,3,4,5]\n{\"y\": 1}\n", "error: line 2: the object has no field `x`"),
        ("[1,2,3,4,5]\n[1,2,3,4,x]\n", "error: line 2: expected a number at column 10"),
    ] {
        let o = run(&exe, &[], input);
        assert_eq!(o.status.code(), Some(1), "{input:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(msg), "{:?}", o.stderr);
        assert_eq!(parse_outputs(&o.stdout).len(), 1, "the good row before is written");
    }
    let o = run(&exe, &["--help"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("usage:"));
}

#[test]
fn memory_limit_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = "resources:\n  limits:\n    memory_mb: 1\n";
    let (af, _) = agent(dir.path(), "tiny", 2, "linear", tiny);
    let o = run(&build(&af, dir.path()), &[], "[1,2,3,4,5]\n");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the agent's limit is 1 MB (resources.limits.memory_mb)"), "{err}");
    let roomy = "resources:\n  limits:\n    memory_mb: 256\n    cpu_cores: 1\n";
    let (af, _) = agent(dir.path(), "roomy", 2, "linear", roomy);
    let o = run(&build(&af, dir.path()), &[], "[1,2,3,4,5]\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn requirements_are_checked_at_start_and_fractions_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let big = "resources:\n  limits:\n    cpu_cores: 1.0\n    disk_mb: 100\n  requirements:\n    minimum_cpu_cores: 100000.5\n";
    let (af, _) = agent(dir.path(), "big", 2, "linear", big);
    let o = run(&build(&af, dir.path()), &[], "[1,2,3,4,5]\n");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: this agent requires at least 100000.500 cores (resources.requirements.minimum_cpu_cores)"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    let mem = "resources:\n  requirements:\n    minimum_memory_mb: 1e12\n";
    let (af, _) = agent(dir.path(), "mem", 2, "linear", mem);
    let o = run(&build(&af, dir.path()), &[], "[1,2,3,4,5]\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("requires at least 1000000000000 MB"));
    let fine = "resources:\n  limits:\n    memory_mb: 255.5\n  requirements:\n    minimum_cpu_cores: 0.5\n    minimum_memory_mb: 1\n";
    let (af, _) = agent(dir.path(), "fine", 2, "linear", fine);
    let o = run(&build(&af, dir.path()), &[], "[1,2,3,4,5]\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
