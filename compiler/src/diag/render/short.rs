//! `short`: one line per diagnostic, `path:line:col: error[E0001]: message`, the start
//! position only (1-based line and column, columns count Unicode scalar values). Line
//! breaks inside a message become spaces so that each diagnostic stays on one line.

use super::locate;
use crate::diag::Diagnostic;
use crate::source::SourceMap;
use std::io::{self, Write};

pub(super) fn render(map: &SourceMap, diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        let loc = locate(map, d.primary.span);
        writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            loc.file,
            loc.line,
            loc.column,
            d.severity.as_str(),
            d.code,
            one_line(&d.message)
        )?;
    }
    Ok(())
}

/// Replaces each line break (`\n`, `\r\n` or `\r`) with a space.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_replaces_every_kind_of_line_break() {
        assert_eq!(super::one_line("a\nb\r\nc\rd"), "a b c d");
    }
}
