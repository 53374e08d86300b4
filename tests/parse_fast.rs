//! The parser's fast path (`compiler/src/syntax/fast.rs`) against pest: wherever the fast
//! path accepts a declaration, pest must accept it too and build the same item, spans
//! included, with no diagnostic; and a whole file must parse to the same module and
//! diagnostics either way. `KILN_PARSE_COMPARE=FILE` adds a file (such as the benchmark's,
//! `python3 bench/gen_kiln.py FILE`); `KILN_PARSE_SEED` and `KILN_PARSE_MUTATIONS` vary and
//! lengthen the random runs.

use kiln::syntax::compare_fast_path;
use std::path::{Path, PathBuf};

fn kiln_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("target") && !p.ends_with(".git") {
                kiln_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "kiln") {
            out.push(p);
        }
    }
}

/// Every `.kiln` file of the repository, and code blocks of the documentation, with names.
fn corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["examples", "stdlib", "tests", "bench", "docs"] {
        kiln_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut out: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
        .collect();
    // Code blocks of the documentation.
    for doc in ["README.md", "docs/language.md", "docs/prompts.md", "docs/run.md"] {
        let Ok(text) = std::fs::read_to_string(root.join(doc)) else { continue };
        for (i, block) in text.split("```").enumerate().filter(|(i, _)| i % 2 == 1) {
            if let Some(code) = block.strip_prefix("kiln\n") {
                out.push((format!("{doc} block {i}"), code.to_string()));
            }
        }
    }
    // A file to add, such as the benchmark's (`python3 bench/gen_kiln.py FILE`).
    if let Ok(extra) = std::env::var("KILN_PARSE_COMPARE") {
        out.push((extra.clone(), std::fs::read_to_string(&extra).expect("KILN_PARSE_COMPARE")));
    }
    assert!(out.len() > 100, "found only {} files", out.len());
    out
}

