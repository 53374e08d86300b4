//! The panic hook: a panic is an internal compiler error. Users see a short message asking
//! for a report, never a Rust panic message or backtrace.

use std::any::Any;
use std::panic::Location;

pub(super) fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", message(info.payload(), info.location()));
    }));
}

/// The text printed for a panic with `payload` raised at `location`.
pub(super) fn message(payload: &(dyn Any + Send), location: Option<&Location<'_>>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown cause");
    let place = location.map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    format!(
        "error: internal compiler error: {what}{place}\n\
         note: this is a bug in kiln {}, not in your code.\n\
         note: please report it to the Kiln maintainers with the command you ran and the \
         files it read.",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_cause_and_asks_for_a_report() {
        let payload: Box<dyn Any + Send> = Box::new(String::from("index out of bounds"));
        let text = message(payload.as_ref(), Some(Location::caller()));
        assert!(text.starts_with("error: internal compiler error: index out of bounds at "));
        assert!(text.contains("ice.rs:"));
        assert!(text.contains("please report it"));
        assert!(!text.contains("backtrace"));
        let payload: Box<dyn Any + Send> = Box::new("static str");
        assert!(message(payload.as_ref(), None).contains("error: static str\n"));
        let payload: Box<dyn Any + Send> = Box::new(42);
        assert!(message(payload.as_ref(), None).contains("unknown cause"));
    }
}
