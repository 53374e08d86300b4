//! `kiln explain CODE`: the title and long explanation of a diagnostic code.

use super::{Status, report_error};
use crate::diag::Code;
use crate::diag::codes::ALL;
use clap::Args;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code such as E0201 or w0001 (case-insensitive).
    pub code: String,
}

pub(super) fn run(args: &ExplainArgs) -> Status {
    match Code::lookup(&args.code) {
        Some(code) => {
            print!("{}", explanation(code));
            Status::Success
        }
        None => {
            report_error(format_args!("unknown diagnostic code `{}`", args.code.trim()));
            eprintln!("{}", unknown_code_help(&args.code));
            Status::Usage
        }
    }
}

/// `E0201: wrong number of arguments (error)`, a blank line, then the explanation without
/// its leading `# E0201…` heading (the first line already names the code).
pub(crate) fn explanation(code: Code) -> String {
    let text = code.explanation().trim();
    let body = match text.split_once('\n') {
        Some((first, rest)) if is_heading_for(first, code) => rest.trim(),
        None if is_heading_for(text, code) => "",
        _ => text,
    };
    let mut out = format!("{}: {} ({})\n", code, code.title(), code.severity().as_str());
    if !body.is_empty() {
        out.push('\n');
        out.push_str(body);
        out.push('\n');
    }
    out
}

fn is_heading_for(line: &str, code: Code) -> bool {
    line.strip_prefix('#')
        .map(|h| h.trim_start_matches('#').trim_start())
        .is_some_and(|h| h.to_ascii_uppercase().starts_with(code.as_str()))
}

/// Suggests the registered codes closest to `input` (by edit distance), or describes the
/// code ranges when nothing is close.
pub(crate) fn unknown_code_help(input: &str) -> String {
    let wanted = input.trim().to_ascii_uppercase();
    let scored: Vec<(usize, Code)> =
        ALL.iter().map(|c| (distance(&wanted, c.as_str()), *c)).collect();
    let best = scored.iter().map(|(d, _)| *d).min().unwrap_or(usize::MAX);
    if best <= 2 {
        let similar: Vec<&str> =
            scored.iter().filter(|(d, _)| *d == best).map(|(_, c)| c.as_str()).collect();
        let more = if similar.len() > 8 { ", …" } else { "" };
        return format!(
            "help: similar codes: {}{more}",
            similar[..similar.len().min(8)].join(", ")
        );
    }
    let range = |prefix: char| {
        let codes: Vec<&str> =
            ALL.iter().map(|c| c.as_str()).filter(|c| c.starts_with(prefix)).collect();
        match (codes.first(), codes.last()) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "none".to_string(),
        }
    };
    format!("help: codes are {} (errors) and {} (warnings)", range('E'), range('W'))
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diag + usize::from(ca != *cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes;

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("E0201", "E0201"), 0);
        assert_eq!(distance("E0299", "E0209"), 1);
        assert_eq!(distance("0201", "E0201"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_codes_get_the_closest_ones() {
        assert_eq!(unknown_code_help("e0299"), "help: similar codes: E0209, E0219");
        assert_eq!(
            unknown_code_help("W0007"),
            "help: similar codes: W0001, W0002, W0003, W0004, W0005, W0006"
        );
        assert!(unknown_code_help("E01").ends_with("E0105, E0106, …"));
        assert!(unknown_code_help("hello").starts_with("help: codes are E0001 to "));
    }

    #[test]
    fn explanation_starts_with_code_title_and_severity() {
        let text = explanation(codes::W0001);
        assert!(text.starts_with("W0001: stage feeds no sink (warning)\n"));
        assert!(!text.contains("# W0001"));
    }
}
