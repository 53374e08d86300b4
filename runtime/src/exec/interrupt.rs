//! Stopping a run from outside: `kiln repl` sets the flag when the user presses Ctrl-C
//! during `:run`, and the calling thread of [`super::run`] checks it after every chunk it
//! receives, stopping the run with [`Failure::Io`](super::Failure::Io) and the message
//! [`MESSAGE`]. The flag is process-wide, like the signal that sets it; a run started
//! while it is set stops at its first chunk, so callers [`clear`] it before each run.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The message of the failure an interrupted run ends with.
pub const MESSAGE: &str = "interrupted";

/// Asks the running run (if any) to stop after its current chunk.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Clears a request (before a new run).
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
