//! Running a loaded program: [`run`] (used by `kiln run` on compiled code and by built
//! executables) and [`program_main`], the whole command line of an executable built by
//! `kiln build` (LANGUAGE.md §5.1): the flags of `kiln run`, the same stderr, the same exit
//! codes.

use super::load::{KeptValues, Loaded, RunParams, fill_kept};
use super::params::{ParamError, given, resolve};
use super::report::{Report, render};
use super::{ModelsSpec, Spec};
use crate::exec as rt;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// The chunk size (bytes of input) of a run that calls models: small, so the records of a
/// stage spread over the workers and their calls overlap (1: a record each).
pub const MODEL_CHUNK: usize = 1;
/// The most workers a run starts for model calls.
pub const MAX_WORKERS: usize = 256;

/// Runs `spec` (its functions at `fns`, its kept table at `table`) with `params`: the
/// number of records sent to the errors stream, or the failure that stopped it.
pub fn run(
    spec: &Spec,
    fns: &[*const u8],
    table: &mut [*const u8],
    params: &RunParams,
    opts: &rt::Options,
) -> Result<u64, Box<Report>> {
    let loaded = Loaded::new(spec, fns);
    let kept: KeptValues = fill_kept(spec, table).map_err(|e| Box::new(super::load::ice(e)))?;
    let plan = loaded.plan(params)?;
    let result = rt::run(&plan, opts);
    drop(plan);
    drop(kept);
    loaded.report(result)
}

/// The value of every param of `spec` for `cli` (`--param` pairs) and the environment.
pub fn run_params(
    spec: &Spec,
    fns: &[*const u8],
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RunParams, ParamError> {
    let loaded = Loaded::new(spec, fns);
    let empty = rt::ParamBlock::new(&[], &[]).unwrap_or_default();
    let mut default = |i: usize| {
        let d = &spec.params[i];
        let Some(arg) = &d.default else { return Err(Box::new(super::load::ice("no default"))) };
        match loaded.arg_value(arg, &empty)? {
            Ok(v) => Ok(match (v, &d.ty) {
                (crate::exec::arg::ArgValue::Int(n), crate::layout::TypeDesc::Float) => {
                    rt::ParamValue::Float(n as f64)
                }
                (crate::exec::arg::ArgValue::Int(n), _) => rt::ParamValue::Int(n),
                (crate::exec::arg::ArgValue::Bool(b), _) => rt::ParamValue::Bool(b),
                (crate::exec::arg::ArgValue::Str(s), _) => rt::ParamValue::Str(s),
                (crate::exec::arg::ArgValue::Float(x), _) => rt::ParamValue::Float(x),
                (crate::exec::arg::ArgValue::Null, _) => rt::ParamValue::Null,
            }),
            Err((code, span, msg)) => {
                Err(Box::new(Report::error(&code, span, msg).label("fails here")))
            }
        }
    };
    let values = resolve(&spec.params, cli, env, &mut default)?;
    Ok(RunParams { values, given: given(&spec.params, cli, env) })
}

/// The model client of a run, started (`--no-cache`, `--offline`, `--trace FILE`).
pub struct Models {
    pub client: Arc<crate::model::Client>,
    pub concurrency: usize,
}

/// Starts the model client of `m` and makes it the one compiled code calls.
pub fn start_models(
    m: &ModelsSpec,
    no_cache: bool,
    offline: bool,
    trace: Option<std::path::PathBuf>,
) -> Result<Models, String> {
    let cache = match std::env::var_os("KILN_CACHE_DIR") {
        Some(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => std::path::PathBuf::from(&m.cache_dir),
    };
    let opts = crate::model::Options { cache_dir: (!no_cache).then_some(cache), offline, trace };
    let client = Arc::new(crate::model::Client::new(&m.config, &opts)?);
    crate::model::ffi::set_active(Some(client.clone()));
    Ok(Models { client, concurrency: m.concurrency })
}

/// After the run: the trace written out, the per-model summary printed (not under
/// `--quiet`).
pub fn finish_models(m: Option<&Models>, quiet: bool) {
    let Some(m) = m else { return };
    crate::model::ffi::set_active(None);
    m.client.finish();
    if !quiet {
        for line in m.client.summary() {
            eprintln!("{line}");
        }
    }
}

/// The command line of a built executable.
#[derive(Debug, Default, Clone)]
pub(super) struct Args {
    params: Vec<(String, String)>,
    threads: Option<usize>,
    quiet: bool,
    pub(super) help: bool,
    no_cache: bool,
    offline: bool,
    trace: Option<String>,
}

pub(super) fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.iter().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| {
            inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| {
                format!("a value is required for '{flag} <{what}>' but none was supplied")
            })
        };
        match flag {
            "--param" => {
                let v = value("NAME=VALUE")?;
                match v.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        a.params.push((k.trim().to_string(), v.to_string()))
                    }
                    _ => {
                        return Err(format!(
                            "invalid value '{v}' for '--param <NAME=VALUE>': expected NAME=VALUE, found `{v}`"
                        ));
                    }
                }
            }
            "--threads" => {
                let v = value("N")?;
                match v.parse::<usize>() {
                    Ok(n) if n >= 1 => a.threads = Some(n),
                    _ => {
                        return Err(format!(
                            "invalid value '{v}' for '--threads <N>': expected a whole number of at least 1"
                        ));
                    }
                }
            }
            "--trace" => a.trace = Some(value("FILE")?),
            "-q" | "--quiet" => a.quiet = true,
            "-h" | "--help" => a.help = true,
            "--no-cache" => a.no_cache = true,
            "--offline" => a.offline = true,
            other => return Err(format!("unexpected argument '{other}' found")),
        }
    }
    Ok(a)
}

