//! The `.prompt` loader (`driver::prompt::load`: front matter, parameter names and their
//! types, and the template's syntax) on arbitrary text. It fails on a panic, on a diagnostic
//! whose span lies outside the text or off a character boundary, on a signature returned
//! together with a front-matter error (or none without one), and on a signature that breaks
//! the loader's promises: the template is the text after the closing `---` line, parameter
//! names are identifiers. Template syntax errors (spans inside the template) come with a
//! signature: the prompt can still be called and its names checked.
//!
//! The first input byte picks a frame for the rest: as is, after an opening `---` line, or
//! as the body of `params:` (so the fuzzer spends its time on names and types).
#![no_main]

use kiln::diag::Diagnostic;
use kiln::driver::prompt::load;
use kiln::source::{FileId, Span};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(rest) = std::str::from_utf8(rest) else { return };
    let text = match mode % 4 {
        0 => rest.to_string(),
        1 => format!("---\n{rest}"),
        2 => format!("---\nparams:\n  {rest}\n---\n{{{{ x }}}}\n"),
        _ => format!("---\nparams:\n  x: \"{rest}\"\nmodel: m\n---\nHi {{{{ x }}}}\n"),
    };
    let (sig, diags) = load(FileId(0), &text);
    for d in &diags {
        assert_span(&text, d.primary.span, d);
        for l in &d.secondary {
            assert_span(&text, l.span, d);
        }
    }
    let errors = diags.iter().any(Diagnostic::is_error);
    let Some(sig) = sig else {
        assert!(errors, "no signature and no error: {diags:#?}");
        return;
    };
    let template_start = (text.len() - sig.template.len()) as u32;
    let front_errors = diags.iter().any(|d| d.is_error() && d.primary.span.start < template_start);
    assert!(!front_errors, "a signature came back with front-matter errors: {diags:#?}");
    // The template is what follows the closing `---` line; the file opens with `---`.
    assert!(text.ends_with(&sig.template), "the template is not the end of the file");
    let head = &text[..text.len() - sig.template.len()];
    let first = head.split('\n').next().unwrap_or("");
    assert_eq!(first.trim_end(), "---", "the first line is not a fence");
    let fence = head.strip_suffix('\n').unwrap_or(head);
    let fence = fence.rsplit('\n').next().unwrap_or("");
    assert_eq!(fence.trim_end(), "---", "the template does not follow a fence: {head:?}");
    assert!(head.len() > first.len(), "the opening fence closes itself: {head:?}");
    for (name, _) in &sig.params {
        let name = &name.name;
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        assert!(ok, "parameter name {name:?}");
    }
});

fn assert_span(text: &str, span: Span, d: &Diagnostic) {
    assert_eq!(span.file, FileId(0), "{d:?}");
    assert!(span.start <= span.end, "reversed span in {d:?}");
    assert!(span.end as usize <= text.len(), "span past the end in {d:?}");
    assert!(text.is_char_boundary(span.start as usize), "span starts inside a char: {d:?}");
    assert!(text.is_char_boundary(span.end as usize), "span ends inside a char: {d:?}");
}
