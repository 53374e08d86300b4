//! Feeds arbitrary UTF-8 through the whole check path (`driver::check_source`) as each kind
//! of source file, then through every renderer. It fails on a panic, on a diagnostic whose
//! span lies outside its file or off a character boundary, and on JSON output that does not
//! parse. A synthetic diagnostic with an arbitrary span and the input as its message also
//! goes through the renderers, which must cope with any span (they clamp) and any text.
#![no_main]

use kiln::diag::render::{Format, render};
use kiln::diag::{Diagnostic, codes};
use kiln::driver::check_source_here as check_source;
use kiln::source::{SourceMap, Span};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 5] =
    [Format::Human { color: true }, Format::Short, Format::Json, Format::Sarif, Format::Github];

fuzz_target!(|text: &str| {
    for name in ["fuzz.kiln", "fuzz.prompt", "fuzz.af"] {
        let run = check_source(name, text);
        for d in &run.diagnostics {
            assert_span(&run.map, d.primary.span);
            for label in &d.secondary {
                assert_span(&run.map, label.span);
            }
        }
        let mut diags = run.diagnostics.clone();
        let file = kiln::source::FileId(0);
        let (a, b) = (text.len() / 3, text.len() * 2 / 3 + 1);
        diags.push(
            Diagnostic::new(codes::E0001, Span::new(file, a, b), text)
                .label(text)
                .secondary(Span::new(file, b, a), text)
                .help(text),
        );
        for format in FORMATS {
            let mut out = Vec::new();
            render(format, &run.map, &diags, &mut out).expect("rendering to memory");
            let out = String::from_utf8(out).expect("renderers write UTF-8");
            match format {
                Format::Json => {
                    for line in out.lines() {
                        serde_json::from_str::<serde_json::Value>(line).expect("a JSON line");
                    }
                }
                Format::Sarif => {
                    serde_json::from_str::<serde_json::Value>(&out).expect("a SARIF log");
                }
                _ => {}
            }
        }
    }
});

fn assert_span(map: &SourceMap, span: Span) {
    assert!((span.file.0 as usize) < map.len(), "span in an unknown file: {span:?}");
    let text = &map.get(span.file).text;
    assert!(span.start <= span.end, "reversed span {span:?}");
    assert!(span.end as usize <= text.len(), "span past the end of the file: {span:?}");
    assert!(text.is_char_boundary(span.start as usize), "span starts inside a char: {span:?}");
    assert!(text.is_char_boundary(span.end as usize), "span ends inside a char: {span:?}");
}
