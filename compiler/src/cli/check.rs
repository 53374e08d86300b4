//! `kiln check [PATH]... [--format F] [--deny-warnings]`.

use super::{ColorChoice, GlobalArgs, Status, report_error};
use crate::diag::render::{self, Format};
use crate::diag::{Diagnostic, Severity};
use crate::driver::{self, WalkError};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files and folders to check; folders are searched recursively for .kiln, .af and
    /// .prompt files. Default: the current folder.
    pub paths: Vec<PathBuf>,
    /// Output format of the diagnostics (written to standard output).
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print the wall time of each phase (read, parse, resolve, check, lint, render) to
    /// standard error.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Short,
    Json,
    Sarif,
    Github,
}

pub(super) fn run(args: &CheckArgs, global: &GlobalArgs) -> Status {
    let start = std::time::Instant::now();
    keep_memory();
    if args.timings {
        crate::timing::enable();
    }
    let status = check(args, global);
    if args.timings {
        let mut line = String::new();
        for (name, d) in crate::timing::recorded() {
            line += &format!("{name} {:.1} ms, ", d.as_secs_f64() * 1e3);
        }
        eprintln!("timings: {line}total {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    }
    status
}

fn check(args: &CheckArgs, global: &GlobalArgs) -> Status {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let files = match driver::collect_sources(&paths) {
        Ok(files) => files,
        Err(e) => {
            report_error(&e);
            return match e {
                WalkError::NotFound(_) | WalkError::NotSource(_) | WalkError::NotPipeline(..) => {
                    Status::Usage
                }
                WalkError::Io(..) => Status::Failure,
            };
        }
    };
    if files.is_empty() && !global.quiet {
        eprintln!("warning: no .kiln, .af or .prompt files found");
    }
    let run = match driver::check_files(&files) {
        Ok(run) => run,
        Err(e) => {
            report_error(e);
            return Status::Failure;
        }
    };
    let mut diags = run.diagnostics;
    let warnings_fail = args.deny_warnings && diags.iter().any(|d| d.severity == Severity::Warning);
    let errors = diags.iter().any(Diagnostic::is_error);
    if global.quiet && !args.deny_warnings {
        diags.retain(Diagnostic::is_error);
    }
    let format = match args.format {
        FormatArg::Human => Format::Human { color: use_color(global.color) },
        FormatArg::Short => Format::Short,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = crate::timing::phase("render", || {
        render::render(format, &run.map, &diags, &mut out).and_then(|_| out.flush())
    });
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            report_error(format_args!("cannot write the diagnostics: {e}"));
        }
        return Status::Failure;
    }
    if diags.is_empty() && args.format == FormatArg::Human && !global.quiet && !files.is_empty() {
        let n = files.len();
        eprintln!("checked {n} file{}: no problems found", if n == 1 { "" } else { "s" });
    }
    if errors || warnings_fail { Status::Failure } else { Status::Success }
}

/// Whether human output on standard output gets ANSI colours.
pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            !no_color && !dumb && std::io::stdout().is_terminal()
        }
    }
}

/// `kiln check` is one short process that builds its syntax trees and typed programs and
/// exits without freeing them (`driver::check_files`). glibc's malloc would give memory
/// back to the system whenever the top of a heap is free (the parser's token queues) and
/// map large blocks afresh, and every page taken again costs a page fault: about a tenth
/// of the run on a 10,000-line file. Keeping what it got and growing in larger steps
/// avoids that.
fn keep_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_TOP_PAD: i32 = -2;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: `mallopt` only sets glibc malloc's tuning parameters (under its own
        // lock); the values are in range (the mmap threshold at glibc's maximum of 32 MiB
        // on 64-bit systems), and a refused setting leaves the default.
        unsafe {
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            mallopt(M_TOP_PAD, 64 << 20);
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
        }
    }
}
