//! Entry points for the command line: `kiln train FILE.af` and `kiln build FILE.af`. Each
//! prints its own progress and errors and returns the process exit code (0 success, 1
//! failure, 2 bad usage), so wiring a subcommand is one call.

use super::data::Dataset;
use super::train::{TrainOptions, train};
use crate::diag::render::{Format, render};
use crate::diag::{Diagnostic, codes};
use crate::source::SourceMap;
use crate::syntax::agent::{AgentFile, parse_agent, rewrite_weights};
use std::path::Path;

/// What `kiln build` of an agent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentEmit {
    /// `libNAME.a` plus `NAME.h` next to it.
    StaticLib,
    /// The object file alone (it needs the kernel objects to link).
    Obj,
    /// A JSONL stdin-to-stdout program (see [`super::exe`]).
    Exe,
}

/// How the commands report: `quiet` keeps only errors; `color` styles diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ui {
    pub quiet: bool,
    pub color: bool,
}

impl Ui {
    /// Errors only, no color (tests, scripts).
    pub const QUIET: Ui = Ui { quiet: true, color: false };
}

/// Prints diagnostics with the renderer `kiln check` uses (human format).
fn print_diags(map: &SourceMap, diags: &[Diagnostic], ui: Ui) {
    if diags.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = render(Format::Human { color: ui.color }, map, diags, &mut err);
}

/// Loads and validates an agent file, printing its diagnostics. `Err(code)` on failure.
pub fn load_agent(file: &Path, ui: Ui) -> Result<(String, SourceMap, AgentFile), i32> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", file.display());
        1
    })?;
    let mut map = SourceMap::new();
    let id = map.add(file.display().to_string(), text.clone());
    let (agent, diags) = parse_agent(id, &text);
    let shown: Vec<Diagnostic> = diags.into_iter().filter(|d| d.is_error() || !ui.quiet).collect();
    print_diags(&map, &shown, ui);
    match agent {
        Some(a) => Ok((text, map, a)),
        None => Err(1),
    }
}

/// `kiln train FILE.af [--data DATA] [--epochs N] [--batch N] [--seed N] [-o OUT]`: trains
/// and writes the weights into `OUT` (default: the agent file itself).
pub fn run_train_command(
    file: &Path,
    data: Option<&Path>,
    epochs: usize,
    batch: usize,
    seed: u64,
    out: Option<&Path>,
    ui: Ui,
) -> i32 {
    let quiet = ui.quiet;
    if epochs == 0 || batch == 0 {
        eprintln!("error: --epochs and --batch must be at least 1");
        return 2;
    }
    let (text, _, agent) = match load_agent(file, ui) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let dataset = match data {
        Some(path) => {
            let body = match std::fs::read_to_string(path) {
                Ok(b) => b,
                Err(e) => {
                    let why = crate::interp::input::io_message(&e);
                    eprintln!("error: cannot read the training data `{}`: {why}", path.display());
                    return if e.kind() == std::io::ErrorKind::NotFound { 2 } else { 1 };
                }
            };
            match Dataset::parse_jsonl(
                &path.display().to_string(),
                &body,
                agent.input_size,
                agent.output_size,
            ) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        }
        None => match Dataset::from_agent(&agent) {
            Some(d) => d,
            None => {
                eprintln!(
                    "error: {} has no training_data section; give the rows with --data FILE.jsonl",
                    file.display()
                );
                return 1;
            }
        },
    };
    if let Err(e) = super::limits::check_machine(&agent)
        .and_then(|()| super::limits::check_training(&agent, &dataset, text.len()))
    {
        eprintln!("error: {e}");
        return 1;
    }
    let opts = TrainOptions { epochs, batch, seed };
    let rows = dataset.rows();
    if !quiet {
        eprintln!(
            "training {} ({} rows, {} epochs, batch {batch}, seed {seed})",
            agent.name, rows, epochs
        );
    }
    let result = train(&agent, &dataset, &opts, &mut |r| {
        if !quiet {
            match r.accuracy {
                Some(a) => eprintln!(
                    "epoch {:>3}/{}  loss {:.6}  accuracy {:.2}%",
                    r.epoch,
                    r.epochs,
                    r.loss,
                    a * 100.0
                ),
                None => eprintln!("epoch {:>3}/{}  loss {:.6}", r.epoch, r.epochs, r.loss),
            }
        }
    });
    let weights = match result {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let target = out.unwrap_or(file);
    if let Err(e) = std::fs::write(target, rewrite_weights(&text, &weights)) {
        eprintln!("error: cannot write {}: {e}", target.display());
        return 1;
    }
    if !quiet {
        eprintln!("wrote {} weights to {}", weights.len(), target.display());
    }
    0
}

/// `kiln build FILE.af -o OUT --emit staticlib|obj|exe`. For a static library `OUT` is
/// `DIR/libNAME.a` and the header goes to `DIR/<name>.h` (the agent's C name).
pub fn run_build_agent(file: &Path, out: &Path, emit: AgentEmit, ui: Ui) -> i32 {
    let quiet = ui.quiet;
    let (_, map, agent) = match load_agent(file, ui) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if agent.weights.is_none() {
        let d = Diagnostic::new(
            codes::E0412,
            agent.name_span,
            format!("agent `{}` has no trained weights", agent.name),
        )
        .label("this agent has no `neural_weights` section")
        .help(format!("run `kiln train {} --data DATA.jsonl` first", file.display()));
        print_diags(&map, &[d], ui);
        return 1;
    }
    let result = match emit {
        AgentEmit::Obj => super::aot::build_object(&agent).and_then(|o| write(out, &o)),
        AgentEmit::Exe => super::exe::build_exe(&agent, out).map(|()| {
            if !quiet {
                eprintln!("wrote {}", out.display());
            }
        }),
        AgentEmit::StaticLib => super::aot::build_staticlib(&agent).and_then(|lib| {
            write(out, &lib)?;
            let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let h = dir.join(format!("{}.h", agent.c_name()));
            write(&h, super::aot::header(&agent).as_bytes())?;
            if !quiet {
                eprintln!("wrote {} and {}", out.display(), h.display());
            }
            Ok(())
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
