//! Words pest's failures for a person. Users never see a grammar rule name: the expected
//! alternatives are collected as literal tokens (re-parsing with pest's error detail on)
//! and summarised ("an expression", "an operator", "a name").

use super::parser::{KilnParser, Rule};
use super::split::opener_description;
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use pest::Parser;
use std::collections::BTreeSet;

/// Tokens that can start an expression; when most of them are expected we say so.
const EXPR_STARTS: &[&str] =
    &["(", "[", "{", "\"", "\"\"\"", "-", "not", "true", "false", "null", "if", "vec"];
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??", "|>", ".",
    "=>",
];

/// Describes why `src` (found at byte `offset` of the file `full`) does not parse as `rule`.
/// `full` is `None` for an expression inside a template tag: its end is the tag's end.
pub(super) fn describe(
    file: FileId,
    full: Option<&str>,
    offset: usize,
    src: &str,
    rule: Rule,
) -> Diagnostic {
    pest::set_error_detail(true);
    let err = KilnParser::parse(rule, src).err();
    pest::set_error_detail(false);
    let Some(err) = err else {
        // Cannot happen: the same input failed a moment ago. Stay helpful anyway.
        return Diagnostic::new(
            codes::E0001,
            Span::new(file, offset, offset + src.len()),
            "syntax error",
        );
    };
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut positives = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives: p, .. } = &err.variant {
        positives = p.clone();
    }
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut wants_name = positives.iter().any(|r| matches!(r, Rule::ident | Rule::field_name));
    let mut wants_number = false;
    if let Some(attempts) = err.parse_attempts() {
        // pest does not export its token type, but prints a literal as itself, a char
        // range as `a..z` and a built-in rule (ASCII_ALPHA...) as BUILTIN_RULE.
        for tok in attempts.expected_tokens() {
            let token = tok.to_string();
            let chars: Vec<char> = token.chars().collect();
            let is_range = chars.len() == 4 && chars[1] == '.' && chars[2] == '.';
            if is_range && chars[0].is_ascii_digit() {
                wants_number = true;
            } else if is_range || token == "BUILTIN_RULE" {
                wants_name = true;
            } else if !matches!(token.as_str(), " " | "\t" | "\r" | "\n" | "#" | "_") {
                expected.insert(token);
            }
        }
    }
    let mut words: Vec<String> = Vec::new();
    let expr_starts = EXPR_STARTS.iter().filter(|t| expected.contains(**t)).count();
    if expr_starts >= 4 {
        expected.retain(|t| !EXPR_STARTS.contains(&t.as_str()) && t != "..");
        words.push("an expression".into());
        wants_name = false;
        wants_number = false;
    }
    if expected.contains("stream") {
        // The start of a type: `[T]`, `vec[N]`, `{ ... }`, `stream<T>` or a name.
        expected.retain(|t| !matches!(t.as_str(), "[" | "{" | "stream" | "vec"));
        words.push("a type".into());
        wants_name = false;
    }
    let had_operators = expected.iter().any(|t| OPERATORS.contains(&t.as_str()));
    expected.retain(|t| !OPERATORS.contains(&t.as_str()));
    if had_operators {
        // After a complete operand, `(` and `[` would continue it as a call or an index.
        expected.retain(|t| !matches!(t.as_str(), "(" | "["));
    }
    let mut listed: Vec<String> = expected.iter().map(|t| format!("`{t}`")).collect();
    // Closing brackets first: they are what a person most often forgot.
    listed.sort_by_key(|t| !matches!(t.as_str(), "`)`" | "`]`" | "`}`"));
    words.extend(listed);
    if wants_name {
        words.push("a name".into());
    }
    if wants_number {
        words.push("a number".into());
    }
    let at_end = src[pos..].trim().is_empty();
    if had_operators && words.is_empty() {
        words.push("an operator".into());
    }
    if positives.contains(&Rule::EOI) || at_end && words.is_empty() {
        words.push(
            if full.is_some() { "the end of the declaration" } else { "the end of the tag" }.into(),
        );
    }

    let abs = offset + pos;
    let (found, found_len) = found_token(&src[pos..]);
    let found = if at_end {
        match full {
            None => "the end of the tag".to_string(),
            Some(full) if offset + src.len() >= full.trim_end().len() => {
                "the end of the file".to_string()
            }
            Some(full) => {
                let next = full[offset + src.len()..].split_whitespace().next().unwrap_or("");
                format!("the next declaration (`{next}`)")
            }
        }
    } else {
        format!("`{found}`")
    };
    let span = if at_end {
        let end = offset + src.trim_end().len();
        Span::new(file, end, end)
    } else {
        Span::new(file, abs, abs + found_len)
    };
    let expected_text = join_or(&words);
    let opener = innermost_open(src, pos);
    let mut message = format!("expected {expected_text}, found {found}");
    if let Some(open) = opener {
        let close = match src.as_bytes()[open] {
            b'(' => "`)`",
            b'[' => "`]`",
            _ => "`}`",
        };
        if words.first().map(String::as_str) == Some(close) {
            let what = opener_description(src, open).trim_end_matches(" is never closed");
            let what = what.strip_prefix("the ").unwrap_or(what);
            message = format!("expected {expected_text} to close {}, found {found}", what_of(what));
        }
    }
    let mut d =
        Diagnostic::new(codes::E0001, span, message).label(format!("expected {expected_text}"));
    if let Some(help) = habit(&src[pos..], &src[..pos]) {
        d = d.help(help);
    }
    if let Some(open) = opener {
        let desc = opener_description(src, open);
        let desc = if desc.ends_with("never closed") { "opened here" } else { desc };
        d = d.secondary(Span::new(file, offset + open, offset + open + 1), desc);
    }
    d
}

