//! Wall time per compiler phase, for `kiln check --timings` (the per-phase figures of
//! `bench/run`'s `kiln check` benchmark). Off unless [`enable`] was called: then each
//! [`phase`] adds its time to a process-wide table, summed by phase name.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static ON: AtomicBool = AtomicBool::new(false);
static PHASES: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

/// Starts recording phases.
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Runs `f`, adding its wall time to phase `name` when recording.
pub fn phase<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    if !ON.load(Ordering::Relaxed) {
        return f();
    }
    let t = Instant::now();
    let r = f();
    let d = t.elapsed();
    if let Ok(mut v) = PHASES.lock() {
        match v.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += d,
            None => v.push((name, d)),
        }
    }
    r
}

/// The phases recorded so far, in the order they first ran.
pub fn recorded() -> Vec<(&'static str, Duration)> {
    PHASES.lock().map(|v| v.clone()).unwrap_or_default()
}
