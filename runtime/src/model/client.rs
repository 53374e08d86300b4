//! The client of one run: every `complete` call and typed prompt of every stage and worker
//! thread goes through one [`Client`], which keeps, per model, at most `max_concurrency`
//! requests in flight and a `Retry-After` hold that every caller waits for.
//!
//! A call: the cache (unless `--no-cache`), then, with `--offline`, an error naming the key;
//! else one request for all identical calls in flight at once (the others wait for its
//! answer), attempts with full-jitter backoff, and the `fallback` model when they fail.

use super::cache::{Cache, Entry, Key};
use super::http::{self, Attempt};
use super::request::{self, Schema};
use super::stats::{Counts, Stats, Trace, TraceLine};
use super::{Budget, Config, ModelConfig, Options, Settings};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One call: a rendered prompt for a model, and the record and stage it is made for (the
/// trace names them).
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub model: &'a str,
    pub prompt: &'a str,
    pub schema: Option<&'a Schema>,
    /// A prompt's own `temperature` / `max_tokens`.
    pub settings: Settings,
    pub record: &'a str,
    pub stage: &'a str,
}

/// The first backoff step, and the longest wait full jitter draws from.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(20);

struct Model {
    cfg: ModelConfig,
    url: String,
    /// The key read from `api_key_env` when the client started: `Err(variable)` when unset.
    key: Option<Result<String, String>>,
    fallback: Option<usize>,
    /// Requests in flight.
    busy: Mutex<usize>,
    freed: Condvar,
    /// No request starts before this instant (a `Retry-After`).
    hold: Mutex<Option<Instant>>,
    stats: Stats,
}

/// A request in flight, which identical calls wait for.
#[derive(Default)]
struct Flight {
    done: Mutex<Option<Result<Entry, String>>>,
    cv: Condvar,
}

/// Ends a request in flight: wakes the identical calls waiting for it (with an error if it
/// never set an outcome, as when it unwound) and forgets it.
struct Landing<'c> {
    client: &'c Client,
    key: Key,
    flight: &'c Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut done = self.flight.done.lock().unwrap_or_else(|p| p.into_inner());
        if done.is_none() {
            *done = Some(Err("the identical call this one waited for failed".to_string()));
        }
        drop(done);
        self.flight.cv.notify_all();
        self.client.inflight.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

/// Why a model gave no answer; `stop`: trying the fallback is pointless (the budget).
struct Fail {
    message: String,
    stop: bool,
}

pub struct Client {
    models: Vec<Model>,
    by_name: HashMap<String, usize>,
    agent: ureq::Agent,
    cache: Option<Cache>,
    offline: bool,
    trace: Option<Trace>,
    budget: Budget,
    calls_started: AtomicU64,
    tokens_spent: AtomicU64,
    inflight: Mutex<HashMap<Key, Arc<Flight>>>,
    rng: AtomicU64,
}

impl Client {
    /// A client for `config`; reads the API keys from the environment. Fails only when the
    /// trace file cannot be created.
    pub fn new(config: &Config, opts: &Options) -> Result<Client, String> {
        let by_name: HashMap<String, usize> =
            config.models.iter().enumerate().map(|(i, m)| (m.name.clone(), i)).collect();
        let models: Vec<Model> = config
            .models
            .iter()
            .map(|m| Model {
                url: m.endpoint(),
                key: m.api_key_env.as_ref().map(|v| match std::env::var(v) {
                    Ok(k) if !k.is_empty() => Ok(k),
                    _ => Err(v.clone()),
                }),
                fallback: m.fallback.as_ref().and_then(|f| by_name.get(f).copied()),
                cfg: m.clone(),
                busy: Mutex::new(0),
                freed: Condvar::new(),
                hold: Mutex::new(None),
                stats: Stats::default(),
            })
            .collect();
        let trace = match &opts.trace {
            Some(p) => Some(
                Trace::create(p)
                    .map_err(|e| format!("cannot create the trace file {}: {e}", p.display()))?,
            ),
            None => None,
        };
        let idle = models.iter().map(|m| m.cfg.max_concurrency).sum::<usize>();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Ok(Client {
            models,
            by_name,
            agent: http::agent(idle),
            cache: opts.cache_dir.clone().map(Cache::new),
            offline: opts.offline,
            trace,
            budget: config.budget,
            calls_started: AtomicU64::new(0),
            tokens_spent: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
            rng: AtomicU64::new(seed | 1),
        })
    }

