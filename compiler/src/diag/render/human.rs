//! `human`: source snippets, help as a `= help:` note, and a summary line (`error: 2
//! errors, 1 warning emitted`) after the last diagnostic. The renderer itself is the
//! runtime's ([`kiln_runtime::program::report`]), so a built executable reports a run-time
//! failure with the same bytes as `kiln run`.

use crate::diag::{Diagnostic, Label, Severity};
use crate::source::{SourceMap, Span};
use kiln_runtime::program::report as rt;
use std::io::{self, Write};

pub(super) fn render(
    map: &SourceMap,
    diags: &[Diagnostic],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let reports: Vec<rt::Report> = diags.iter().map(report).collect();
    rt::render(&sources(map), &reports, out, color)
}

/// Every file of `map`, as the runtime's renderer reads them.
pub fn sources(map: &SourceMap) -> rt::Sources {
    rt::Sources {
        files: map
            .ids()
            .map(|id| {
                let f = map.get(id);
                rt::SourceText::new(f.name.clone(), f.text.clone())
            })
            .collect(),
    }
}

/// A span as the runtime's renderer takes it.
pub fn span(s: Span) -> rt::Span {
    rt::Span { file: s.file.0, start: s.start, end: s.end }
}

/// A diagnostic as the runtime's renderer takes it.
pub fn report(d: &Diagnostic) -> rt::Report {
    let label = |l: &Label| rt::Label { span: span(l.span), message: l.message.clone() };
    rt::Report {
        code: d.code.as_str().to_string(),
        error: d.severity == Severity::Error,
        message: d.message.clone(),
        primary: label(&d.primary),
        secondary: d.secondary.iter().map(label).collect(),
        help: d.help.clone(),
    }
}

/// A diagnostic the runtime reported (a run's failure), in the compiler's model.
pub fn diagnostic(r: &rt::Report) -> Diagnostic {
    let span =
        |s: rt::Span| Span { file: crate::source::FileId(s.file), start: s.start, end: s.end };
    let code = crate::diag::Code::lookup(&r.code).unwrap_or(crate::diag::codes::E0611);
    Diagnostic {
        code,
        severity: if r.error { Severity::Error } else { Severity::Warning },
        message: r.message.clone(),
        primary: Label { span: span(r.primary.span), message: r.primary.message.clone() },
        secondary: r
            .secondary
            .iter()
            .map(|l| Label { span: span(l.span), message: l.message.clone() })
            .collect(),
        help: r.help.clone(),
    }
}
