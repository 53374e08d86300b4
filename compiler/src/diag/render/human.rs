//! `human`: codespan-reporting snippets, help as a `= help:` note, and a summary line
//! (`error: 2 errors, 1 warning emitted`) after the last diagnostic.

use super::{clamp, summary};
use crate::diag::{Diagnostic, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor};
use std::io::{self, Write};
use termcolor::{Ansi, Color, ColorSpec, NoColor, WriteColor};

pub(super) fn render(
    map: &SourceMap,
    diags: &[Diagnostic],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    if color {
        write_all(map, diags, &mut Ansi::new(out))
    } else {
        write_all(map, diags, &mut NoColor::new(out))
    }
}

fn write_all(map: &SourceMap, diags: &[Diagnostic], w: &mut impl WriteColor) -> io::Result<()> {
    let config = term::Config::default();
    for diag in diags {
        term::emit_to_write_style(w, &config, map, &convert(map, diag)).map_err(to_io)?;
    }
    if let Some((severity, text)) = summary(diags) {
        let color = match severity {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
        };
        w.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true))?;
        write!(w, "{}", severity.as_str())?;
        w.set_color(ColorSpec::new().set_bold(true))?;
        write!(w, ": {text}")?;
        w.reset()?;
        writeln!(w)?;
    }
    Ok(())
}

fn convert(map: &SourceMap, diag: &Diagnostic) -> cs::Diagnostic<crate::source::FileId> {
    let severity = match diag.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let label = |style, l: &crate::diag::Label| {
        let span = clamp(map, l.span);
        cs::Label::new(style, span.file, span.range()).with_message(&l.message)
    };
    let mut labels = vec![label(cs::LabelStyle::Primary, &diag.primary)];
    labels.extend(diag.secondary.iter().map(|l| label(cs::LabelStyle::Secondary, l)));
    let notes = diag.help.iter().map(|h| format!("help: {h}")).collect();
    cs::Diagnostic::new(severity)
        .with_code(diag.code.as_str())
        .with_message(&diag.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn to_io(e: codespan_reporting::files::Error) -> io::Error {
    match e {
        codespan_reporting::files::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}
