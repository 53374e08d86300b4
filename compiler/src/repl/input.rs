//! What one REPL input is (a command, declarations or an expression), whether it is
//! complete (brackets and strings closed), and the declarations it holds.

use crate::source::FileId;
use crate::syntax::split;

/// The declaration keywords (LANGUAGE.md §1.3).
pub const DECL_KEYWORDS: &[&str] =
    &["use", "type", "const", "param", "fn", "agent", "prompt", "source", "stage", "sink"];

/// One input, classified.
#[derive(Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Nothing but whitespace and comments.
    Empty,
    /// `:name rest`.
    Command(&'a str, &'a str),
    Decls,
    Expr,
}

/// `text` without leading whitespace and `#` comments.
fn skip_blank(text: &str) -> &str {
    let mut t = text.trim_start();
    while let Some(rest) = t.strip_prefix('#') {
        t = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    t
}

/// Where `let NAME =` starts when an input begins with it: a `let` outside a block, which
/// users coming from other REPLs type to keep a value (the REPL says to write `const`).
pub fn top_level_let(text: &str) -> Option<usize> {
    let t = skip_blank(text);
    let rest = t.strip_prefix("let")?;
    let name = rest.trim_start();
    let ident = name.starts_with(|c: char| c.is_alphabetic() || c == '_');
    (rest.starts_with(char::is_whitespace) && ident).then(|| text.len() - t.len())
}

pub fn classify(text: &str) -> Input<'_> {
    let t = skip_blank(text);
    if t.is_empty() {
        return Input::Empty;
    }
    if let Some(c) = t.strip_prefix(':') {
        let (name, rest) = c.split_once(char::is_whitespace).unwrap_or((c, ""));
        return Input::Command(name, rest.trim());
    }
    let word: String = t.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    let after = t[word.len()..].trim_start();
    if DECL_KEYWORDS.contains(&word.as_str()) && !after.starts_with(':') {
        Input::Decls
    } else {
        Input::Expr
    }
}

/// Whether `text` needs more lines: a bracket or a string is still open, or the last line
/// ends with an operator that needs a right-hand side (`|>`, `=`, `=>`, `->`, `,`).
/// Commands are always complete.
pub fn incomplete(text: &str) -> bool {
    if matches!(classify(text), Input::Command(..)) {
        return false;
    }
    let b = text.as_bytes();
    let mut depth: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => match text[i + 3..].find("\"\"\"") {
                Some(k) => i += k + 5,
                None => return true,
            },
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\n' {
                        // A string never spans lines: the checker reports it.
                        return false;
                    }
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return true;
                }
            }
            c @ (b'(' | b'[' | b'{') => depth.push(c),
            // A closer with nothing open: the checker reports it.
            b')' | b']' | b'}' if depth.pop().is_none() => return false,
            _ => {}
        }
        i += 1;
    }
    if !depth.is_empty() {
        return true;
    }
    let last = text.lines().last().unwrap_or("");
    let code = last.split('#').next().unwrap_or("").trim_end();
    ["|>", "=", "=>", "->", ","].iter().any(|op| code.ends_with(op))
        && !code.ends_with("==")
        && !code.ends_with("!=")
        && !code.ends_with("<=")
        && !code.ends_with(">=")
}

/// One declaration of an input: its keyword, the name it defines (a `use` path for
/// `use`, `None` for a sink) and its byte range in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclText {
    pub keyword: &'static str,
    pub name: Option<String>,
    pub start: usize,
    pub end: usize,
}

/// The declarations of `text` (cut where `kiln check` cuts a file).
pub fn declarations(text: &str) -> Vec<DeclText> {
    let (chunks, _) = split::split(FileId(0), text);
    chunks
        .into_iter()
        .filter_map(|c| {
            let t = &text[c.start..c.end];
            let keyword = DECL_KEYWORDS.iter().copied().find(|k| t.starts_with(k))?;
            let rest = t[keyword.len()..].trim_start();
            let name = match keyword {
                "sink" => None,
                "use" => Some(rest.split('"').nth(1).unwrap_or(rest).to_string()),
                _ => Some(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
                    .filter(|n: &String| !n.is_empty()),
            };
            let end = c.start + t.trim_end().len();
            Some(DeclText { keyword, name, start: c.start, end })
        })
        .collect()
}

/// Splits `:run` arguments `EXPR [N]` into the expression and the count.
pub fn run_args(rest: &str) -> (&str, Option<&str>) {
    let rest = rest.trim();
    match rest.rsplit_once(char::is_whitespace) {
        Some((e, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'_') => {
            (e.trim(), Some(n))
        }
        _ => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify("1 + 2"), Input::Expr);
        assert_eq!(top_level_let("  let y = 3"), Some(2));
        assert_eq!(top_level_let("letter + 1"), None);
        assert_eq!(top_level_let("{ let y = 3  y }"), None);
        assert_eq!(classify("  # c\n fn f() -> int = 1"), Input::Decls);
        assert_eq!(classify("{ source: 1 }"), Input::Expr);
        assert_eq!(classify(":type 1"), Input::Command("type", "1"));
        assert_eq!(classify(" # only\n"), Input::Empty);
        assert_eq!(classify("stage_count + 1"), Input::Expr);
    }

    #[test]
    fn knows_when_input_continues() {
        assert!(incomplete("fn f(x: int"));
        assert!(incomplete("[1, 2"));
        assert!(incomplete("\"\"\"abc"));
        assert!(incomplete("stage s = r |>"));
        assert!(!incomplete("1 == 2"));
        assert!(!incomplete("[1, 2] # (\n"));
        assert!(!incomplete(")"));
        assert!(!incomplete(":load x("));
        assert!(!incomplete("\"a(\" + \"b\""));
    }

    #[test]
    fn cuts_declarations() {
        let d = declarations("fn a() -> int = 1\nconst B = 2 sink s -> stdout()\nuse \"std/text\"");
        let names: Vec<_> = d.iter().map(|d| (d.keyword, d.name.clone())).collect();
        assert_eq!(
            names,
            [
                ("fn", Some("a".into())),
                ("const", Some("B".into())),
                ("sink", None),
                ("use", Some("std/text".into()))
            ]
        );
        assert_eq!(run_args("good 5"), ("good", Some("5")));
        assert_eq!(run_args("good"), ("good", None));
        assert_eq!(run_args("r |> take(2)"), ("r |> take(2)", None));
    }
}