pub(super) fn help(spec: &Spec, program: &str) -> String {
    let mut s = format!(
        "Runs the pipeline {} (built by kiln {}).\n\nUsage: {program} [--param NAME=VALUE]... [--threads N] [--quiet] [--no-cache] [--offline] [--trace FILE]\n\nOptions:\n",
        spec.pipeline, spec.kiln_version
    );
    for (f, d) in [
        ("--param <NAME=VALUE>", "Set a param (repeatable; wins over KILN_PARAM_<NAME>)"),
        ("--threads <N>", "Worker threads (default: all cores); output is the same for any number"),
        ("-q, --quiet", "Print nothing on stderr but errors"),
        ("--no-cache", "Language-model calls: skip the answer cache"),
        ("--offline", "Language-model calls: open no connection"),
        ("--trace <FILE>", "Language-model calls: write one JSONL line per attempt to FILE"),
        ("-h, --help", "Print help"),
    ] {
        s.push_str(&format!("  {f:<22} {d}\n"));
    }
    if spec.params.is_empty() {
        s.push_str("\nThe pipeline declares no params.\n");
    } else {
        s.push_str("\nParams (--param NAME=VALUE, or the environment variable KILN_PARAM_NAME):\n");
        for p in &spec.params {
            let default = match &p.shown_default {
                Some(d) => format!(" (default: {d})"),
                None => " (required)".to_string(),
            };
            s.push_str(&format!("  {}: {}{default}\n", p.name, p.shown_ty));
        }
    }
    s
}

fn use_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_color && !dumb && std::io::stdout().is_terminal()
}

/// A built executable's `main`: `argv`, the program's spec, its functions and its kept
/// table. Returns the exit code (0 success, 1 a failed run, 2 bad usage).
pub fn program_main(
    argv: &[String],
    spec: &[u8],
    fns: &[*const u8],
    table: &mut [*const u8],
) -> i32 {
    let spec = match Spec::decode(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let program = argv.first().map_or("pipeline", String::as_str);
    let args = match parse_args(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\nFor more information, try '--help'.");
            return 2;
        }
    };
    if args.help {
        print!("{}", help(&spec, program));
        return 0;
    }
    run_args(&spec, fns, table, &args, None)
}

