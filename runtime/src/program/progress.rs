//! The progress bar of `kiln run` on compiled code and of built executables: drawn on
//! stderr only when stderr is a terminal and `--quiet` is not given, at most ten times a
//! second, and erased at the end.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A progress callback for the executor, or `None` when no bar should be drawn.
pub fn bar(quiet: bool) -> Option<Box<dyn Fn(u64, u64) + Send + Sync>> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let start = Instant::now();
    let last = Mutex::new(None::<Instant>);
    Some(Box::new(move |done: u64, total: u64| {
        let Ok(mut last) = last.lock() else { return };
        let now = Instant::now();
        // Short runs never show a bar; long ones redraw at most every 100 ms.
        if now - start < Duration::from_millis(300)
            || last.is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        *last = Some(now);
        let line = render(done, total, now - start);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }))
}

/// Erases the bar (call after the run when a bar was requested).
pub fn clear() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

fn render(done: u64, total: u64, elapsed: Duration) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    let rate = mb(done) / elapsed.as_secs_f64().max(1e-3);
    if total == 0 {
        return format!("{:.0} MB read, {rate:.0} MB/s", mb(done));
    }
    let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
    let width = 30;
    let filled = (frac * width as f64).round() as usize;
    format!(
        "[{}{}] {:>3.0}% {:.0}/{:.0} MB, {rate:.0} MB/s",
        "#".repeat(filled),
        " ".repeat(width - filled),
        frac * 100.0,
        mb(done),
        mb(total)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_fraction_and_rate() {
        let s = super::render(50_000_000, 200_000_000, std::time::Duration::from_secs(1));
        assert!(s.starts_with("[########"), "{s}");
        assert!(s.contains(" 25% 50/200 MB, 50 MB/s"), "{s}");
        let s = super::render(3_000_000, 0, std::time::Duration::from_secs(1));
        assert_eq!(s, "3 MB read, 3 MB/s");
    }
}