    /// Whether `name` is a configured model.
    pub fn has_model(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The answer to `call`: from the cache, or from the model or its fallbacks. The error
    /// says what failed (statuses and provider messages, never the key).
    pub fn complete(&self, call: &Call<'_>) -> Result<String, String> {
        let Some(&first) = self.by_name.get(call.model) else {
            return Err(format!("unknown model `{}`", call.model));
        };
        let mut m = first;
        let mut failures: Vec<String> = Vec::new();
        for _ in 0..self.models.len() {
            match self.one(m, call) {
                Ok(e) => return Ok(e.text),
                Err(f) => {
                    let model = &self.models[m];
                    model.stats.failures.fetch_add(1, Relaxed);
                    failures.push(format!("model `{}`: {}", model.cfg.name, f.message));
                    match model.fallback {
                        Some(next) if !f.stop => {
                            model.stats.fallbacks.fetch_add(1, Relaxed);
                            m = next;
                        }
                        _ => break,
                    }
                }
            }
        }
        Err(self.scrub(failures.join("; then ")))
    }

    /// One model of the chain: the cache, then a request shared by identical calls.
    fn one(&self, m: usize, call: &Call<'_>) -> Result<Entry, Fail> {
        let model = &self.models[m];
        let body = request::body(&model.cfg, call.prompt, call.schema, call.settings);
        let key = Key::of(&model.url, &body);
        if let Some(e) = self.cached(m, call, &key) {
            return Ok(e);
        }
        if self.offline {
            return Err(Fail {
                message: format!("no cached answer (offline run), cache key {}", key.hex()),
                stop: false,
            });
        }
        let (flight, leader) = {
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&key) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight::default());
                    map.insert(key, f.clone());
                    (f, true)
                }
            }
        };
        if !leader {
            let mut done = flight.done.lock().unwrap_or_else(|p| p.into_inner());
            while done.is_none() {
                done = flight.cv.wait(done).unwrap_or_else(|p| p.into_inner());
            }
            let r = done.clone().unwrap_or_else(|| Err(String::new()));
            drop(done);
            return match r {
                Ok(e) => {
                    model.stats.cache_hits.fetch_add(1, Relaxed);
                    self.trace_hit(m, call);
                    Ok(e)
                }
                Err(message) => Err(Fail { message, stop: false }),
            };
        }
        // Whatever happens below, the waiters are released and the entry removed.
        let _done = Landing { client: self, key, flight: &flight };
        // Another thread may have stored the answer between the lookup and now.
        let r = match self.cache.as_ref().and_then(|c| c.get(&key)) {
            Some(e) => {
                model.stats.cache_hits.fetch_add(1, Relaxed);
                self.trace_hit(m, call);
                Ok(e)
            }
            None => self.network(m, call, &body),
        };
        if let (Ok(e), Some(c)) = (&r, &self.cache) {
            c.put(&key, e);
        }
        *flight.done.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(r.as_ref().map(Clone::clone).map_err(|f| f.message.clone()));
        r
    }

    fn cached(&self, m: usize, call: &Call<'_>, key: &Key) -> Option<Entry> {
        let e = self.cache.as_ref()?.get(key)?;
        self.models[m].stats.cache_hits.fetch_add(1, Relaxed);
        self.trace_hit(m, call);
        Some(e)
    }

    /// Whether the run writes a `--trace` file.
    pub fn traces(&self) -> bool {
        self.trace.is_some()
    }

    fn trace_hit(&self, m: usize, call: &Call<'_>) {
        if let Some(t) = &self.trace {
            t.write(&TraceLine {
                record: call.record,
                stage: call.stage,
                model: &self.models[m].cfg.name,
                attempt: 0,
                status: None,
                latency_ms: 0.0,
                cache_hit: true,
                tokens_in: 0,
                tokens_out: 0,
                error: None,
            });
        }
    }

    /// The budget, then up to `1 + retries` attempts.
    fn network(&self, m: usize, call: &Call<'_>, body: &[u8]) -> Result<Entry, Fail> {
        let model = &self.models[m];
        let cfg = &model.cfg;
        if let Some(max) = self.budget.max_calls
            && self.calls_started.fetch_add(1, Relaxed) >= max
        {
            let message = format!("[budget] max_calls = {max} was reached; the call was not made");
            return Err(Fail { message, stop: true });
        }
        if let Some(max) = self.budget.max_tokens
            && self.tokens_spent.load(Relaxed) >= max
        {
            let message = format!("[budget] max_tokens = {max} was reached; the call was not made");
            return Err(Fail { message, stop: true });
        }
        let key = match &model.key {
            Some(Ok(k)) => Some(k.as_str()),
            Some(Err(var)) => {
                let message = format!(
                    "the environment variable `{var}` (its `api_key_env`) is not set; the call was not made"
                );
                return Err(Fail { message, stop: false });
            }
            None => None,
        };
        model.stats.calls.fetch_add(1, Relaxed);
        let attempts = cfg.retries.saturating_add(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                model.stats.retries.fetch_add(1, Relaxed);
            }
            self.acquire(model);
            let t0 = Instant::now();
            let a = http::attempt(&self.agent, &model.url, key, body, cfg.timeout);
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            self.release(model);
            let (status, message, retry, wait) = match a {
                Attempt::Ok { status, answer } => {
                    model.stats.tokens_in.fetch_add(answer.tokens_in, Relaxed);
                    model.stats.tokens_out.fetch_add(answer.tokens_out, Relaxed);
                    self.tokens_spent.fetch_add(answer.tokens_in + answer.tokens_out, Relaxed);
                    self.trace_attempt(m, call, attempt, Some(status), ms, &answer, None);
                    return Ok(Entry {
                        text: answer.text,
                        tokens_in: answer.tokens_in,
                        tokens_out: answer.tokens_out,
                    });
                }
                Attempt::Failed { status, retry, wait, message } => (status, message, retry, wait),
            };
            let none = request::Answer { text: String::new(), tokens_in: 0, tokens_out: 0 };
            let shown = self.scrub(message);
            self.trace_attempt(m, call, attempt, status, ms, &none, Some(&shown));
            last = shown;
            if !retry {
                return Err(Fail { message: last, stop: false });
            }
            if attempt == attempts {
                break;
            }
            match wait {
                Some(w) if w > cfg.max_retry_wait => {
                    let message = format!(
                        "{last}; the provider asked to wait {:.1} s (Retry-After), longer than max_retry_wait_s = {}",
                        w.as_secs_f64(),
                        cfg.max_retry_wait.as_secs()
                    );
                    return Err(Fail { message, stop: false });
                }
                Some(w) => self.hold(model, w),
                None => std::thread::sleep(self.jitter(attempt)),
            }
        }
        let s = if attempts == 1 { "" } else { "s" };
        Err(Fail { message: format!("{last} (after {attempts} attempt{s})"), stop: false })
    }

    #[allow(clippy::too_many_arguments)]
    fn trace_attempt(
        &self,
        m: usize,
        call: &Call<'_>,
        attempt: u32,
        status: Option<u16>,
        ms: f64,
        a: &request::Answer,
        error: Option<&str>,
    ) {
        if let Some(t) = &self.trace {
            t.write(&TraceLine {
                record: call.record,
                stage: call.stage,
                model: &self.models[m].cfg.name,
                attempt,
                status,
                latency_ms: ms,
                cache_hit: false,
                tokens_in: a.tokens_in,
                tokens_out: a.tokens_out,
                error,
            });
        }
    }

    /// Holds every request to `model` back for `w` from now.
    fn hold(&self, model: &Model, w: Duration) {
        let until = Instant::now() + w;
        let mut h = model.hold.lock().unwrap_or_else(|p| p.into_inner());
        if h.is_none_or(|t| t < until) {
            *h = Some(until);
        }
    }

    /// Waits for a free slot of `model` with no hold in force.
    fn acquire(&self, model: &Model) {
        loop {
            let until = *model.hold.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = until {
                let now = Instant::now();
                if t > now {
                    std::thread::sleep(t - now);
                    continue;
                }
            }
            let mut busy = model.busy.lock().unwrap_or_else(|p| p.into_inner());
            while *busy >= model.cfg.max_concurrency.max(1) {
                busy = model.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
            }
            // A hold set while this caller waited for a slot applies to it too.
            let held = model
                .hold
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| t > Instant::now());
            if held {
                continue;
            }
            *busy += 1;
            return;
        }
    }

    fn release(&self, model: &Model) {
        let mut busy = model.busy.lock().unwrap_or_else(|p| p.into_inner());
        *busy = busy.saturating_sub(1);
        model.freed.notify_one();
    }

    /// Full jitter: a uniform draw from zero to the attempt's exponential step.
    fn jitter(&self, attempt: u32) -> Duration {
        let step = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let cap = step.min(BACKOFF_CAP);
        // splitmix64 over a shared counter.
        let mut z = self.rng.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        cap.mul_f64((z >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// `s` with every API key of the run replaced, in case a provider echoed one.
    fn scrub(&self, mut s: String) -> String {
        for m in &self.models {
            if let Some(Ok(k)) = &m.key
                && !k.is_empty()
                && s.contains(k.as_str())
            {
                s = s.replace(k.as_str(), "[key withheld]");
            }
        }
        s
    }

    /// The counters of each model, in kiln.toml order.
    pub fn counts(&self) -> Vec<(String, Counts)> {
        self.models.iter().map(|m| (m.cfg.name.clone(), m.stats.counts())).collect()
    }

    /// The run summary: a line per model that was called or answered from the cache.
    pub fn summary(&self) -> Vec<String> {
        self.counts()
            .into_iter()
            .filter(|(_, c)| c.calls + c.cache_hits + c.failures > 0)
            .map(|(n, c)| c.line(&n))
            .collect()
    }

    /// Writes out the trace.
    pub fn finish(&self) {
        if let Some(t) = &self.trace {
            t.flush();
        }
    }
}
