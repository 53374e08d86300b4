//! `sarif`: one SARIF 2.1.0 log with a single run. The driver lists a rule for each code
//! used (sorted by code) with the registry title as `shortDescription` and the long
//! explanation as `fullDescription`. Regions use `"columnKind": "unicodeCodePoints"`:
//! 1-based lines and columns counting Unicode scalar values, `endColumn` exclusive.
//! Secondary labels become `relatedLocations`; the primary label's text is the message
//! of the result's location.

use super::locate;
use crate::diag::{Code, Diagnostic, Label, Severity};
use crate::source::SourceMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub(super) fn render(map: &SourceMap, diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    let mut codes = BTreeMap::new();
    for d in diags {
        codes.insert(d.code.as_str(), d.code);
    }
    let index: BTreeMap<&str, usize> = codes.keys().enumerate().map(|(i, c)| (*c, i)).collect();
    let rules: Vec<Value> = codes.values().map(|c| rule(*c)).collect();
    let results: Vec<Value> =
        diags.iter().map(|d| result(map, d, index[d.code.as_str()])).collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kiln",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule(code: Code) -> Value {
    let explanation = code.explanation().trim();
    let full = if explanation.is_empty() { code.title() } else { explanation };
    json!({
        "id": code.as_str(),
        "shortDescription": { "text": code.title() },
        "fullDescription": { "text": full, "markdown": full },
        "defaultConfiguration": { "level": level(code.severity()) },
    })
}

fn result(map: &SourceMap, d: &Diagnostic, rule_index: usize) -> Value {
    let mut location = json!({ "physicalLocation": physical(map, &d.primary) });
    if !d.primary.message.is_empty() {
        location["message"] = json!({ "text": d.primary.message });
    }
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": { "text": message_text(d) },
        "locations": [location],
    });
    if !d.secondary.is_empty() {
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "id": i + 1,
                    "physicalLocation": physical(map, l),
                    "message": { "text": l.message },
                })
            })
            .collect();
        result["relatedLocations"] = Value::Array(related);
    }
    result
}

/// The result message: the diagnostic's message, then its help on a new line.
fn message_text(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    }
}

/// A `physicalLocation` object.
fn physical(map: &SourceMap, label: &Label) -> Value {
    let loc = locate(map, label.span);
    json!({
        "artifactLocation": { "uri": uri(loc.file) },
        "region": {
            "startLine": loc.line,
            "startColumn": loc.column,
            "endLine": loc.end_line,
            "endColumn": loc.end_column,
        }
    })
}

/// A URI reference for a file name: absolute paths become `file:///…`, relative ones stay
/// relative (to the directory `kiln check` ran in); `\` becomes `/` and every byte outside
/// the RFC 3986 unreserved set (and `/`) is percent-encoded.
pub(crate) fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let windows_drive =
        path.as_bytes().get(1) == Some(&b':') && path.as_bytes()[0].is_ascii_alphabetic();
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    } else if windows_drive {
        out.push_str("file:///");
    }
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || (windows_drive && i == 1);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris_are_percent_encoded_references() {
        assert_eq!(uri("src/a b/ß.kiln"), "src/a%20b/%C3%9F.kiln");
        assert_eq!(uri("/tmp/x,y:z%.kiln"), "file:///tmp/x%2Cy%3Az%25.kiln");
        assert_eq!(uri(r"C:\work\p.kiln"), "file:///C:/work/p.kiln");
    }
}
