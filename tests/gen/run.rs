//! Runs one generated program on every engine configuration and compares what they did.
//!
//! Each configuration runs the `kiln` binary as a subprocess in a fresh folder holding the
//! program and its data, so standard error, the exit code and panics are seen exactly as a
//! user sees them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::prog::Program;

/// A run that takes longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every configuration agreed: whether the run succeeded, and how many lines its
    /// sinks wrote (so a run shows how much a generated program does).
    Same { ok: bool, lines: usize },
    /// `kiln check` refused the program: a defect of the generator.
    Invalid(String),
    /// The JIT refused the program because it streams values with no run-time layout (it
    /// falls back to the interpreter). A refusal to compile an expression ("the JIT cannot
    /// compile") is not this: it differs from the interpreter's output, so it fails.
    NoJit,
    /// Two configurations disagreed.
    Mismatch(String),
    /// A panic, an internal error or a hang.
    Crash(String),
}

impl Verdict {
    /// The class the minimizer keeps while it shrinks.
    pub fn class(&self) -> &'static str {
        match self {
            Verdict::Same { .. } => "same",
            Verdict::Invalid(_) => "invalid",
            Verdict::NoJit => "nojit",
            Verdict::Mismatch(_) => "mismatch",
            Verdict::Crash(_) => "crash",
        }
    }
}

pub struct Runner {
    pub kiln: PathBuf,
    /// Compare sinks and stdout also when a run stopped at a record (no errors sink, or a
    /// failing stage that reads `errors`).
    pub failfast_outputs: bool,
    /// Compare the order of error records (and which error stops a run); else the errors
    /// sink is compared as a set of lines and a stopped run by its exit code.
    pub error_order: bool,
    pub scratch: PathBuf,
}

