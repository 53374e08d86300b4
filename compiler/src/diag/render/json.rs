//! `json`: one JSON object per line (JSON Lines) with exactly the fields
//! `code, severity, message, file, line, column, end_line, end_column, labels, help`.
//! Lines and columns are 1-based, columns count Unicode scalar values and the end
//! position is exclusive (just after the last character). `labels` holds every label,
//! the primary one first; `help` is `null` when absent.

use super::locate;
use crate::diag::{Diagnostic, Label};
use crate::source::SourceMap;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

pub(super) fn render(map: &SourceMap, diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        let loc = locate(map, d.primary.span);
        let record = JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity.as_str(),
            message: &d.message,
            file: loc.file,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            labels: std::iter::once(&d.primary)
                .chain(&d.secondary)
                .map(|l| label(map, l))
                .collect(),
            help: d.help.as_deref(),
        };
        serde_json::to_writer(&mut *out, &record)?;
        writeln!(out)?;
    }
    Ok(())
}

fn label<'a>(map: &'a SourceMap, l: &'a Label) -> JsonLabel<'a> {
    let loc = locate(map, l.span);
    JsonLabel {
        file: loc.file,
        line: loc.line,
        column: loc.column,
        end_line: loc.end_line,
        end_column: loc.end_column,
        message: &l.message,
    }
}
