//! The driver: the only part of the compiler that reads files. It loads sources into a
//! [`crate::source::SourceMap`], resolves `use` paths and runs the stages.

pub mod walk;

pub use walk::{WalkError, collect_sources};

use crate::diag::Diagnostic;
use crate::source::SourceMap;
use std::path::PathBuf;

/// The result of checking a set of files: every file that was loaded (including modules
/// pulled in by `use`) and every diagnostic, sorted by file and position.
pub struct CheckRun {
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// A problem that is not about source text: an unreadable path, say.
#[derive(Debug)]
pub struct DriverError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Parses, type-checks and lints `files` (each a `.kiln`, `.af` or `.prompt` file; folders
/// are expanded by the caller).
pub fn check_files(files: &[PathBuf]) -> Result<CheckRun, DriverError> {
    let mut map = SourceMap::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DriverError { path: path.clone(), message: e.to_string() })?;
        map.add(path.display().to_string(), text);
    }
    // The parser and checker are wired in here as they land.
    Ok(CheckRun { map, diagnostics: Vec::new() })
}

/// The in-memory variant of [`check_files`]: checks one source `text` named `name` (its
/// extension picks the kind of file) without touching the file system. Used by the fuzzer
/// and by tests.
pub fn check_source(name: &str, text: &str) -> CheckRun {
    let mut map = SourceMap::new();
    map.add(name, text);
    // The lead wires the parser and checker in here, as in `check_files`.
    CheckRun { map, diagnostics: Vec::new() }
}
