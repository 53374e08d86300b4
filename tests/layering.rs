//! The module boundaries ARCHITECTURE.md promises, checked on the source text: compiled
//! code never depends on the reference interpreter, and the compiler core does no I/O
//! (only the driver, the CLI and the engines' readers and writers touch files).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of code (comments and string text aside) of the files under `dir` that
/// contains one of `words`.
fn uses(dir: &str, words: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no Rust files under {}", root.display());
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            // Text inside string literals (help messages naming `--engine interp`).
            let outside: String = code.split('"').step_by(2).collect();
            if words.iter().any(|w| outside.contains(w)) {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn code_generation_does_not_depend_on_the_interpreter() {
    let found = uses("codegen", &["interp"]);
    assert!(found.is_empty(), "codegen uses the interpreter:\n{}", found.join("\n"));
}

#[test]
fn the_compiler_core_does_no_io() {
    let io = ["std::fs", "std::env::var", "File::open", "File::create", "std::process", "std::net"];
    for dir in ["syntax", "check", "ir", "passes", "codegen", "config", "builtins", "diag"] {
        let found = uses(dir, &io);
        assert!(found.is_empty(), "`{dir}` does I/O:\n{}", found.join("\n"));
    }
}

/// The test above can fail: it finds what it looks for.
#[test]
fn the_scan_finds_io_where_there_is_some() {
    assert!(!uses("driver", &["std::fs"]).is_empty());
    assert!(!uses("cli", &["crate::interp"]).is_empty());
}

/// `kiln repl` evaluates every expression with compiled code: it may use the interpreter's
/// param resolution (as `kiln run` does), never its evaluator.
#[test]
fn the_repl_evaluates_with_compiled_code_only() {
    let found: Vec<String> = uses("repl", &["interp"])
        .into_iter()
        .filter(|l| !l.contains("interp::params") && !l.contains("interp::Value"))
        .collect();
    assert!(found.is_empty(), "the REPL uses the interpreter:\n{}", found.join("\n"));
}
