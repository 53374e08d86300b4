//! UI tests: every input under `tests/ui/` is checked as a user would check it, and the
//! rendered diagnostics (human format, no colour) are snapshotted under `snapshots/ui/`.
//! A file used by another input (a `use`d module, a `.prompt`) is also checked on its own.
//! Review changes with `cargo insta review`.

use kiln::diag::render::{Format, render};
use std::path::Path;

fn rendered(path: &Path) -> String {
    // Paths relative to the package root keep snapshots free of machine-specific paths.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = pathdiff(path, root);
    let run = kiln::driver::check_files(std::slice::from_ref(&rel)).expect("the input is readable");
    let mut out = Vec::new();
    render(Format::Human { color: false }, &run.map, &run.diagnostics, &mut out)
        .expect("render to memory");
    let text = String::from_utf8(out).expect("UTF-8");
    let status = if run.has_errors() { "fails" } else { "passes" };
    format!("{status}\n{text}")
}

/// `path` relative to `base` (both absolute; `base` is an ancestor's sibling at most).
fn pathdiff(path: &Path, base: &Path) -> std::path::PathBuf {
    let path = path.canonicalize().expect("input path");
    let base = base.canonicalize().expect("manifest dir");
    let common = path.ancestors().find(|a| base.starts_with(a)).expect("a common ancestor");
    let ups = base.strip_prefix(common).expect("prefix").components().count();
    let mut rel = std::path::PathBuf::new();
    for _ in 0..ups {
        rel.push("..");
    }
    rel.push(path.strip_prefix(common).expect("prefix"));
    rel
}

