//! The language-model client (LANGUAGE.md §4): what `complete` and typed prompts call, in
//! the interpreter, in JIT-compiled code and in built executables alike.
//!
//! - [`Config`]: plain data the compiler builds from `kiln.toml` (the API key is not in it:
//!   only the *name* of the variable that holds it, read when the [`Client`] starts).
//! - [`request`]: the OpenAI-compatible `/v1/chat/completions` body and the answer's decoding.
//! - [`http`]: one attempt over a keep-alive blocking agent (ureq, no async runtime), with a
//!   deadline, and what its outcome means (retry or not, `Retry-After`).
//! - [`cache`]: the content-addressed disk cache (temporary file then rename, checksum).
//! - [`client`]: concurrency limits, the model-wide `Retry-After` hold, retries with full
//!   jitter, fallback, in-flight de-duplication, the budget.
//! - [`stats`]: the per-model run summary and the `--trace` file.

pub mod cache;
pub mod client;
pub mod ffi;
pub mod http;
pub mod request;
pub mod stats;

pub use client::{Call, Client};

use std::path::PathBuf;
use std::time::Duration;

/// How a typed prompt asks for its JSON answer (`structured_output`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Structured {
    /// `response_format: {type: "json_schema", json_schema: {...}}`.
    #[default]
    JsonSchema,
    /// `response_format: {type: "json_object"}`, the schema written into the prompt.
    JsonObject,
    /// The schema written into the prompt only.
    Prompt,
}

/// One `[models.NAME]` table, with defaults filled in.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// The table's name (`default`, `backup`...), as errors and the summary show it.
    pub name: String,
    /// The endpoint's base, e.g. `http://127.0.0.1:8080/v1` (`/chat/completions` is added).
    pub base_url: String,
    /// The model the endpoint serves (the request's `model` field).
    pub model: String,
    /// The environment variable holding the API key; none: no `Authorization` header.
    pub api_key_env: Option<String>,
    pub max_concurrency: usize,
    /// The deadline of one attempt, headers and body together.
    pub timeout: Duration,
    /// Attempts after the first one.
    pub retries: u32,
    /// A `Retry-After` longer than this fails the call at once.
    pub max_retry_wait: Duration,
    /// The model tried after this one fails.
    pub fallback: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    pub structured_output: Structured,
}

impl ModelConfig {
    /// A model with the documented defaults (docs/models.md).
    pub fn new(name: &str, base_url: &str, model: &str) -> ModelConfig {
        ModelConfig {
            name: name.to_string(),
            base_url: base_url.to_string(),
            model: model.to_string(),
            api_key_env: None,
            max_concurrency: DEFAULT_CONCURRENCY,
            timeout: Duration::from_secs(60),
            retries: 3,
            max_retry_wait: Duration::from_secs(60),
            fallback: None,
            temperature: None,
            max_tokens: None,
            structured_output: Structured::JsonSchema,
        }
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// Request settings a prompt's front matter gives (`temperature`, `max_tokens`): they win
/// over its model's.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// `max_concurrency` when kiln.toml does not say.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The `[budget]` table: limits over the whole run.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    pub max_calls: Option<u64>,
    pub max_tokens: Option<u64>,
}

/// Everything the client needs from `kiln.toml`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub models: Vec<ModelConfig>,
    pub budget: Budget,
}

/// The run's choices: `--no-cache`, `--offline`, `--trace FILE`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The cache folder; `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
    /// No connection at all: a cache miss is an error naming the key.
    pub offline: bool,
    /// One JSONL line per attempt.
    pub trace: Option<PathBuf>,
}

/// Where the cache is: `KILN_CACHE_DIR`, else `.kiln-cache/` beside `kiln.toml`.
pub fn cache_dir(config_dir: &std::path::Path) -> PathBuf {
    match std::env::var_os("KILN_CACHE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => config_dir.join(".kiln-cache"),
    }
}
