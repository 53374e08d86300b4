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
        insta::glob!("ui", "**/*.{kiln,prompt,af}", |path| {
            insta::assert_snapshot!(rendered(path));
        });
    });
}

/// Every diagnostic code has at least one UI input named after it.
#[test]
fn every_code_has_a_ui_input() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    let mut names = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("tests/ui") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                names.push(p.file_name().expect("name").to_string_lossy().to_lowercase());
            }
        }
    }
    let missing: Vec<&str> = kiln::diag::codes::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !names.iter().any(|n| n.starts_with(&c.to_lowercase())))
        .collect();
    assert!(missing.is_empty(), "codes without a UI input: {missing:?}");
}
