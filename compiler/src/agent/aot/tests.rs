//! End-to-end tests: training on the UCI digits shipped in examples/agents/, and a C
//! program linked against the static library.

use super::*;
use crate::agent::command::{AgentEmit, Ui, run_build_agent, run_train_command};
use crate::agent::data::Dataset;
use crate::agent::net::{forward, forward_f64};
use crate::source::FileId;
use crate::syntax::agent::parse_agent;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/agents")
}

fn trained_digits(dir: &Path) -> (PathBuf, AgentFile) {
    let af = dir.join("digits.af");
    std::fs::copy(examples().join("digits_untrained.af"), &af).unwrap();
    let data = examples().join("digits_train.jsonl");
    assert_eq!(run_train_command(&af, Some(&data), 25, 32, 7, None, Ui::QUIET), 0);
    let text = std::fs::read_to_string(&af).unwrap();
    let (a, d) = parse_agent(FileId(0), &text);
    assert!(d.is_empty(), "{d:?}");
    (af, a.unwrap())
}

#[test]
fn digits_reach_90_percent_held_out_and_training_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (af, agent) = trained_digits(dir.path());
    let test = std::fs::read_to_string(examples().join("digits_test.jsonl")).unwrap();
    let test = Dataset::parse_jsonl("digits_test.jsonl", &test, 64, 10).unwrap();
    let layers = pack_layers(&agent, agent.weights.as_ref().unwrap());
    let out = forward(&layers, &test.inputs, test.rows());
    let labels = test.labels.as_ref().unwrap();
    let correct = (0..test.rows())
        .filter(|&i| {
            kiln_runtime::kernels::argmax::argmax(&out[i * 10..(i + 1) * 10]) == Some(labels[i])
        })
        .count();
    let acc = correct as f64 / test.rows() as f64;
    assert!(acc >= 0.9, "held-out accuracy {acc}");
    // The same inputs give byte-identical files, and only neural_weights changed.
    let again = dir.path().join("again.af");
    std::fs::copy(examples().join("digits_untrained.af"), &again).unwrap();
    assert_eq!(
        run_train_command(
            &again,
            Some(&examples().join("digits_train.jsonl")),
            25,
            32,
            7,
            None,
            Ui::QUIET
        ),
        0
    );
    let (a, b) = (std::fs::read(&af).unwrap(), std::fs::read(&again).unwrap());
    assert!(a == b, "training is not deterministic");
    let original = std::fs::read_to_string(examples().join("digits_untrained.af")).unwrap();
    assert!(String::from_utf8(a).unwrap().starts_with(&original));
}

