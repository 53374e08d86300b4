//! `kiln build FILE -o OUT [--emit ...]`: ahead-of-time compilation. Agent files build
//! into a static library with a C header, an object file, or a JSONL executable.
//! Pipelines (`.kiln`) are not built yet: they come with Cranelift code generation for
//! pipelines, and the command says so instead of pretending.

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
    /// A `.af` agent file (pipelines come with code generation).
    pub file: PathBuf,
    /// The output path (`DIR/libNAME.a` for a static library).
    #[arg(short, long)]
    pub output: PathBuf,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Emit::Staticlib)]
    pub emit: Emit,
}

pub fn run(args: &BuildArgs, global: &GlobalArgs) -> Status {
    let is_agent = args.file.extension().is_some_and(|e| e == "af");
    if !is_agent {
        report_error(format_args!(
            "{}: ahead-of-time builds of pipelines are not available yet; use `kiln check` (agents build today: `kiln build model.af -o DIR/libNAME.a`)",
            args.file.display()
        ));
        return Status::Usage;
    }
    let emit = match args.emit {
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
