//! `github`: GitHub Actions workflow commands, one per diagnostic:
//! `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=E0001::message`
//! (`::warning` for warnings). Lines and columns are 1-based and count Unicode scalar
//! values; `endLine`/`endColumn` name the last character of the span (inclusive), and a
//! zero-width span ends where it starts. GitHub only accepts columns on a one-line
//! annotation, so a span over several lines carries `line` and `endLine` only. The data
//! is the message, then the primary label, each secondary label as
//! `note: path:line:col: text`, and `help: …`, separated by (escaped) line breaks.

use super::{clamp, locate};
use crate::diag::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};
use std::io::{self, Write};

pub(super) fn render(map: &SourceMap, diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let start = locate(map, d.primary.span);
        let (end_line, end_column) = last_char(map, d.primary.span);
        let mut props = vec![("file", start.file.to_string()), ("line", start.line.to_string())];
        if start.line == end_line {
            props.push(("col", start.column.to_string()));
        }
        props.push(("endLine", end_line.to_string()));
        if start.line == end_line {
            props.push(("endColumn", end_column.to_string()));
        }
        props.push(("title", d.code.to_string()));
        let props: Vec<String> =
            props.into_iter().map(|(k, v)| format!("{k}={}", escape_property(&v))).collect();
        writeln!(out, "::{command} {}::{}", props.join(","), escape_data(&data(map, d)))?;
    }
    Ok(())
}

/// The 1-based line and column of the span's last character, or of its start when empty.
fn last_char(map: &SourceMap, span: Span) -> (usize, usize) {
    let span = clamp(map, span);
    let file = map.get(span.file);
    let at = match file.text[span.range()].char_indices().next_back() {
        Some((i, _)) => span.start as usize + i,
        None => span.start as usize,
    };
    file.line_col(at)
}

fn data(map: &SourceMap, d: &Diagnostic) -> String {
    let mut lines = vec![d.message.clone()];
    if !d.primary.message.is_empty() {
        lines.push(d.primary.message.clone());
    }
    for label in &d.secondary {
        let loc = locate(map, label.span);
        let place = format!("{}:{}:{}", loc.file, loc.line, loc.column);
        lines.push(if label.message.is_empty() {
            format!("note: see {place}")
        } else {
            format!("note: {place}: {}", label.message)
        });
    }
    if let Some(help) = &d.help {
        lines.push(format!("help: {help}"));
    }
    lines.join("\n")
}

/// Escapes the message part of a workflow command: `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: as [`escape_data`], plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit_rules() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
        // `%` is escaped first, so an escape sequence in the input survives a round trip.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn last_char_is_inclusive_and_counts_chars() {
        let mut map = SourceMap::new();
        let f = map.add("a.kiln", "é😀x\nabc\n");
        assert_eq!(last_char(&map, Span::new(f, 0, 7)), (1, 3));
        // A span ending after a line break ends on that line break.
        assert_eq!(last_char(&map, Span::new(f, 0, 8)), (1, 4));
        assert_eq!(last_char(&map, Span::new(f, 12, 12)), (3, 1));
    }
}
