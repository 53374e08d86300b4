//! `kiln view FILE [--format text|dot] [--passes]`: the dataflow graph of a pipeline.

use super::check::use_color;
use super::{GlobalArgs, Status, report_error};
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
    let format = args.format;
    let result: Result<Result<String, crate::driver::CheckRun>, String> =
        crate::driver::with_big_stack(move || {
            let mut s = crate::driver::Session::new();
            let m = s.load_file(&file).map_err(|e| e.to_string())?;
            let program = s.check(m);
            let run = s.finish();
            if run.has_errors() {
                return Ok(Err(run));
            }
            let pipeline = crate::ir::lower::lower(&program);
            crate::ir::verify::verify(&pipeline)
                .map_err(|e| format!("internal compiler error: the IR verifier failed: {e}"))?;
            Ok(Ok(match format {
                ViewFormat::Text => crate::ir::print::text(&pipeline),
                ViewFormat::Dot => crate::ir::print::dot(&pipeline),
            }))
        });
    let body = match result {
        Ok(Ok(text)) => text,
        Ok(Err(run)) => {
            let mut err = std::io::stderr().lock();
            let _ = render::render(
                Format::Human { color: use_color(global.color) },
                &run.map,
                &run.diagnostics,
                &mut err,
            );
            return Status::Failure;
        }
        Err(e) => {
            report_error(e);
            return Status::Failure;
        }
    };
    if args.passes && args.format == ViewFormat::Text {
        // The optimizer has no passes yet: lowering is the only stage to show.
        println!("== after lowering (verified) ==");
    }
    print!("{body}");
    Status::Success
}
