//! `kiln run` of a pipeline that calls language models: the model client is started before
//! the run (`--no-cache`, `--offline`, `--trace`), given to the engine, and its per-model
//! summary printed on stderr after the run (not under `--quiet`).

use crate::codegen::run::RunOptions;
use crate::driver::client::{ModelFlags, Started, start as start_client};
use crate::interp::models::ModelRun;
use crate::ir::Pipeline;
use std::path::Path;
use std::rc::Rc;

/// The chunk size (bytes of input) of a compiled run that calls models: small, so the
/// records of a stage spread over the workers and their calls overlap (1: a record each).
const MODEL_CHUNK: usize = 1;
/// The most workers a compiled run starts for model calls.
const MAX_WORKERS: usize = 256;

/// The client for the run, when the pipeline calls models.
pub fn start(file: &Path, p: &Pipeline, flags: &ModelFlags) -> Result<Option<Started>, String> {
    let models = crate::driver::agents::models_called(p);
    if models.is_empty() {
        return Ok(None);
    }
    let s = start_client(file, &models, flags)?;
    kiln_runtime::model::ffi::set_active(Some(s.client.clone()));
    Ok(Some(s))
}

/// The interpreter's view of the client.
pub fn interp(s: &Started) -> ModelRun {
    ModelRun { client: s.client.clone(), stage: Rc::from(""), source: Rc::from(""), line: 0 }
}

/// A compiled run's options when it calls models: as many workers as calls may be in
/// flight (a worker waits for its call), and small chunks.
pub fn jit_options(s: Option<&Started>, mut opts: RunOptions) -> RunOptions {
    if let Some(s) = s {
        opts.threads = opts.threads.max(s.concurrency).min(MAX_WORKERS);
        opts.chunk_size = opts.chunk_size.or(Some(MODEL_CHUNK));
    }
    opts
}

/// After the run: the trace written out, the summary printed.
pub fn finish(s: Option<&Started>, quiet: bool) {
    let Some(s) = s else { return };
    kiln_runtime::model::ffi::set_active(None);
    s.client.finish();
    if !quiet {
        for line in s.client.summary() {
            eprintln!("{line}");
        }
    }
}