/// A help for a habit from another language at the failure (`rest` starts there, `before`
/// is the declaration's text before it).
fn habit(rest: &str, before: &str) -> Option<String> {
    if rest.starts_with("&&") {
        return Some("Kiln writes `and` for `&&`: `a and b`".into());
    }
    if rest.starts_with("||") {
        return Some("Kiln writes `or` for `||`: `a or b`".into());
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return Some("Kiln writes `not x` for `!x`".into());
    }
    if rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>") {
        return Some(
            "to compare two values write `==`; a single `=` only names a value (`let x = ...`)"
                .into(),
        );
    }
    if let Some(after) = rest.strip_prefix('\'') {
        let line = after.split('\n').next().unwrap_or("");
        return Some(match line.find('\'') {
            Some(end) if !line[..end].contains('"') => {
                format!("strings are written in double quotes: `\"{}\"`", &line[..end])
            }
            _ => "strings are written in double quotes: `\"...\"`".into(),
        });
    }
    let word_before = before.trim_end().rsplit(|c: char| !c.is_alphanumeric() && c != '_').next();
    if word_before == Some("lambda") {
        return Some("Kiln writes a function as `x => expression` (no `lambda`, no `:`)".into());
    }
    None
}

/// "call started here" → "the call started here"; "this `(`" stays.
fn what_of(desc: &str) -> String {
    if desc.starts_with("this") { desc.to_string() } else { format!("the {desc}") }
}

fn join_or(words: &[String]) -> String {
    match words {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at the start of `rest`: a word, a number, a string start or one symbol.
fn found_token(rest: &str) -> (String, usize) {
    let mut chars = rest.char_indices();
    let Some((_, c)) = chars.next() else {
        return (String::new(), 0);
    };
    let len = if c.is_alphanumeric() || c == '_' {
        rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_')).unwrap_or(rest.len())
    } else {
        let two = rest.get(..2).unwrap_or("");
        if ["==", "!=", "<=", ">=", "|>", "=>", "->", "??", "//", "..", "&&", "||"].contains(&two) {
            2
        } else {
            c.len_utf8()
        }
    };
    (rest[..len].to_string(), len)
}

/// The innermost bracket still open at `pos` (strings and comments skipped).
fn innermost_open(src: &str, pos: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut stack = Vec::new();
    let mut i = 0;
    while i < pos.min(b.len()) {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if src[i..].starts_with("\"\"\"") => {
                i += 3 + src[i + 3..].find("\"\"\"").map_or(src.len(), |n| n + 2);
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => stack.push(i),
            b')' | b']' | b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}
