//! The `kiln` command line (clap derive). Each subcommand lives in its own module with an
//! `Args` struct and a `run` function; adding one (`run`, `build`, `view`, `repl`,
//! `train`) means a module, a [`Command`] variant and a match arm in [`run`].
//!
//! Exit codes follow the language contract: 0 success, 1 a compile error or failed check
//! (or a warning under `--deny-warnings`) or a failed run, 2 bad command-line usage. An internal compiler
//! error (a panic) prints a short report request and exits with 101.

mod build;
mod check;
mod explain;
mod ice;
mod models;
mod run;
mod train;
mod view;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Kiln: a compiler for declarative AI and data pipelines.
#[derive(Parser, Debug)]
#[command(name = "kiln", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output: `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse, type-check and lint files and folders (.kiln, .af, .prompt).
    Check(check::CheckArgs),
    /// Print the long explanation of a diagnostic code.
    Explain(explain::ExplainArgs),
    /// Run a pipeline: JIT-compiled with Cranelift, on every core (or `--engine interp`).
    Run(run::RunArgs),
    /// Print a pipeline's dataflow graph (IR) as text or Graphviz.
    View(view::ViewArgs),
    /// Train an agent's weights and write them into its `neural_weights` section.
    Train(train::TrainArgs),
    /// Compile ahead of time (agents: a static library with a C header).
    Build(build::BuildArgs),
    /// The interactive REPL: each input JIT-compiled; definitions persist (docs/repl.md).
    Repl,
}

/// The process exit status of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success = 0,
    /// A compile error, a failed check or a failed run.
    Failure = 1,
    /// Bad command-line usage.
    Usage = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// The entry point of the `kiln` binary.
pub fn main() -> ExitCode {
    ice::install_hook();
    match Cli::try_parse() {
        Ok(cli) => run(cli).into(),
        Err(e) => {
            // clap prints usage errors to stderr (exit 2) and --help/--version to stdout (0).
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Status {
    match cli.command {
        Command::Check(args) => check::run(&args, &cli.global),
        Command::Explain(args) => explain::run(&args),
        Command::Run(args) => run::run(&args, &cli.global),
        Command::View(args) => view::run(&args, &cli.global),
        Command::Train(args) => train::run(&args, &cli.global),
        Command::Build(args) => build::run(&args, &cli.global),
        Command::Repl => crate::repl::run(check::use_color(cli.global.color)),
    }
}

/// Checks that `file` is one pipeline file (see [`crate::driver::pipeline_file`]); if not,
/// says why and gives the usage status.
pub(crate) fn require_pipeline(file: &std::path::Path) -> Result<(), Status> {
    crate::driver::pipeline_file(file).map_err(|e| {
        report_error(e);
        Status::Usage
    })
}

/// Prints `error: message` on stderr.
pub(crate) fn report_error(message: impl std::fmt::Display) {
    eprintln!("error: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_of_the_contract_exists() {
        let names: Vec<String> =
            Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
        assert_eq!(names, ["check", "explain", "run", "view", "train", "build", "repl"]);
    }
}