/// Compares the two parsers on every declaration of `text` (and on the whole text if
/// `whole`); returns how many declarations the fast path took.
fn compare(name: &str, text: &str, whole: bool) -> usize {
    compare_fast_path(text, whole).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The declarations of `text`, cut as the parser cuts them.
fn declarations(text: &str) -> Vec<String> {
    let (chunks, _) = kiln::syntax::split::split(kiln::source::FileId(0), text);
    chunks.iter().map(|c| text[c.start..c.end].to_string()).collect()
}

#[test]
fn fast_path_agrees_with_pest_on_the_repository() {
    let mut total = 0;
    let mut taken = 0;
    for (name, text) in corpus() {
        total += declarations(&text).len();
        taken += compare(&name, &text, true);
    }
    // Nearly all of the repository's declarations are valid: the fast path must take them.
    eprintln!("taken {taken} of {total}");
    assert!(taken * 10 > total * 8, "the fast path took only {taken} of {total} declarations");
}

/// The same files with Windows line ends, and with every space replaced by a tab, a comment
/// with a quote in it and a newline (most declarations still parse).
#[test]
fn fast_path_agrees_with_pest_on_other_blanks() {
    for (name, text) in corpus() {
        compare(&format!("{name} (CRLF)"), &text.replace('\n', "\r\n"), true);
        let spaced = text.replace(" ", "\t # \u{e9} \"x\n ");
        compare(&format!("{name} (comments)"), &spaced, false);
    }
}

/// Tokens that stress the grammar's choices when inserted anywhere.
const TOKENS: &[&str] = &[
    " ",
    "\n",
    "# c\n",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    ":",
    "::",
    ";",
    "-",
    ">",
    "->",
    "=>",
    "=",
    "==",
    "<",
    "<=",
    "?",
    "??",
    "|>",
    "|",
    "not ",
    "not",
    "and ",
    "or ",
    " if ",
    "if",
    " else ",
    "let ",
    "let",
    "vec",
    "vec[2]",
    "stream",
    "stream<int>",
    "\"",
    "\"\"\"",
    "\\",
    "\\n",
    "\\q",
    "\\u{41}",
    "\\u{110000}",
    "1",
    "1.5",
    "1.",
    ".5",
    "e3",
    "e",
    "E+",
    "_",
    "x",
    "true",
    "null",
    "type",
    "9223372036854775808",
    "-9223372036854775808",
    "1e999",
    "99999999999999999999",
    "\t",
    "{ a: 1 }",
    "{ ..r }",
    "x => x",
    "(a < b)",
    "a < b",
    "*",
    "//",
    "/",
    "%",
    "+",
    "!=",
    "f(a: 1)",
    "r.type",
    "\u{e9}",
    "0x1",
];

/// Deletions, insertions and duplications at random places of every declaration: the
/// mutants that still parse exercise the fast path's choices, the others its refusals.
#[test]
fn fast_path_agrees_with_pest_on_mutations() {
    let mut seed: u64 = std::env::var("KILN_PARSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut accepted = 0;
    let mut decls: Vec<String> = Vec::new();
    for (_, text) in corpus() {
        decls.extend(declarations(&text).into_iter().filter(|d| d.len() < 2000));
    }
    let rounds = std::env::var("KILN_PARSE_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 12_000 } else { 60_000 });
    for round in 0..rounds {
        let mut d = decls[rand(decls.len())].clone();
        for _ in 0..1 + rand(2) {
            let mut at = rand(d.len() + 1);
            while !d.is_char_boundary(at) {
                at -= 1;
            }
            match rand(3) {
                0 => {
                    let mut to = (at + 1 + rand(3)).min(d.len());
                    while !d.is_char_boundary(to) {
                        to += 1;
                    }
                    d.replace_range(at..to, "");
                }
                1 => d.insert_str(at, TOKENS[rand(TOKENS.len())]),
                _ => {
                    let mut to = (at + 1 + rand(12)).min(d.len());
                    while !d.is_char_boundary(to) {
                        to += 1;
                    }
                    let piece = d[at..to].to_string();
                    d.insert_str(to, &piece);
                }
            }
        }
        accepted += compare(&format!("mutation {round}"), &d, round % 50 == 0);
    }
    eprintln!("accepted {accepted} of {rounds}");
    assert!(accepted > rounds / 5, "only {accepted} of {rounds} mutants took the fast path");
}

/// Corner cases of the grammar, each parsed both ways.
#[test]
fn fast_path_agrees_with_pest_on_corner_cases() {
    let cases = [
        "const a = 1._5",
        "const a = 1.x",
        "const a = 1.5.x",
        "const a = 1e5",
        "const a = 1E-5_0",
        "const a = 1e",
        "const a = 007",
        "const a = - - 1",
        "const a = not not true",
        "const a = nothing",
        "const a = -9223372036854775808",
        "const a = 9223372036854775807",
        "const a = (a < b) == c",
        "const a = a < b == c",
        "const a = a == (b < c)",
        "const a = a ?? b < c ?? d",
        "const a = a |> b => c",
        "const a = (x) => x",
        "const a = x => y => x + y",
        "const a = vec[2](xs)",
        "const a = (vec)[2]",
        "const a = vec [2]",
        "const a = { }",
        "const a = { x }",
        "const a = { let x = 1; x; }",
        "const a = { let x = 1 x }",
        "const a = { if: 1, type: 2, ..r, }",
        "const a = { a # c\n : 1 }",
        "const a = if a { 1 } else if b { 2 } else { 3 }",
        "const a = iffy",
        "const a = f(a: 1, b, c : 2,)",
        "const a = f(a:: 1)",
        "const a = [1, 2, ]",
        "const a = [,]",
        "const a = \"\"\"x\"\"\"",
        "const a = \"\"\"\"\"\"",
        "const a = \"a\\tb\\u{1F600}\\\"\"",
        "const a = \"a\\q\"",
        "const a = r.type.source",
        "const a = a - > b",
        "const a: int?? = null",
        "const a: vec[4] = vec[4]([1.0, 2.0, 3.0, 4.0])",
        "const a: vecx = 1",
        "const a: stream <int> = 1",
        "const a: { a: int, b: [str]?, } = 1",
        "type T = { }",
        "param p: int = 3 # trailing\n\n",
        "param p: int\n# only a comment\n",
        "fn f(a: int, b: str,) -> int = a",
        "fn f() -> int { let x = 1; x }",
        "fn f() -> { a: int } { { a: 1 } }",
        "fn let() -> int = 1",
        "use \"std/text\"",
        "agent a = \"a.af\"",
        "prompt p = \"p.prompt\"",
        "prompt p(x: str) -> { a: int } = \"\"\"Hi {{ x }}  # not a comment \n  \"\"\"",
        "prompt p(x: str) = \"Hi \\\"{{ x }}\\\"\\n\"",
        "prompt p() = \"\"",
        "sink a |> map(r => r) -> jsonl(\"o.jsonl\")",
        "sink x => y -> z",
        "stage s = a\n  |> filter(r => r.ok and not r.bad or r.x >= 1 // 2 % 3)",
        "stage s = a |> b |>",
        "stage s = -",
        "stage s = f(x)(y)[0].z",
        "stage s = 1 + 2 * 3 - 4 / 5",
        "stage s = a or b and c or d",
    ];
    for (i, case) in cases.iter().enumerate() {
        compare(&format!("case {i}"), case, true);
    }
}

/// A random expression of the grammar, with random blanks and comments between tokens.
fn random_expr(rand: &mut impl FnMut(usize) -> usize, depth: usize, out: &mut String) {
    const BLANKS: &[&str] = &["", " ", "  ", "\n", " # c\n", "\t"];
    const INFIX: &[&str] =
        &["|>", "or", "and", "??", "==", "!=", "<=", ">=", "<", ">", "+", "-", "//", "*", "/", "%"];
    const ATOMS: &[&str] = &[
        "x",
        "y_1",
        "true",
        "false",
        "null",
        "1",
        "2.5",
        "1e3",
        "1_000",
        "\"s\"",
        "\"a\\tb\"",
        "\"\"\"t\"\"\"",
        "vec",
        "type_",
        "nothing",
        "iffy",
    ];
    let blank = |rand: &mut dyn FnMut(usize) -> usize, out: &mut String| {
        out.push_str(BLANKS[rand(BLANKS.len())]);
    };
    let n = if depth == 0 { 0 } else { rand(14) };
    match n {
        0..=3 => out.push_str(ATOMS[rand(ATOMS.len())]),
        4 | 5 => {
            random_expr(rand, depth - 1, out);
            for _ in 0..1 + rand(3) {
                blank(rand, out);
                let op = INFIX[rand(INFIX.len())];
                out.push_str(op);
                out.push(' ');
                blank(rand, out);
                random_expr(rand, depth - 1, out);
            }
        }
        6 => {
            out.push_str(["-", "not ", "- ", "not("][rand(4)]);
            let close = out.ends_with('(');
            random_expr(rand, depth - 1, out);
            if close {
                out.push(')');
            }
        }
        7 => {
            out.push('(');
            blank(rand, out);
            random_expr(rand, depth - 1, out);
            blank(rand, out);
            out.push(')');
        }
        8 => {
            random_expr(rand, depth - 1, out);
            match rand(4) {
                0 => out.push_str(".f"),
                1 => out.push_str(" . type"),
                2 => {
                    out.push('[');
                    random_expr(rand, depth - 1, out);
                    out.push(']');
                }
                _ => {
                    out.push('(');
                    for i in 0..rand(3) {
                        if rand(2) == 0 {
                            out.push_str(["a: ", "b : ", "source:"][rand(3)]);
                        }
                        random_expr(rand, depth - 1, out);
                        if i < 2 || rand(2) == 0 {
                            out.push_str(", ");
                        }
                    }
                    out.push(')');
                }
            }
        }
        9 => {
            out.push_str(["x => ", "r =>", "(x) => ", "k=>"][rand(4)]);
            random_expr(rand, depth - 1, out);
        }
        10 => {
            out.push('[');
            for _ in 0..rand(3) {
                random_expr(rand, depth - 1, out);
                out.push(',');
                blank(rand, out);
            }
            out.push(']');
        }
        11 => {
            out.push('{');
            blank(rand, out);
            for _ in 0..rand(3) {
                out.push_str(["a: ", "..", "if : ", "b:"][rand(4)]);
                random_expr(rand, depth - 1, out);
                out.push_str(", ");
            }
            out.push('}');
        }
        12 => {
            out.push_str("{ ");
            for _ in 0..rand(3) {
                out.push_str(["let v = ", "let w=", "let if = "][rand(3)]);
                random_expr(rand, depth - 1, out);
                out.push_str(["; ", "\n", " "][rand(3)]);
            }
            random_expr(rand, depth - 1, out);
            out.push_str([" }", "; }", "\n}"][rand(3)]);
        }
        _ => {
            out.push_str("if ");
            random_expr(rand, depth - 1, out);
            out.push_str(" { ");
            random_expr(rand, depth - 1, out);
            out.push_str(" } else ");
            if rand(2) == 0 {
                out.push_str("if c { 1 } else ");
            }
            out.push_str("{ ");
            random_expr(rand, depth - 1, out);
            out.push_str(" }");
        }
    }
}

/// Random expressions (most of them valid) in every expression position of a declaration.
#[test]
fn fast_path_agrees_with_pest_on_random_expressions() {
    let mut seed: u64 = std::env::var("KILN_PARSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d);
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let rounds = std::env::var("KILN_PARSE_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 4_000 } else { 20_000 });
    let mut accepted = 0;
    for round in 0..rounds {
        let mut e = String::new();
        random_expr(&mut rand, 4, &mut e);
        let decl = match rand(4) {
            0 => format!("const c = {e}"),
            1 => format!("sink {e} -> {e}"),
            2 => format!("fn f(a: int) -> vec[{e}] = {e} # end"),
            _ => format!("stage s = src |> map(r => {e})\n"),
        };
        accepted += compare(&format!("random {round}"), &decl, false);
    }
    eprintln!("accepted {accepted} of {rounds}");
    assert!(accepted > rounds / 5, "only {accepted} of {rounds} took the fast path");
}