#[test]
fn ui() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/ui"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("ui", "**/*.{kiln,prompt,af,toml}", |path| {
            insta::assert_snapshot!(rendered(path));
        });
    });
}

/// Codes only `kiln run` reports: their UI inputs (named after them) check cleanly, and
/// `tests/run.rs` (`runtime_ui_inputs_report_their_codes`) runs each one and expects the code.
fn run_time_only(code: &str) -> bool {
    code.starts_with("E06") || code == "E0307"
}

/// Every UI input, as (lowercased file name, path).
fn ui_inputs() -> Vec<(String, std::path::PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    let mut inputs = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("tests/ui") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                // A folder named after a code (`e0704_unknown_model/`) is one input, checked
                // as `kiln check FOLDER` (a kiln.toml with the pipelines it applies to).
                let name = p.file_name().expect("name").to_string_lossy().to_lowercase();
                if name.as_bytes().first().is_some_and(|c| matches!(c, b'e' | b'w'))
                    && name.as_bytes().get(5) == Some(&b'_')
                    && name[1..5].bytes().all(|c| c.is_ascii_digit())
                {
                    inputs.push((name, p.clone()));
                }
                stack.push(p);
            } else {
                let name = p.file_name().expect("name").to_string_lossy().to_lowercase();
                inputs.push((name, p));
            }
        }
    }
    inputs.sort();
    inputs
}

/// Every code in use has a UI input named after it (`e0303_same_path.kiln`), and every
/// input named after a code really reports it (a run-time code: checks without errors, as
/// `tests/run.rs` runs it); no input is named after a retired code.
#[test]
fn every_code_has_a_ui_input_that_reports_it() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let inputs = ui_inputs();
    let named = |code: &str| -> Vec<&std::path::PathBuf> {
        let prefix = format!("{}_", code.to_lowercase());
        inputs.iter().filter(|(n, _)| n.starts_with(&prefix)).map(|(_, p)| p).collect()
    };
    let mut problems = Vec::new();
    for code in kiln::diag::codes::ALL.iter().map(|c| c.as_str()) {
        let files = named(code);
        if files.is_empty() {
            problems.push(format!("{code}: no UI input named `{}_*`", code.to_lowercase()));
        }
        for path in files {
            let rel = pathdiff(path, Path::new(env!("CARGO_MANIFEST_DIR")));
            let files = kiln::driver::collect_sources(std::slice::from_ref(&rel)).expect("sources");
            let run = kiln::driver::check_files(&files).expect("readable");
            let got: Vec<&str> = run.diagnostics.iter().map(|d| d.code.as_str()).collect();
            if run_time_only(code) {
                if run.has_errors() {
                    problems.push(format!(
                        "{}: a run-time input must check, got {got:?}",
                        rel.display()
                    ));
                }
            } else if !got.contains(&code) {
                problems.push(format!("{}: does not report {code} (got {got:?})", rel.display()));
            }
        }
    }
    for code in kiln::diag::codes::RETIRED {
        for path in named(code.as_str()) {
            problems.push(format!("{}: named after the retired {code}", path.display()));
        }
    }
    assert!(problems.is_empty(), "UI inputs to fix:\n{}", problems.join("\n"));
}

/// The registry, locked: any change to a code's severity, title or retired status (or a
/// code added, dropped or renumbered) shows up in this snapshot.
#[test]
fn the_code_registry_is_locked() {
    use kiln::diag::codes::{ALL, RETIRED};
    let mut all: Vec<_> = ALL.iter().chain(RETIRED).collect();
    all.sort_by_key(|c| c.as_str());
    let mut seen = std::collections::HashSet::new();
    let mut table = String::new();
    for c in all {
        assert!(seen.insert(c.as_str()), "{c} is registered twice");
        let status = if c.is_retired() { "retired" } else { "in use" };
        table.push_str(&format!("{c} {:7} {status:7} {}\n", c.severity().as_str(), c.title()));
    }
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/registry"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("codes", table);
    });
}

/// No grammar rule name (`infix_expr`, `call_args`, `tag_words`, ...) reaches a user: the messages,
/// labels and helps of every UI input's diagnostics never contain one.
#[test]
fn no_grammar_rule_name_reaches_a_user() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let grammar = std::fs::read_to_string("../grammar/kiln.pest").expect("the grammar")
        + &std::fs::read_to_string("../grammar/template.pest").expect("the template grammar");
    let rules: Vec<&str> = grammar
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.trim()))
        .filter(|n| n.contains('_') && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    assert!(rules.contains(&"infix_expr") && rules.contains(&"call_args"), "{rules:?}");
    assert!(rules.contains(&"output_body") && rules.contains(&"else_if_tag"), "{rules:?}");
    let mut leaks = Vec::new();
    for (_, path) in ui_inputs().into_iter().filter(|(_, p)| p.is_file()) {
        let rel = pathdiff(&path, Path::new(env!("CARGO_MANIFEST_DIR")));
        let run = kiln::driver::check_files(std::slice::from_ref(&rel)).expect("readable");
        for d in &run.diagnostics {
            let mut texts = vec![d.message.as_str(), d.primary.message.as_str()];
            texts.extend(d.secondary.iter().map(|l| l.message.as_str()));
            texts.extend(d.help.as_deref());
            for t in texts {
                // Backquoted text quotes the user's own code, which may use any name.
                let words: String = t.split('`').step_by(2).collect::<Vec<_>>().join(" ");
                if let Some(r) = rules.iter().find(|r| {
                    words.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == **r)
                }) {
                    leaks.push(format!("{}: `{r}` in {t:?}", rel.display()));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "grammar rule names shown to users:\n{}", leaks.join("\n"));
}

/// A secret written into kiln.toml never reaches any output format: not in a message, not
/// in a label, not in a source snippet.
#[test]
fn secrets_in_kiln_toml_are_never_rendered() {
    let text = "[models.default]\nprovider = \"openai\"\napi_key = \"sk-secret123\"\n\n[models.b]\napi_key_env = \"sk-secret123\"\nbearer = \"sk-secret123\"\n";
    let run = kiln::driver::check_source("kiln.toml", text);
    let codes: Vec<&str> = run.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0703", "E0703", "E0703"]);
    for format in
        [Format::Human { color: false }, Format::Short, Format::Json, Format::Sarif, Format::Github]
    {
        let mut out = Vec::new();
        render(format, &run.map, &run.diagnostics, &mut out).expect("render to memory");
        let out = String::from_utf8(out).expect("UTF-8");
        assert!(!out.contains("sk-secret123") && !out.contains("secret123"), "{out}");
    }
}