fn files(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, base, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

/// What makes a run a crash whatever the other engines did.
pub fn crash_sign(o: &Outcome) -> Option<String> {
    if o.code.is_none() {
        return Some("killed by a signal (or timed out)".into());
    }
    if o.code == Some(101) {
        return Some("exit code 101".into());
    }
    for s in ["panicked", "internal compiler error", "RUST_BACKTRACE", "E0611"] {
        if o.stderr.contains(s) {
            return Some(format!("stderr contains `{s}`"));
        }
    }
    None
}

impl Runner {
    /// Runs `kiln ARGS` with the program in a fresh folder `scratch/tag`.
    fn kiln(&self, p: &Program, tag: &str, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let dir = self.scratch.join(tag);
        let _ = std::fs::remove_dir_all(&dir);
        let work = dir.join("w");
        p.write(&work).unwrap();
        let (out, err) = (dir.join("stdout"), dir.join("stderr"));
        let mut cmd = Command::new(&self.kiln);
        cmd.args(args).current_dir(&work).env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        let mut child = cmd.spawn().expect("the kiln binary runs");
        // a watchdog kills a run that hangs; waiting blocks, so no polling delay
        let pid = child.id();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let hung = wait.recv_timeout(TIMEOUT).is_err();
            if hung {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            hung
        });
        let status = child.wait().unwrap();
        let _ = done.send(());
        let code = if watchdog.join().unwrap() { None } else { status.code() };
        let before = {
            let mut m = BTreeMap::new();
            for f in &p.files {
                m.insert(f.path.clone(), ());
            }
            m
        };
        let mut outputs = BTreeMap::new();
        files(&work, &work, &mut outputs);
        outputs.retain(|k, _| !before.contains_key(k) && *k != format!("{}.kiln", p.name));
        Outcome {
            code,
            stdout: String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&std::fs::read(&err).unwrap()).into_owned(),
            outputs,
        }
    }

    /// Checks the program, then runs it on the interpreter and on the JIT with 1 and 2
    /// threads and tiny chunks (`chunk` bytes).
    pub fn judge(&self, p: &Program, chunk: usize) -> Verdict {
        let file = format!("{}.kiln", p.name);
        let check = self.kiln(p, "check", &["check", "--format", "short", &file], &[]);
        if let Some(c) = crash_sign(&check) {
            return Verdict::Crash(format!("kiln check: {c}\n{}", check.stderr));
        }
        if check.code != Some(0) {
            return Verdict::Invalid(format!("{}{}", check.stdout, check.stderr));
        }
        let mut base: Vec<&str> = vec!["run", &file];
        // `env:NAME=VALUE` is given as `KILN_PARAM_NAME`, anything else as `--param`
        let params: Vec<String> = p
            .args
            .iter()
            .filter(|a| !a.starts_with("env:"))
            .flat_map(|a| ["--param".to_string(), a.clone()])
            .collect();
        let param_env: Vec<(String, String)> = p
            .args
            .iter()
            .filter_map(|a| a.strip_prefix("env:")?.split_once('='))
            .map(|(k, v)| (format!("KILN_PARAM_{k}"), v.to_string()))
            .collect();
        let param_env: Vec<(&str, &str)> =
            param_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        base.extend(params.iter().map(String::as_str));
        let with = |extra: &[&'static str]| -> Vec<&str> {
            let mut v = base.clone();
            v.extend_from_slice(extra);
            v
        };
        let chunk = chunk.to_string();
        let oracle = self.kiln(p, "interp", &with(&["--engine", "interp"]), &param_env);
        if let Some(c) = crash_sign(&oracle) {
            return Verdict::Crash(format!("interp: {c}\n{}", oracle.stderr));
        }
        let oracle = if self.error_order { oracle } else { sort_errors(oracle) };
        let configs: [(&str, &[&'static str], Option<&str>); 2] = [
            ("jit, 1 thread", &["--engine", "jit", "--threads", "1"], Some(&chunk)),
            ("jit, 2 threads", &["--engine", "jit", "--threads", "2"], Some(&chunk)),
        ];
        for (i, (what, extra, chunk)) in configs.iter().enumerate() {
            let mut env: Vec<(&str, &str)> =
                chunk.iter().map(|c| ("KILN_CHUNK_SIZE", *c)).collect();
            env.extend_from_slice(&param_env);
            let got = self.kiln(p, "jit", &with(extra), &env);
            if i == 0 && got.code == Some(1) && got.stderr.contains("cannot use the JIT") {
                return Verdict::NoJit;
            }
            if let Some(c) = crash_sign(&got) {
                return Verdict::Crash(format!("{what}: {c}\n{}", got.stderr));
            }
            let stopped = oracle.code == Some(1);
            if stopped && !self.error_order {
                if got.code != oracle.code {
                    return Verdict::Mismatch(format!(
                        "{what}, chunks of {}, stopped: {}",
                        chunk.unwrap_or("default"),
                        describe(&oracle, &got)
                    ));
                }
                continue;
            }
            let got = if self.error_order { got } else { sort_errors(got) };
            if stopped && !self.failfast_outputs {
                // without `failfast_outputs`: the exit code and stderr only
                if (got.code, &got.stderr) != (oracle.code, &oracle.stderr) {
                    return Verdict::Mismatch(format!(
                        "{what}, chunks of {}, stopped: {}",
                        chunk.unwrap_or("default"),
                        describe(&oracle, &got)
                    ));
                }
                continue;
            }
            if got != oracle {
                return Verdict::Mismatch(format!(
                    "{what}, chunks of {}: {}",
                    chunk.unwrap_or("default"),
                    describe(&oracle, &got)
                ));
            }
        }
        let lines = oracle.stdout.lines().count()
            + oracle
                .outputs
                .values()
                .map(|v| v.iter().filter(|b| **b == b'\n').count())
                .sum::<usize>();
        Verdict::Same { ok: oracle.code == Some(0), lines }
    }
}

/// The outcome with the lines of the errors sink sorted.
fn sort_errors(mut o: Outcome) -> Outcome {
    if let Some(v) = o.outputs.get_mut("out/errors.jsonl") {
        let mut lines: Vec<&[u8]> = v.split_inclusive(|b| *b == b'\n').collect();
        lines.sort();
        *v = lines.concat();
    }
    o
}

/// The lines around the first difference of two texts.
fn diff_text(what: &str, want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let i = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let from = i.saturating_sub(2);
    let show = |v: &[&str]| {
        v.iter().skip(from).take(i - from + 6).map(|l| format!("  {l}\n")).collect::<String>()
    };
    format!("{what} differs at line {}\n--- interp\n{}--- other\n{}", i + 1, show(&w), show(&g))
}

/// The first difference between the oracle's outcome and another one.
fn describe(want: &Outcome, got: &Outcome) -> String {
    if want.code != got.code {
        return format!(
            "exit code {:?} (interp) vs {:?}\n{}",
            want.code,
            got.code,
            diff_text("stderr", &want.stderr, &got.stderr)
        );
    }
    if want.stdout != got.stdout {
        return diff_text("stdout", &want.stdout, &got.stdout);
    }
    if want.stderr != got.stderr {
        return diff_text("stderr", &want.stderr, &got.stderr);
    }
    for (k, v) in &want.outputs {
        match got.outputs.get(k) {
            None => return format!("{k}: missing"),
            Some(g) if g != v => {
                return diff_text(k, &String::from_utf8_lossy(v), &String::from_utf8_lossy(g));
            }
            _ => {}
        }
    }
    let extra: Vec<&String> =
        got.outputs.keys().filter(|k| !want.outputs.contains_key(*k)).collect();
    format!("extra output files {extra:?}")
}
