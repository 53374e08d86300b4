//! The model client of a run (`kiln run` of a pipeline that calls `complete`): the
//! `kiln.toml` found for the pipeline file, read into the runtime's settings, and the run's
//! `--no-cache`, `--offline` and `--trace FILE`.

use super::models::find_config;
use kiln_runtime::model::{Client, Options, cache_dir};
use kiln_runtime::program::ModelsSpec;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The command line's model flags.
#[derive(Clone, Debug, Default)]
pub struct ModelFlags {
    pub no_cache: bool,
    pub offline: bool,
    pub trace: Option<PathBuf>,
}

/// A started client, and the sum of `max_concurrency` over the models it may call.
pub struct Started {
    pub client: Arc<Client>,
    pub concurrency: usize,
}

/// Starts the client for a run of `file` whose `complete` calls name `models`.
pub fn start(file: &Path, models: &[String], flags: &ModelFlags) -> Result<Started, String> {
    let spec = models_spec(file, models)?;
    let opts = Options {
        cache_dir: (!flags.no_cache).then(|| {
            let beside = Path::new(&spec.cache_dir);
            cache_dir(beside.parent().unwrap_or(beside))
        }),
        offline: flags.offline,
        trace: flags.trace.clone(),
    };
    let client = Client::new(&spec.config, &opts)?;
    Ok(Started { client: Arc::new(client), concurrency: spec.concurrency })
}

/// The model settings of a program in `file` whose `complete` calls name `models`: the
/// `kiln.toml` found for it (no key: keys are read from the environment at each call),
/// the folder the cache goes in (beside `kiln.toml`; `KILN_CACHE_DIR` wins when the
/// program runs) and the sum of `max_concurrency` over the models it may call.
pub fn models_spec(file: &Path, models: &[String]) -> Result<ModelsSpec, String> {
    let Some(path) = find_config(file) else {
        return Err(format!(
            "no kiln.toml found beside {} or in a parent folder to configure its models",
            file.display()
        ));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let shown = path.display().to_string();
    let config = crate::config::runtime::runtime_config(&text, &shown)?;
    // The models called and every fallback they lead to.
    let mut used: Vec<&str> = models.iter().map(String::as_str).collect();
    let mut i = 0;
    while i < used.len() {
        if let Some(m) = config.models.iter().find(|m| m.name == used[i])
            && let Some(f) = &m.fallback
            && !used.contains(&f.as_str())
        {
            used.push(f);
        }
        i += 1;
    }
    let concurrency = config
        .models
        .iter()
        .filter(|m| used.contains(&m.name.as_str()))
        .map(|m| m.max_concurrency)
        .sum();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let cache_dir = dir.join(".kiln-cache").display().to_string();
    Ok(ModelsSpec { config, cache_dir, concurrency })
}
