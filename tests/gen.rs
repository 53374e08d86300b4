//! Random well-typed programs run on both engines (issue 17): a seeded generator writes a
//! `.kiln` program with its JSONL / CSV / text inputs, and every program runs on the
//! reference interpreter and on the JIT (1 and 2 threads, tiny chunks); sinks, the errors
//! sink, stdout, stderr and the exit code must be identical, and nothing may crash.
//! A failing program is minimized and written out as a `tests/diff`-style fixture.
//!
//! CI runs a bounded number of seeds with the feature families that agree today
//! (`Features::ci`). Long runs (see docs/testing.md):
//! `KILN_GEN_CASES=100000 KILN_GEN_SEED=1 cargo test --release --test gen -- --nocapture`.
//! Other knobs: `KILN_GEN_FEATURES` (see gen/features.rs), `KILN_GEN_JOBS` (parallel
//! programs), `KILN_GEN_OUT` (where minimized failures go), `KILN_GEN_MINIMIZE=0`,
//! `KILN_GEN_DUMP=DIR` (write every program there, to read them).

#[path = "gen/expr.rs"]
mod expr;
#[path = "gen/features.rs"]
mod features;
#[path = "gen/prog.rs"]
mod prog;
#[path = "gen/rng.rs"]
mod rng;
#[path = "gen/run.rs"]
mod run;
#[path = "gen/shrink.rs"]
mod shrink;
#[path = "gen/ty.rs"]
mod ty;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use features::Features;
use run::{Runner, Verdict};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: not a number")))
        .unwrap_or(default)
}

/// The tiny chunk size a seed runs with.
fn chunk_for(seed: u64) -> usize {
    [1, 7, 64, 200][(seed % 4) as usize]
}

#[derive(Default)]
struct Tally {
    same: u64,
    /// Agreed runs that exited 0, and the lines all agreed runs wrote.
    ok: u64,
    lines: u64,
    nojit: u64,
    failures: Vec<String>,
}

#[test]
fn generated_programs_agree_on_both_engines() {
    let cases = env_u64("KILN_GEN_CASES", 800);
    let first = env_u64("KILN_GEN_SEED", 1);
    let jobs = env_u64("KILN_GEN_JOBS", 2).max(1);
    let minimize = env_u64("KILN_GEN_MINIMIZE", 1) != 0;
    let budget = std::time::Duration::from_secs(env_u64("KILN_GEN_MINIMIZE_SECS", 120));
    let features =
        Features::parse(&std::env::var("KILN_GEN_FEATURES").unwrap_or_default()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::var("KILN_GEN_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/gen-failures"));
    let dump = std::env::var("KILN_GEN_DUMP").ok().map(PathBuf::from);
    let scratch = tempfile::tempdir().unwrap();
    eprintln!(
        "gen: {cases} programs from seed {first}, {jobs} jobs; families off: {:?}",
        features.off()
    );

    let next = AtomicU64::new(0);
    let tally = Mutex::new(Tally::default());
    let start = Instant::now();
    std::thread::scope(|s| {
        for j in 0..jobs {
            let (next, tally, features, out, budget, dump) =
                (&next, &tally, &features, &out, budget, &dump);
            let runner = Runner {
                kiln: PathBuf::from(env!("CARGO_BIN_EXE_kiln")),
                failfast_outputs: features.failfast_outputs,
                error_order: features.error_order,
                scratch: scratch.path().join(format!("job{j}")),
            };
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cases {
                        break;
                    }
                    let seed = first + i;
                    let program = prog::generate(seed, features);
                    if let Some(dir) = &dump {
                        program.write(&dir.join(&program.name)).unwrap();
                    }
                    let verdict = runner.judge(&program, chunk_for(seed));
                    let mut t = tally.lock().unwrap();
                    match &verdict {
                        Verdict::Same { ok, lines } => {
                            t.same += 1;
                            t.ok += u64::from(*ok);
                            t.lines += *lines as u64;
                        }
                        Verdict::NoJit => t.nojit += 1,
                        v => {
                            let msg = format!("seed {seed}: {}", v.class());
                            eprintln!("{msg}:\n{}\n", detail(v));
                            drop(t);
                            let saved = if minimize && v.class() != "invalid" {
                                let small =
                                    shrink::minimize(&runner, &program, v, chunk_for(seed), budget);
                                shrink::save(&small, &runner, chunk_for(seed), out)
                            } else {
                                shrink::save(&program, &runner, chunk_for(seed), out)
                            };
                            t = tally.lock().unwrap();
                            t.failures.push(format!("{msg} -> {}", saved.display()));
                        }
                    }
                    let done = t.same + t.nojit + t.failures.len() as u64;
                    if done.is_multiple_of(500) || done == cases {
                        let secs = start.elapsed().as_secs_f64();
                        eprintln!(
                            "gen: {done}/{cases} programs, {:.1} programs/s, {} failures",
                            done as f64 / secs,
                            t.failures.len()
                        );
                    }
                }
            });
        }
    });
    let t = tally.into_inner().unwrap();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "gen: {cases} programs in {secs:.0} s ({:.1}/s): {} agreed ({} exited 0; {} output lines), {} JIT refused, {} failed",
        cases as f64 / secs,
        t.same,
        t.ok,
        t.lines,
        t.nojit,
        t.failures.len()
    );
    assert!(t.failures.is_empty(), "failures:\n{}", t.failures.join("\n"));
    assert!(t.nojit * 10 <= cases, "the JIT refused {} of {cases} programs", t.nojit);
}

fn detail(v: &Verdict) -> String {
    let s = match v {
        Verdict::Invalid(s) | Verdict::Mismatch(s) | Verdict::Crash(s) => s.clone(),
        _ => String::new(),
    };
    s.chars().take(3000).collect()
}

#[test]
fn a_seed_names_one_program() {
    let f = Features::parse("all").unwrap();
    for seed in [1, 42, 1 << 40] {
        let (a, b) = (prog::generate(seed, &f), prog::generate(seed, &f));
        assert_eq!(a.source(), b.source(), "seed {seed}");
        let data =
            |p: &prog::Program| p.files.iter().map(|f| f.lines.join("\n")).collect::<Vec<_>>();
        assert_eq!(data(&a), data(&b), "seed {seed}");
    }
    assert_ne!(prog::generate(1, &f).source(), prog::generate(2, &f).source());
}