#[test]
fn train_reports_bad_data_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let af = dir.path().join("d.af");
    std::fs::copy(examples().join("digits_untrained.af"), &af).unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"x\": [1, 2], \"label\": 3}\n").unwrap();
    assert_eq!(run_train_command(&af, Some(&bad), 1, 8, 0, None, Ui::QUIET), 1);
    assert_eq!(
        run_train_command(&af, None, 1, 8, 0, None, Ui::QUIET),
        1,
        "no training_data section"
    );
    assert_eq!(
        std::fs::read_to_string(&af).unwrap(),
        std::fs::read_to_string(examples().join("digits_untrained.af")).unwrap()
    );
    // The xor example trains from its own training_data section.
    let xor = dir.path().join("xor.af");
    std::fs::copy(examples().join("xor.af"), &xor).unwrap();
    assert_eq!(run_train_command(&xor, None, 50, 4, 1, None, Ui::QUIET), 0);
    let (a, d) = parse_agent(FileId(0), &std::fs::read_to_string(&xor).unwrap());
    assert!(d.is_empty() && a.unwrap().weights.is_some());
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (a C compiler `cc` is required)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn c_program_links_the_static_library() {
    let dir = tempfile::tempdir().unwrap();
    let (af, agent) = trained_digits(dir.path());
    let lib = dir.path().join("out/libdigits.a");
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    assert_eq!(run_build_agent(&af, &lib, AgentEmit::StaticLib, Ui::QUIET), 0);
    let header = std::fs::read_to_string(dir.path().join("out/digits.h")).unwrap();
    assert!(header.contains("void digits_predict(const float *input, float *output);"));
    assert!(
        header.contains("void digits_predict_batch(const float *input, float *output, size_t n);")
    );
    // Inputs: 37 rows of the held-out set, written into the C source.
    let test = std::fs::read_to_string(examples().join("digits_test.jsonl")).unwrap();
    let test = Dataset::parse_jsonl("t", &test, 64, 10).unwrap();
    let n = 37;
    let xs: Vec<String> = test.inputs[..n * 64].iter().map(|v| format!("{v:?}f")).collect();
    let main = format!(
        r#"#include <stdio.h>
#include "digits.h"
static const float X[{n}][64] = {{ {xs} }};
int main(void) {{
    float one[10], batch[{n}][10];
    digits_predict_batch(&X[0][0], &batch[0][0], {n});
    for (int i = 0; i < {n}; i++) {{
        digits_predict(X[i], one);
        for (int j = 0; j < 10; j++) printf("%.9g %.9g\n", one[j], batch[i][j]);
    }}
    return 0;
}}
"#,
        xs = xs.join(", ")
    );
    std::fs::write(dir.path().join("out/main.c"), main).unwrap();
    let exe = dir.path().join("out/main");
    let out_dir = dir.path().join("out");
    run(Command::new("cc")
        .current_dir(&out_dir)
        .args(["main.c", "libdigits.a", "-lm", "-o"])
        .arg(&exe));
    let printed = run(&mut Command::new(&exe));
    let values: Vec<(f64, f64)> = printed
        .lines()
        .map(|l| {
            let mut it = l.split(' ').map(|v| v.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect();
    assert_eq!(values.len(), n * 10);
    let w = agent.weights.as_ref().unwrap();
    for i in 0..n {
        let want = forward_f64(&agent, w, test.x(i));
        for j in 0..10 {
            let (one, batch) = values[i * 10 + j];
            for got in [one, batch] {
                assert!(
                    (got - want[j]).abs() <= 1e-5 * want[j].abs().max(1.0),
                    "row {i} out {j}: {got} vs {}",
                    want[j]
                );
            }
        }
    }
    // The library's undefined symbols are libc's and libm's only.
    let nm = Command::new("nm").args(["-u", "--format=posix"]).arg(&lib).output();
    if let Ok(nm) = nm {
        let text = String::from_utf8_lossy(&nm.stdout);
        let undefined: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.split(' ').next())
            .filter(|s| !s.is_empty() && !s.ends_with(':') && !s.ends_with(']'))
            .collect();
        let allowed = [
            "abort",
            "memcpy",
            "memset",
            "memmove",
            "kiln_dense",
            "kiln_dense_v3",
            "kiln_dense_v4",
            "kiln_dot_v3",
            "kiln_dot_v4",
            "getenv",
            // The kernels' second thread (kernels/pool.rs): in libc since glibc 2.34.
            "pthread_create",
            "pthread_detach",
            "pthread_attr_init",
            "pthread_attr_setstacksize",
            "pthread_attr_destroy",
            "sched_getaffinity",
            "sched_yield",
            "syscall",
        ];
        for s in &undefined {
            assert!(
                allowed.contains(s) || s.starts_with("kiln_"),
                "unexpected undefined symbol {s}"
            );
        }
    }
    // An untrained agent is refused with E0412, writing nothing.
    let bare = dir.path().join("bare.af");
    std::fs::copy(examples().join("digits_untrained.af"), &bare).unwrap();
    let lib2 = dir.path().join("libbare.a");
    assert_eq!(run_build_agent(&bare, &lib2, AgentEmit::StaticLib, Ui::QUIET), 1);
    assert!(!lib2.exists());
}
