//! One renderer per output format. Every renderer takes the same input: the source map
//! and the sorted diagnostics of a run. [`render`] is the common entry point; the format
//! conventions (fields, column counting, end positions) are described in
//! `docs/diagnostics.md`.

mod github;
pub mod human;
mod json;
mod sarif;
mod short;

use super::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};
use std::io::{self, Write};

/// An output format of `kiln check --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Source snippets with labels (codespan-reporting), then a summary line.
    /// `color` turns on ANSI colours; the caller decides (terminal, `NO_COLOR`, `--color`).
    Human { color: bool },
    /// One line per diagnostic: `path:line:col: error[E0001]: message`.
    Short,
    /// One JSON object per line.
    Json,
    /// One SARIF 2.1.0 log.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::message`).
    Github,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human { .. } => "human",
            Format::Short => "short",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

/// Writes `diags` (already sorted, see [`super::sort`]) to `out` in `format`.
/// Spans are clamped to their file, so a bad span never makes rendering fail.
pub fn render(
    format: Format,
    map: &SourceMap,
    diags: &[Diagnostic],
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human { color } => human::render(map, diags, out, color),
        Format::Short => short::render(map, diags, out),
        Format::Json => json::render(map, diags, out),
        Format::Sarif => sarif::render(map, diags, out),
        Format::Github => github::render(map, diags, out),
    }
}

/// The one-line summary the human format ends with, e.g. `2 errors, 1 warning emitted`;
/// `None` when there is nothing to report.
pub fn summary(diags: &[Diagnostic]) -> Option<(Severity, String)> {
    let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diags.len() - errors;
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let (severity, text) = match (errors, warnings) {
        (0, 0) => return None,
        (0, w) => (Severity::Warning, count(w, "warning")),
        (e, 0) => (Severity::Error, count(e, "error")),
        (e, w) => (Severity::Error, format!("{}, {}", count(e, "error"), count(w, "warning"))),
    };
    Some((severity, format!("{text} emitted")))
}

/// A span resolved to 1-based lines and columns. Columns count Unicode scalar values;
/// `end_line`/`end_column` is the position just after the last character (exclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Location<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// The span moved inside its file and onto character boundaries.
pub(crate) fn clamp(map: &SourceMap, span: Span) -> Span {
    let text = &map.get(span.file).text;
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start as usize);
    let end = floor(span.end as usize).max(start);
    Span::new(span.file, start, end)
}

pub(crate) fn locate(map: &SourceMap, span: Span) -> Location<'_> {
    let span = clamp(map, span);
    let file = map.get(span.file);
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    Location { file: &file.name, line, column, end_line, end_column }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes;

    #[test]
    fn clamp_moves_spans_inside_the_file_and_onto_char_boundaries() {
        let mut map = SourceMap::new();
        let f = map.add("a.kiln", "é\n");
        // 1 is inside `é` (2 bytes); 99 is past the end.
        assert_eq!(clamp(&map, Span::new(f, 1, 99)), Span::new(f, 0, 3));
        assert_eq!(clamp(&map, Span::new(f, 50, 10)), Span::new(f, 3, 3));
    }

    #[test]
    fn locate_counts_chars_and_ends_exclusively() {
        let mut map = SourceMap::new();
        let f = map.add("a.kiln", "ab\n\"é😀\" + x\n");
        let x = map.get(f).text.find('x').unwrap();
        let loc = locate(&map, Span::new(f, x, x + 1));
        assert_eq!((loc.line, loc.column, loc.end_line, loc.end_column), (2, 8, 2, 9));
    }

    #[test]
    fn summary_counts_and_pluralizes() {
        let mut map = SourceMap::new();
        let f = map.add("a.kiln", "x");
        let e = Diagnostic::new(codes::E0001, Span::new(f, 0, 1), "e");
        let w = Diagnostic::new(codes::W0001, Span::new(f, 0, 1), "w");
        assert_eq!(summary(&[]), None);
        assert_eq!(
            summary(std::slice::from_ref(&w)),
            Some((Severity::Warning, "1 warning emitted".into()))
        );
        assert_eq!(
            summary(&[e.clone(), e, w.clone(), w]),
            Some((Severity::Error, "2 errors, 2 warnings emitted".into()))
        );
    }
}
