//! The lexical pre-pass: cuts a file into top-level declarations so that one broken
//! declaration never hides the next, and reports the lexical mistakes that would otherwise
//! derail the grammar (unterminated strings, unclosed or mismatched brackets).
//!
//! A declaration starts at a declaration keyword (`use type const param fn agent prompt
//! source stage sink`) that is outside strings and comments, not after a `.`, and either
//! at bracket depth 0 or at the very start of a line. The second case is the recovery for
//! an unclosed bracket: the next declaration written at column 0 still starts fresh.

use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};

/// Deeper nesting than this is refused up front, so recursion in later stages stays bounded.
pub const MAX_DEPTH: usize = 256;

const DECL_KEYWORDS: &[&str] =
    &["use", "type", "const", "param", "fn", "agent", "prompt", "source", "stage", "sink"];

/// One top-level declaration's text range, and whether a lexical error was found in it
/// (then the grammar is not run on it: the lexical diagnostic says it all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub lexically_broken: bool,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The declaration keyword starting at `i`, if any.
fn decl_keyword_at(bytes: &[u8], i: usize) -> Option<&'static str> {
    if i > 0 && (is_ident_byte(bytes[i - 1]) || bytes[i - 1] == b'.') {
        return None;
    }
    DECL_KEYWORDS.iter().copied().find(|kw| {
        bytes[i..].starts_with(kw.as_bytes())
            && bytes.get(i + kw.len()).is_none_or(|&b| !is_ident_byte(b))
            // `source: x` is a record field named like a keyword, not a declaration.
            && bytes[i + kw.len()..].iter().find(|b| !matches!(b, b' ' | b'\t')) != Some(&b':')
    })
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// Describes an opening bracket for messages ("the call started here").
pub fn opener_description(text: &str, at: usize) -> &'static str {
    let bytes = text.as_bytes();
    let before = text[..at].trim_end();
    let prev = before.as_bytes().last().copied();
    match bytes[at] {
        b'(' if prev.is_some_and(|b| is_ident_byte(b) || b == b')' || b == b']') => {
            "the call started here"
        }
        b'(' => "this `(` is never closed",
        b'[' if prev.is_some_and(|b| is_ident_byte(b) || b == b')' || b == b']') => {
            "the index started here"
        }
        b'[' => "the list started here",
        _ => "the braces started here",
    }
}

/// Splits `text` into declarations and reports lexical errors.
pub fn split(file: FileId, text: &str) -> (Vec<Chunk>, Vec<Diagnostic>) {
    let bytes = text.as_bytes();
    let mut diags = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut current: Option<Chunk> = None;
    let mut garbage_start: Option<usize> = None;
    let mut i = 0;
    let span = |a: usize, b: usize| Span::new(file, a, b);

    // Ends the current chunk at `end`, reporting brackets still open.
    let finish = |chunk: &mut Option<Chunk>,
                  stack: &mut Vec<usize>,
                  end: usize,
                  chunks: &mut Vec<Chunk>,
                  diags: &mut Vec<Diagnostic>| {
        if let Some(mut c) = chunk.take() {
            if let Some(&open) = stack.last().filter(|_| !c.lexically_broken) {
                let want = closer(bytes[open]) as char;
                let at = text[..end].trim_end().len();
                diags.push(
                    Diagnostic::new(
                        codes::E0002,
                        span(at, at),
                        format!("unclosed `{}`", bytes[open] as char),
                    )
                    .label(format!("expected `{want}` here"))
                    .secondary(span(open, open + 1), opener_description(text, open)),
                );
                c.lexically_broken = true;
            }
            stack.clear();
            c.end = end;
            chunks.push(c);
        }
    };

    while i < bytes.len() {
        let b = bytes[i];
        let line_start = i == 0 || bytes[i - 1] == b'\n';
        match b {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                match text[i + 3..].find("\"\"\"") {
                    Some(n) => i += 3 + n + 3,
                    None => {
                        diags.push(
                            Diagnostic::new(
                                codes::E0005,
                                span(i, i + 3),
                                "unterminated multi-line string",
                            )
                            .label("this string is never closed")
                            .help("close it with `\"\"\"`"),
                        );
                        if let Some(c) = current.as_mut() {
                            c.lexically_broken = true;
                        }
                        i = bytes.len();
                    }
                }
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut closed = false;
                while i < bytes.len() && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' && bytes.get(i + 1) != Some(&b'\n') {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == b'"' {
                        closed = true;
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                if !closed {
                    let end = i.min(bytes.len());
                    let end = text[..end].trim_end_matches('\r').len();
                    diags.push(
                        Diagnostic::new(codes::E0005, span(start, end), "unterminated string")
                            .label("this string is not closed before the end of the line")
                            .help("close it with `\"`; for text over several lines use `\"\"\"...\"\"\"`"),
                    );
                    if let Some(c) = current.as_mut() {
                        c.lexically_broken = true;
                    }
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                if let Some(c) = current.as_mut() {
                    stack.push(i);
                    if stack.len() == MAX_DEPTH + 1 && !c.lexically_broken {
                        diags.push(
                            Diagnostic::new(
                                codes::E0001,
                                span(i, i + 1),
                                format!("brackets nested more than {MAX_DEPTH} levels deep"),
                            )
                            .label("too deep")
                            .help("split the expression with `let` bindings or helper functions"),
                        );
                        c.lexically_broken = true;
                    }
                }
            }
            b')' | b']' | b'}' => {
                if let Some(c) = current.as_mut() {
                    match stack.pop() {
                        Some(open) if closer(bytes[open]) == b => {}
                        Some(open) => {
                            if !c.lexically_broken {
                                diags.push(
                                    Diagnostic::new(
                                        codes::E0002,
                                        span(i, i + 1),
                                        format!(
                                            "mismatched `{}`: expected `{}`",
                                            b as char,
                                            closer(bytes[open]) as char
                                        ),
                                    )
                                    .label(format!("expected `{}`", closer(bytes[open]) as char))
                                    .secondary(
                                        span(open, open + 1),
                                        opener_description(text, open),
                                    ),
                                );
                            }
                            c.lexically_broken = true;
                        }
                        None => {
                            if !c.lexically_broken {
                                diags.push(
                                    Diagnostic::new(
                                        codes::E0002,
                                        span(i, i + 1),
                                        format!("unexpected closing `{}`", b as char),
                                    )
                                    .label("nothing is open here"),
                                );
                            }
                            c.lexically_broken = true;
                        }
                    }
                }
            }
            _ if b.is_ascii_alphabetic() => {
                if (stack.is_empty() || line_start) && decl_keyword_at(bytes, i).is_some() {
                    if let Some(g) = garbage_start.take() {
                        report_garbage(file, text, g, i, &mut diags);
                    }
                    finish(&mut current, &mut stack, i, &mut chunks, &mut diags);
                    current = Some(Chunk { start: i, end: i, lexically_broken: false });
                }
                let start = i;
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                if current.is_none() && garbage_start.is_none() {
                    garbage_start = Some(start);
                }
                continue;
            }
            _ => {}
        }
        if current.is_none() && garbage_start.is_none() && !b.is_ascii_whitespace() {
            garbage_start = Some(i);
        }
        i += 1;
    }
    if let Some(g) = garbage_start.take() {
        report_garbage(file, text, g, bytes.len(), &mut diags);
    }
    finish(&mut current, &mut stack, bytes.len(), &mut chunks, &mut diags);
    (chunks, diags)
}

