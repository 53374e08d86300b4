//! What a run's model calls did: the per-model counters of the run summary, and the
//! `--trace` file (one JSONL line per attempt, cache hits included).

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The counters of one model. `calls` counts the calls that reached this model and were not
/// answered from the cache; `retries` the attempts after the first; so the requests the
/// provider saw are `calls + retries` (less those `--offline` or the budget stopped).
#[derive(Default, Debug)]
pub struct Stats {
    pub calls: AtomicU64,
    pub cache_hits: AtomicU64,
    pub retries: AtomicU64,
    pub failures: AtomicU64,
    pub fallbacks: AtomicU64,
    pub tokens_in: AtomicU64,
    pub tokens_out: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub calls: u64,
    pub cache_hits: u64,
    pub retries: u64,
    pub failures: u64,
    pub fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

impl Stats {
    pub fn counts(&self) -> Counts {
        Counts {
            calls: self.calls.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            retries: self.retries.load(Relaxed),
            failures: self.failures.load(Relaxed),
            fallbacks: self.fallbacks.load(Relaxed),
            tokens_in: self.tokens_in.load(Relaxed),
            tokens_out: self.tokens_out.load(Relaxed),
        }
    }
}

impl Counts {
    /// The summary line of model `name`.
    pub fn line(&self, name: &str) -> String {
        let n = |x: u64, one: &str, many: &str| format!("{x} {}", if x == 1 { one } else { many });
        format!(
            "model `{name}`: {}, {}, {}, {}, {}, {} tokens in, {} tokens out",
            n(self.calls, "call", "calls"),
            n(self.cache_hits, "cache hit", "cache hits"),
            n(self.retries, "retry", "retries"),
            n(self.failures, "failure", "failures"),
            n(self.fallbacks, "fallback", "fallbacks"),
            self.tokens_in,
            self.tokens_out
        )
    }
}

/// One line of the trace.
pub struct TraceLine<'a> {
    pub record: &'a str,
    pub stage: &'a str,
    pub model: &'a str,
    /// From 1; 0 for a cache hit.
    pub attempt: u32,
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub cache_hit: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub error: Option<&'a str>,
}

/// The `--trace` file; writes are serialized, lines whole.
pub struct Trace {
    out: Mutex<std::io::BufWriter<std::fs::File>>,
}

impl Trace {
    pub fn create(path: &std::path::Path) -> std::io::Result<Trace> {
        let f = std::fs::File::create(path)?;
        Ok(Trace { out: Mutex::new(std::io::BufWriter::new(f)) })
    }

    pub fn write(&self, l: &TraceLine<'_>) {
        let v = serde_json::json!({
            "record": l.record,
            "stage": l.stage,
            "model": l.model,
            "attempt": l.attempt,
            "status": l.status,
            "latency_ms": (l.latency_ms * 1000.0).round() / 1000.0,
            "cache_hit": l.cache_hit,
            "tokens_in": l.tokens_in,
            "tokens_out": l.tokens_out,
            "error": l.error,
        });
        let mut line = v.to_string();
        line.push('\n');
        if let Ok(mut w) = self.out.lock() {
            let _ = w.write_all(line.as_bytes());
        }
    }

    pub fn flush(&self) {
        if let Ok(mut w) = self.out.lock() {
            let _ = w.flush();
        }
    }
}
