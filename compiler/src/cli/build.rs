//! `kiln build FILE -o OUT [--emit ...]`: ahead-of-time compilation. Pipelines (`.kiln`)
//! build into an executable (the default), an object file, a static library with a C
//! header, or their Cranelift IR or dataflow IR as text (`crate::driver::build`); agent
//! files into a static library with a C header (their default), an object file, or a
//! JSONL executable.

use super::{GlobalArgs, Status, report_error};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    Exe,
    Obj,
    Staticlib,
    Clif,
    Ir,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// A pipeline (`.kiln`) or an agent file (`.af`).
    pub file: PathBuf,
    /// The output path (`DIR/libNAME.a` for a static library).
    #[arg(short, long)]
    pub output: PathBuf,
    /// What to produce (default: `exe` for a pipeline, `staticlib` for an agent).
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
}

pub fn run(args: &BuildArgs, global: &GlobalArgs) -> Status {
    let is_agent = args.file.extension().is_some_and(|e| e == "af");
    if !is_agent {
        return pipeline(args, global);
    }
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        report_error(format_args!("cannot create the folder {}: {e}", parent.display()));
        return Status::Failure;
    }
    let emit = match args.emit.unwrap_or(Emit::Staticlib) {
        Emit::Staticlib => crate::agent::AgentEmit::StaticLib,
        Emit::Obj => crate::agent::AgentEmit::Obj,
        Emit::Exe => crate::agent::AgentEmit::Exe,
        other => {
            report_error(format_args!(
                "`--emit {}` is not available for agent files; use `--emit staticlib`, `obj` or `exe`",
                format!("{other:?}").to_lowercase()
            ));
            return Status::Usage;
        }
    };
    let ui = crate::agent::Ui { quiet: global.quiet, color: super::check::use_color(global.color) };
    match crate::agent::run_build_agent(&args.file, &args.output, emit, ui) {
        0 => Status::Success,
        2 => Status::Usage,
        _ => Status::Failure,
    }
}

fn pipeline(args: &BuildArgs, global: &GlobalArgs) -> Status {
    use crate::driver::build::{BuildError, Emit as E, build};
    if let Err(status) = super::require_pipeline(&args.file) {
        return status;
    }
    let emit = match args.emit.unwrap_or(Emit::Exe) {
        Emit::Exe => E::Exe,
        Emit::Obj => E::Obj,
        Emit::Staticlib => E::Staticlib,
        Emit::Clif => E::Clif,
        Emit::Ir => E::Ir,
    };
    let (file, out) = (args.file.clone(), args.output.clone());
    let result = crate::driver::with_big_stack(move || build(&file, &out, emit));
    match result {
        Ok(()) => Status::Success,
        Err(BuildError::Diagnostics(run)) => {
            let color = super::check::use_color(global.color);
            let shown: Vec<_> =
                run.diagnostics.into_iter().filter(|d| d.is_error() || !global.quiet).collect();
            let mut err = std::io::stderr().lock();
            let _ = crate::diag::render::render(
                crate::diag::render::Format::Human { color },
                &run.map,
                &shown,
                &mut err,
            );
            Status::Failure
        }
        Err(BuildError::Other(m)) => {
            report_error(m);
            Status::Failure
        }
    }
}