/// Text before the first declaration that is not a declaration.
fn report_garbage(file: FileId, text: &str, start: usize, end: usize, diags: &mut Vec<Diagnostic>) {
    let region = text[start..end].trim_end();
    let first_token_len = region
        .char_indices()
        .find(|&(_, c)| c.is_whitespace())
        .map(|(n, _)| n)
        .unwrap_or(region.len())
        .max(region.chars().next().map_or(0, char::len_utf8));
    let found = &region[..first_token_len];
    diags.push(
        Diagnostic::new(
            codes::E0001,
            Span::new(file, start, start + first_token_len),
            format!("expected a declaration, found `{found}`"),
        )
        .label("expected a declaration here")
        .help(
            "a file is a list of declarations: `use`, `type`, `const`, `param`, `fn`, `agent`, \
             `prompt`, `source`, `stage` and `sink`",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<String> {
        split(FileId(0), text).0.iter().map(|c| text[c.start..c.end].trim().to_string()).collect()
    }

    #[test]
    fn splits_at_declarations() {
        let t = "const A = 1\nfn f(x: int) -> int = x\n  |> abs\nsink s -> stdout()";
        assert_eq!(
            chunks(t),
            ["const A = 1", "fn f(x: int) -> int = x\n  |> abs", "sink s -> stdout()"]
        );
    }

    #[test]
    fn keywords_in_strings_comments_and_fields_do_not_split() {
        let t =
            "stage s = x # stage y\n |> map(r => { source: r.source, t: \"sink\" })\nconst B = 2";
        assert_eq!(chunks(t).len(), 2);
    }

    #[test]
    fn unclosed_bracket_recovers_at_next_line_start_declaration() {
        let t = "stage s = f(a,\nconst B = 2\n";
        let (c, d) = split(FileId(0), t);
        assert_eq!(c.len(), 2);
        assert!(c[0].lexically_broken && !c[1].lexically_broken);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, codes::E0002);
        assert_eq!(d[0].secondary[0].message, "the call started here");
    }

    #[test]
    fn unterminated_string_is_reported() {
        let (_, d) = split(FileId(0), "const A = \"abc\nconst B = 1");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, codes::E0005);
    }

    #[test]
    fn text_before_first_declaration_is_an_error() {
        let (c, d) = split(FileId(0), "hello world\nconst A = 1");
        assert_eq!(c.len(), 1);
        assert_eq!(d[0].code, codes::E0001);
        assert_eq!(d[0].message, "expected a declaration, found `hello`");
    }
}
