//! The `kiln.toml` checker (`config::load`) on arbitrary text, as is or spliced into a
//! valid file. It fails on a panic, on a diagnostic whose span lies outside the text or off
//! a character boundary, on a masked text of another length than the input, and on a
//! secret-looking quoted value that reaches a diagnostic's message.
#![no_main]

use kiln::config::{load, looks_secret};
use kiln::source::FileId;
use libfuzzer_sys::fuzz_target;

const VALID: &str = "[models.default]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:8080/v1\"\nmodel = \"m\"\napi_key_env = \"OPENAI_API_KEY\"\nfallback = \"backup\"\n\n[models.backup]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:8081/v1\"\nmodel = \"m2\"\n\n[budget]\nmax_calls = 10\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(rest) = std::str::from_utf8(rest) else { return };
    let text = match mode % 3 {
        0 => rest.to_string(),
        1 => format!("{VALID}{rest}"),
        _ => format!("[models.x]\n{rest}\n"),
    };
    let loaded = load(FileId(0), &text);
    assert_eq!(loaded.shown.len(), text.len(), "the masked text changed length");
    for d in &loaded.diagnostics {
        for span in std::iter::once(d.primary.span).chain(d.secondary.iter().map(|l| l.span)) {
            assert!(span.start <= span.end && span.end as usize <= text.len(), "{d:?}");
            assert!(text.is_char_boundary(span.start as usize), "{d:?}");
            assert!(text.is_char_boundary(span.end as usize), "{d:?}");
        }
    }
    // A quoted value that looks like a secret never reaches a diagnostic's message.
    for piece in text.split('"').skip(1).step_by(2) {
        if looks_secret(piece) && piece.len() >= 8 {
            for d in &loaded.diagnostics {
                assert!(!d.message.contains(piece), "secret {piece:?} in {}", d.message);
            }
        }
    }
});
