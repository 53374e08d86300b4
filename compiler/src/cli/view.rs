//! `kiln view FILE [--format text|dot] [--passes]`: the dataflow graph of a pipeline as
//! code generation compiles it (after every optimizer pass), or with `--passes` after
//! lowering and after each pass.

use super::check::use_color;
use super::{GlobalArgs, Status, report_error};
use crate::compile::{self, Input, Outcome};
use crate::diag::render::{self, Format};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewFormat {
    Text,
    Dot,
}

#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// The pipeline file.
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = ViewFormat::Text)]
    pub format: ViewFormat,
    /// Show the graph after lowering and after each optimizer pass.
    #[arg(long)]
    pub passes: bool,
}

pub fn run(args: &ViewArgs, global: &GlobalArgs) -> Status {
    if let Err(status) = super::require_pipeline(&args.file) {
        return status;
    }
    let file = args.file.clone();
    let (format, passes) = (args.format, args.passes);
    let result: Result<Result<String, crate::driver::CheckRun>, String> =
        crate::driver::with_big_stack(move || {
            let skip = compile::Options::skip_from(std::env::var("KILN_SKIP_PASSES").ok());
            let opts = compile::Options { keep_passes: passes, skip };
            match compile::compile(Input::File(&file), opts)? {
                Outcome::Compiled(c) => Ok(Ok(show(&c, format, passes))),
                Outcome::Failed(run) => Ok(Err(run)),
            }
        });
    match result {
        Ok(Ok(text)) => {
            print!("{text}");
            Status::Success
        }
        Ok(Err(run)) => {
            let mut err = std::io::stderr().lock();
            let _ = render::render(
                Format::Human { color: use_color(global.color) },
                &run.map,
                &run.diagnostics,
                &mut err,
            );
            Status::Failure
        }
        Err(e) => {
            report_error(e);
            Status::Failure
        }
    }
}

/// The optimized graph, or (`passes`) the graph after lowering and after each pass.
fn show(c: &compile::Compiled, format: ViewFormat, passes: bool) -> String {
    let graph = |p: &crate::ir::Pipeline| match format {
        ViewFormat::Text => crate::ir::print::text(p),
        ViewFormat::Dot => crate::ir::print::dot(p),
    };
    if !passes {
        return graph(&c.optimized);
    }
    let mut out = String::new();
    for (i, snap) in c.passes.iter().enumerate() {
        let what = if i == 0 {
            format!("after `{}`: {} (verified)", snap.name, snap.doc)
        } else {
            let changed = if snap.changed { "changed" } else { "unchanged" };
            format!("after pass `{}` ({changed}): {} (verified)", snap.name, snap.doc)
        };
        match format {
            ViewFormat::Text => {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&format!("== {what} ==\n"));
            }
            // One Graphviz document per pass; `dot` reads them all.
            ViewFormat::Dot => out.push_str(&format!("// {what}\n")),
        }
        out.push_str(&graph(&snap.graph));
    }
    out
}
