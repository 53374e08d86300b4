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

/// An agent `600 -> [200, 45] -> out` (relu hidden layers) with deterministic weights.
fn wide_agent(dir: &Path, name: &str, out: usize, act: &str) -> (PathBuf, AgentFile) {
    let yaml = format!(
        "name: \"{name}\"\nneural_config:\n  input_size: 600\n  output_size: {out}\n  hidden_layers: [200, 45]\n  activation_function: \"relu\"\n  output_activation: \"{act}\"\n"
    );
    let (a, d) = parse_agent(FileId(0), &yaml);
    assert!(d.is_empty(), "{d:?}");
    let n = a.unwrap().weight_count();
    let w: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 0.15).collect();
    let text = crate::syntax::agent::rewrite_weights(&yaml, &w);
    let path = dir.join(format!("{name}.af"));
    std::fs::write(&path, &text).unwrap();
    let (a, d) = parse_agent(FileId(0), &text);
    assert!(d.is_empty(), "{d:?}");
    (path, a.unwrap())
}

#[test]
fn two_threads_give_the_bits_of_one_thread_in_the_c_library() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (out, act)) in
        [(10, "softmax"), (70, "softmax"), (33, "sigmoid"), (40, "tanh"), (20, "linear")]
            .into_iter()
            .enumerate()
    {
        let name = format!("w{i}");
        let (af, agent) = wide_agent(dir.path(), &name, out, act);
        let lib = dir.path().join(format!("lib{name}.a"));
        assert_eq!(run_build_agent(&af, &lib, AgentEmit::StaticLib, Ui::QUIET), 0);
        // The program compares, bit for bit, one thread against two (the library exports
        // kiln_set_threads; every layer of two or more panels is split for one row), for
        // batches of several sizes, and predict against predict_batch with n = 1.
        let main = format!(
            r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "{name}.h"
unsigned kiln_set_threads(unsigned);
size_t kiln_set_row_split(size_t);
unsigned long long kiln_worker_jobs(void);
#define IN 600
#define OUT {out}
int main(void) {{
    enum {{ N = 257 }};
    float *x = malloc(sizeof(float) * IN * N), *a = malloc(sizeof(float) * OUT * N),
          *b = malloc(sizeof(float) * OUT * N);
    for (int i = 0; i < IN * N; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    kiln_set_row_split(1);
    static const size_t ns[] = {{1, 2, 3, 5, 8, 9, 17, 64, 256, 257}};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {{
        size_t n = ns[t];
        kiln_set_threads(1);
        memset(a, 0xff, sizeof(float) * OUT * N);
        {name}_predict_batch(x, a, n);
        if (kiln_set_threads(2) != 2) {{ puts("one thread only"); return 0; }}
        for (int rep = 0; rep < 3; rep++) {{
            memset(b, 0xff, sizeof(float) * OUT * N);
            {name}_predict_batch(x, b, n);
            if (memcmp(a, b, sizeof(float) * OUT * n)) {{ printf("batch %zu differs\n", n); return 1; }}
        }}
    }}
    for (int r = 0; r < 20; r++) {{
        kiln_set_threads(1);
        {name}_predict(x + r * IN, a);
        {name}_predict_batch(x + r * IN, a + OUT, 1);
        kiln_set_threads(2);
        {name}_predict(x + r * IN, b);
        if (memcmp(a, b, sizeof(float) * OUT) || memcmp(a, a + OUT, sizeof(float) * OUT)) {{
            printf("row %d differs\n", r);
            return 1;
        }}
    }}
    /* On a loaded machine the caller may finish every split before the worker wakes: keep
       calling (same bits each time) until the worker has taken a part, within a bound. */
    kiln_set_threads(2);
    for (int r = 0; r < 200000 && kiln_worker_jobs() == 0; r++) {{
        {name}_predict(x + (r % 20) * IN, b);
    }}
    printf("ok %llu\n", kiln_worker_jobs());
    return 0;
}}
"#
        );
        std::fs::write(dir.path().join(format!("{name}.c")), main).unwrap();
        std::fs::write(dir.path().join(format!("{name}.h")), header(&agent)).unwrap();
        let exe = dir.path().join(&name);
        run(Command::new("cc")
            .current_dir(dir.path())
            .arg(format!("{name}.c"))
            .arg(format!("lib{name}.a"))
            .args(["-lm", "-o"])
            .arg(&exe));
        let printed = run(&mut Command::new(&exe));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores >= 2 {
            // The worker took part: "ok <jobs it ran>".
            let jobs: u64 = printed.trim().strip_prefix("ok ").unwrap_or("0").parse().unwrap();
            assert!(jobs > 0, "{printed}");
        } else {
            assert!(printed.starts_with("ok ") || printed == "one thread only\n", "{printed}");
        }
    }
}