/// Runs the program as its executable does with `args` (already parsed; `--help` done),
/// sources and sinks in `streams` read and written there instead of their files: prints
/// what `kiln run` prints and returns the exit code.
pub(super) fn run_args(
    spec: &Spec,
    fns: &[*const u8],
    table: &mut [*const u8],
    args: &Args,
    streams: Option<Arc<rt::Streams>>,
) -> i32 {
    if !args.quiet {
        eprint!("{}", spec.report.warnings);
    }
    let color = use_color();
    let fail = |r: &Report| {
        let mut err = std::io::stderr().lock();
        let _ = render(&spec.sources(), std::slice::from_ref(r), &mut err, color);
        1
    };
    let env = |k: &str| std::env::var(k).ok();
    let params = match run_params(spec, fns, &args.params, &env) {
        Ok(p) => p,
        Err(ParamError::Usage(m)) => {
            eprintln!("error: {m}");
            return 2;
        }
        Err(ParamError::Report(r)) => return fail(&r),
    };
    let models = match &spec.models {
        Some(m) => {
            match start_models(m, args.no_cache, args.offline, args.trace.clone().map(Into::into)) {
                Ok(m) => Some(m),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        }
        None => None,
    };
    let progress = super::progress::bar(args.quiet);
    let drew = progress.is_some();
    let mut opts = rt::Options {
        progress,
        streams,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        ..rt::Options::default()
    };
    if let Some(c) = std::env::var("KILN_CHUNK_SIZE").ok().and_then(|s| s.parse().ok()) {
        opts.chunk_size = c;
    }
    if let Some(m) = &models {
        opts.threads = opts.threads.max(m.concurrency).min(MAX_WORKERS);
        if std::env::var("KILN_CHUNK_SIZE").is_err() {
            opts.chunk_size = MODEL_CHUNK;
        }
    }
    let result = run(spec, fns, table, &params, &opts);
    if drew {
        super::progress::clear();
    }
    finish_models(models.as_ref(), args.quiet);
    let _ = std::io::stdout().flush();
    match result {
        Ok(errors) => {
            if errors > 0 && !args.quiet {
                let s = if errors == 1 { "" } else { "s" };
                eprintln!("note: {errors} record{s} failed and went to the errors sink");
            }
            0
        }
        // `... | head`: the reader has what it wanted; stop quietly, as jq does.
        Err(r) if r.code == "E0608" && r.message == crate::io::write::STDOUT_CLOSED => 0,
        Err(r) => fail(&r),
    }
}

/// The C entry point a built executable's generated `main` calls: `argc`/`argv` as given
/// to `main`, the spec's bytes, the function table and the kept table.
///
/// # Safety
/// `argv` must hold `argc` C strings; `spec` must point to `spec_len` bytes; `fns` to
/// `nfns` function addresses compiled for the spec; `kept` to `nkept` writable pointer
/// slots that nothing else uses while the program runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_program_main(
    argc: i32,
    argv: *const *const std::ffi::c_char,
    spec: *const u8,
    spec_len: usize,
    fns: *const *const u8,
    nfns: usize,
    kept: *mut *const u8,
    nkept: usize,
) -> i32 {
    let args: Vec<String> = (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: the caller passes `main`'s argc/argv: `argc` valid C strings.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                return String::new();
            }
            // SAFETY: as above: a NUL-terminated string.
            unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
        })
        .collect();
    // SAFETY: the caller's promises about the three tables.
    let (spec, fns, table) = unsafe {
        (
            std::slice::from_raw_parts(spec, spec_len),
            std::slice::from_raw_parts(fns, nfns),
            std::slice::from_raw_parts_mut(kept, nkept),
        )
    };
    // The pipeline runs on a thread with a big stack (as `kiln run` does).
    let code = std::thread::Builder::new()
        .stack_size(rt::WORKER_STACK)
        .spawn({
            let spec = spec.to_vec();
            let fns: Vec<usize> = fns.iter().map(|p| *p as usize).collect();
            let table = table.as_mut_ptr() as usize;
            move || {
                let fns: Vec<*const u8> = fns.into_iter().map(|p| p as *const u8).collect();
                // SAFETY: the kept table the caller gave, used by this thread only.
                let table =
                    unsafe { std::slice::from_raw_parts_mut(table as *mut *const u8, nkept) };
                program_main(&args, &spec, &fns, table)
            }
        })
        .map(|t| t.join().unwrap_or(101))
        .unwrap_or(1);
    let _ = std::io::stdout().flush();
    code
}
