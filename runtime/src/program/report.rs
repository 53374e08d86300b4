//! Diagnostics as the runtime renders them: the one `human` renderer of Kiln (source
//! snippets by codespan-reporting, help as a `= help:` note, then the summary line). The
//! compiler's `kiln check --format human` and `kiln run` use it, and so does a built
//! executable, which carries the source text its failure sites point into: the same
//! failure prints the same bytes whichever of them reports it.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::Error as FilesError;
use codespan_reporting::term::{self, termcolor};
use std::io::{self, Write};
use std::ops::Range;
use termcolor::{Ansi, Color, ColorSpec, NoColor, WriteColor};

/// A byte range of one file of [`Sources`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

/// A place and what to say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One diagnostic: a code (`E0600`), whether it is an error, a message, a primary label,
/// secondary labels and an optional help text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub code: String,
    pub error: bool,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Report {
    /// An error with `code` at `span`.
    pub fn error(code: &str, span: Span, message: impl Into<String>) -> Report {
        Report {
            code: code.to_string(),
            error: true,
            message: message.into(),
            primary: Label { span, message: String::new() },
            secondary: Vec::new(),
            help: None,
        }
    }
    pub fn label(mut self, message: impl Into<String>) -> Report {
        self.primary.message = message.into();
        self
    }
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Report {
        self.secondary.push(Label { span, message: message.into() });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Report {
        self.help = Some(help.into());
        self
    }
}

/// One source file: its display name and text, with a line index (the compiler's
/// `SourceFile` too).
#[derive(Clone, Debug, Default)]
pub struct SourceText {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceText {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceText {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText { name: name.into(), text, line_starts }
    }

    /// Zero-based line index of a byte offset.
    pub fn line_index(&self, byte: usize) -> usize {
        match self.line_starts.binary_search(&byte) {
            Ok(l) => l,
            Err(next) => next - 1,
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset where zero-based line `line` starts (the text's end past the last).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.text.len())
    }

    pub fn line_range(&self, line: usize) -> Range<usize> {
        let start = self.line_start(line);
        let end = self.line_starts.get(line + 1).copied().unwrap_or(self.text.len());
        start..end
    }

    /// One-based (line, column) of a byte offset; the column counts Unicode scalar values.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let start = self.line_starts[line];
        let col = self.text.get(start..byte).map(|s| s.chars().count()).unwrap_or(byte - start);
        (line + 1, col + 1)
    }
}

/// The files spans point into, by index.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceText>,
}

impl Sources {
    fn get(&self, id: u32) -> Result<&SourceText, FilesError> {
        self.files.get(id as usize).ok_or(FilesError::FileMissing)
    }

    /// The span moved inside its file and onto character boundaries.
    pub fn clamp(&self, span: Span) -> Span {
        let Some(f) = self.files.get(span.file as usize) else { return span };
        let text = &f.text;
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = floor(span.start as usize);
        let end = floor(span.end as usize).max(start);
        Span { file: span.file, start: start as u32, end: end as u32 }
    }
}

impl<'a> codespan_reporting::files::Files<'a> for Sources {
    type FileId = u32;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: u32) -> Result<&'a str, FilesError> {
        Ok(&self.get(id)?.name)
    }
    fn source(&'a self, id: u32) -> Result<&'a str, FilesError> {
        Ok(&self.get(id)?.text)
    }
    fn line_index(&'a self, id: u32, byte: usize) -> Result<usize, FilesError> {
        Ok(self.get(id)?.line_index(byte))
    }
    fn line_range(&'a self, id: u32, line: usize) -> Result<Range<usize>, FilesError> {
        let f = self.get(id)?;
        if line > f.line_count() {
            return Err(FilesError::LineTooLarge { given: line, max: f.line_count() });
        }
        Ok(f.line_range(line))
    }
}

/// Writes `reports` with source snippets, then the summary line (`error: 2 errors, 1
/// warning emitted`); ANSI colours when `color`.
pub fn render(
    sources: &Sources,
    reports: &[Report],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    if color {
        write_all(sources, reports, &mut Ansi::new(out))
    } else {
        write_all(sources, reports, &mut NoColor::new(out))
    }
}

fn write_all(sources: &Sources, reports: &[Report], w: &mut impl WriteColor) -> io::Result<()> {
    let config = term::Config::default();
    for r in reports {
        term::emit_to_write_style(w, &config, sources, &convert(sources, r)).map_err(to_io)?;
    }
    if let Some((error, text)) = summary(reports) {
        let color = if error { Color::Red } else { Color::Yellow };
        w.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true))?;
        write!(w, "{}", if error { "error" } else { "warning" })?;
        w.set_color(ColorSpec::new().set_bold(true))?;
        write!(w, ": {text}")?;
        w.reset()?;
        writeln!(w)?;
    }
    Ok(())
}

/// The one-line summary the human format ends with, e.g. `2 errors, 1 warning emitted`,
/// and whether it counts an error; `None` when there is nothing to report.
pub fn summary(reports: &[Report]) -> Option<(bool, String)> {
    let errors = reports.iter().filter(|r| r.error).count();
    let warnings = reports.len() - errors;
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let (error, text) = match (errors, warnings) {
        (0, 0) => return None,
        (0, w) => (false, count(w, "warning")),
        (e, 0) => (true, count(e, "error")),
        (e, w) => (true, format!("{}, {}", count(e, "error"), count(w, "warning"))),
    };
    Some((error, format!("{text} emitted")))
}

fn convert(sources: &Sources, r: &Report) -> cs::Diagnostic<u32> {
    let severity = if r.error { cs::Severity::Error } else { cs::Severity::Warning };
    let label = |style, l: &Label| {
        let span = sources.clamp(l.span);
        cs::Label::new(style, span.file, span.start as usize..span.end as usize)
            .with_message(&l.message)
    };
    let mut labels = vec![label(cs::LabelStyle::Primary, &r.primary)];
    labels.extend(r.secondary.iter().map(|l| label(cs::LabelStyle::Secondary, l)));
    let notes = r.help.iter().map(|h| format!("help: {h}")).collect();
    cs::Diagnostic::new(severity)
        .with_code(&r.code)
        .with_message(&r.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn to_io(e: FilesError) -> io::Error {
    match e {
        FilesError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_snippet_with_help_and_the_summary() {
        let sources = Sources { files: vec![SourceText::new("a.kiln", "stage s = 1 / 0\n")] };
        let r = Report::error("E0600", Span { file: 0, start: 10, end: 15 }, "division by zero")
            .label("failed here")
            .help("h");
        let mut out = Vec::new();
        render(&sources, &[r], &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("error[E0600]: division by zero\n"), "{text}");
        assert!(text.contains("a.kiln:1:11"), "{text}");
        assert!(text.contains("= help: h"), "{text}");
        assert!(text.ends_with("error: 1 error emitted\n"), "{text}");
    }

    #[test]
    fn clamp_moves_spans_inside_the_file_and_onto_char_boundaries() {
        let sources = Sources { files: vec![SourceText::new("a", "é\n")] };
        let c = sources.clamp(Span { file: 0, start: 1, end: 99 });
        assert_eq!((c.start, c.end), (0, 3));
    }
}
