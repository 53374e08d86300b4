//! `kiln run FILE [--param K=V]... [--threads N] [--engine E] [--quiet]`: checks the
//! pipeline, then runs it, JIT-compiled (`crate::codegen`) or on the reference interpreter
//! (`crate::interp`). See docs/run.md.

use super::check::use_color;
use super::{GlobalArgs, Status, report_error};
use crate::codegen::run::Ran;
use crate::diag::Diagnostic;
use crate::diag::render::{self, Format};
use crate::interp::params::ParamError;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The pipeline file.
    pub file: PathBuf,
    /// Set a param: `--param NAME=VALUE` (repeatable; wins over KILN_PARAM_<NAME>).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Worker threads (default: all cores). Output is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// How to run: `jit` (compiled code on the parallel executor), `interp` (the reference
    /// interpreter, one thread), or `auto`: the JIT unless the pipeline streams values it
    /// cannot lay out (see docs/run.md).
    #[arg(long, value_enum, default_value = "auto")]
    pub engine: Engine,
    /// Language-model calls: skip the answer cache (neither read nor write it).
    #[arg(long)]
    pub no_cache: bool,
    /// Language-model calls: open no connection; an answer not in the cache is a record error.
    #[arg(long)]
    pub offline: bool,
    /// Language-model calls: write one JSONL line per attempt to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Auto,
    Jit,
    Interp,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{s}`")),
    }
}

enum Outcome {
    Done {
        errors: u64,
    },
    /// Diagnostics to render (compile errors, or the run-time failure), with the map.
    Failed(crate::driver::CheckRun),
    Usage(String),
    Other(String),
}

pub fn run(args: &RunArgs, global: &GlobalArgs) -> Status {
    if let Err(status) = super::require_pipeline(&args.file) {
        return status;
    }
    let file = args.file.clone();
    let params = args.params.clone();
    let quiet = global.quiet;
    let how = How {
        engine: args.engine,
        threads: args.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        ),
    };
    let flags = crate::driver::client::ModelFlags {
        no_cache: args.no_cache,
        offline: args.offline,
        trace: args.trace.clone(),
    };
    let outcome =
        crate::driver::with_big_stack(move || run_here(&file, &params, quiet, how, &flags));
    let color = use_color(global.color);
    match outcome {
        Outcome::Done { errors } => {
            if errors > 0 && !quiet {
                let s = if errors == 1 { "" } else { "s" };
                eprintln!("note: {errors} record{s} failed and went to the errors sink");
            }
            Status::Success
        }
        // `kiln run ... | head`: the reader has what it wanted; stop quietly, as jq does.
        Outcome::Failed(run)
            if run.diagnostics.iter().any(|d| {
                d.code == crate::diag::codes::E0608
                    && d.message == kiln_runtime::io::write::STDOUT_CLOSED
            }) =>
        {
            Status::Success
        }
        Outcome::Failed(run) => {
            let shown: Vec<Diagnostic> =
                run.diagnostics.into_iter().filter(|d| d.is_error() || !quiet).collect();
            let mut err = std::io::stderr().lock();
            let _ = render::render(Format::Human { color }, &run.map, &shown, &mut err);
            Status::Failure
        }
        Outcome::Usage(m) => {
            report_error(m);
            Status::Usage
        }
        Outcome::Other(m) => {
            report_error(m);
            Status::Failure
        }
    }
}

#[derive(Clone, Copy)]
struct How {
    engine: Engine,
    threads: usize,
}

fn run_here(
    file: &std::path::Path,
    params: &[(String, String)],
    quiet: bool,
    how: How,
    flags: &crate::driver::client::ModelFlags,
) -> Outcome {
    use crate::compile::{Input, Options, Outcome as Compiled};
    let skip = Options::skip_from(std::env::var("KILN_SKIP_PASSES").ok());
    let c = match crate::compile::compile(Input::File(file), Options { skip, ..Options::default() })
    {
        Ok(Compiled::Compiled(c)) => c,
        Ok(Compiled::Failed(run)) => return Outcome::Failed(run),
        Err(e) => return Outcome::Other(e),
    };
    let crate::compile::Compiled { check: mut run, reference, optimized, sinks, .. } = *c;
    if sinks == 0 {
        return Outcome::Other(format!(
            "{} declares no sink, so there is nothing to run; add one such as `sink STAGE -> stdout()`",
            file.display()
        ));
    }
    if !quiet && !run.diagnostics.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = render::render(Format::Short, &run.map, &run.diagnostics, &mut err);
    }
    // The interpreter runs the graph before the optimizations, compiled code the graph
    // after them (docs/run.md, "The optimizer").
    let pipeline = reference;
    let fail = |mut run: crate::driver::CheckRun, d: Diagnostic| {
        run.diagnostics = vec![d];
        Outcome::Failed(run)
    };
    let jit = match (how.engine, crate::codegen::plan::supported(&optimized)) {
        (Engine::Interp, _) => false,
        (Engine::Auto, r) => r.is_ok(),
        (Engine::Jit, Ok(())) => true,
        (Engine::Jit, Err(why)) => return Outcome::Other(format!("cannot use the JIT: {why}")),
    };
    let agents = match crate::driver::agents::prepare(&pipeline, &run.map) {
        Ok(a) => a,
        Err(d) => return fail(run, *d),
    };
    let env = |k: &str| std::env::var(k).ok();
    let values = match crate::interp::params::resolve(&pipeline, params, &env) {
        Ok(v) => v,
        Err(ParamError::Usage(m)) => return Outcome::Usage(m),
        Err(ParamError::Diag(d)) => return fail(run, *d),
    };
    let models = match super::models::start(file, &pipeline, flags) {
        Ok(m) => m,
        Err(m) => return Outcome::Other(m),
    };
    let interp = || {
        let mut cx = crate::interp::Interp::new(&pipeline, values.clone());
        cx.agents = agents.clone();
        cx.models = models.as_ref().map(super::models::interp);
        cx.param_given = crate::interp::params::given(&pipeline, params, &env);
        cx
    };
    let on_interp =
        |cx| crate::interp::exec::Exec::new(cx, &run.map).and_then(|ex| ex.run()).map(|s| s.errors);
    let result = if jit {
        let opts = crate::codegen::run::RunOptions {
            threads: how.threads,
            chunk_size: std::env::var("KILN_CHUNK_SIZE").ok().and_then(|s| s.parse().ok()),
            progress: kiln_runtime::program::progress::bar(quiet),
        };
        let opts = super::models::jit_options(models.as_ref(), opts);
        let drew = opts.progress.is_some();
        let given = crate::interp::params::given(&pipeline, params, &env);
        let values = values.iter().map(crate::interp::params::runtime_value).collect();
        let rp = crate::codegen::run::RunParams { values, given };
        let r = crate::codegen::run::run(&optimized, &run.map, agents.clone(), &rp, opts);
        if drew {
            kiln_runtime::program::progress::clear();
        }
        match r {
            Ok(Ran::Done(n)) => Ok(n),
            // Nothing ran: the default engine runs the pipeline on the interpreter instead
            // (saying why), `--engine jit` stops.
            Ok(Ran::Refused(d)) if matches!(how.engine, Engine::Auto) => {
                if !quiet {
                    let mut note = *d.clone();
                    note.severity = crate::diag::Severity::Warning;
                    let mut err = std::io::stderr().lock();
                    let _ = render::render(Format::Short, &run.map, &[note], &mut err);
                }
                on_interp(interp())
            }
            Ok(Ran::Refused(d)) => Err(d),
            Err(d) => Err(d),
        }
    } else {
        on_interp(interp())
    };
    super::models::finish(models.as_ref(), quiet);
    match result {
        Ok(errors) => Outcome::Done { errors },
        Err(d) => {
            run.diagnostics.clear();
            fail(run, *d)
        }
    }
}
