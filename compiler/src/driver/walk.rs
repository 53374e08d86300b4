//! Expands the paths given to `kiln check` into the list of source files to load.

use std::path::{Path, PathBuf};

/// The extensions of the three kinds of Kiln source.
pub const SOURCE_EXTENSIONS: &[&str] = &["kiln", "af", "prompt"];

/// Why a path given on the command line cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum WalkError {
    /// The path does not exist.
    NotFound(PathBuf),
    /// A file was named explicitly but is not a `.kiln`, `.af` or `.prompt` file.
    NotSource(PathBuf),
    /// A folder could not be read.
    Io(PathBuf, String),
    /// `kiln run` / `kiln view` were given something other than one pipeline file; the
    /// text says what it is and what to do instead.
    NotPipeline(PathBuf, String),
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::NotFound(p) => write!(f, "{}: no such file or folder", p.display()),
            WalkError::NotSource(p) => write!(
                f,
                "{}: not a Kiln source file (expected a .kiln, .af or .prompt file, a kiln.toml, or a folder)",
                p.display()
            ),
            WalkError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            WalkError::NotPipeline(p, why) => write!(f, "{}: {why}", p.display()),
        }
    }
}

/// Checks that `path` names one pipeline file, for the commands that run or show one
/// (`kiln run`, `kiln view`): it exists, is not a folder, and is not an agent, a prompt
/// template or a data file. Any other name is taken as a pipeline.
pub fn pipeline_file(path: &Path) -> Result<(), WalkError> {
    let not = |why: String| Err(WalkError::NotPipeline(path.to_path_buf(), why));
    let shown = path.display();
    match std::fs::metadata(path) {
        Err(_) => return Err(WalkError::NotFound(path.to_path_buf())),
        Ok(m) if m.is_dir() => {
            return not(
                "is a folder; give one pipeline file (.kiln); `kiln check` takes folders".into()
            );
        }
        Ok(_) => {}
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("af") => not(format!(
            "is an agent file, not a pipeline: use it from a pipeline with `agent NAME = \"{shown}\"`, check it with `kiln check`, or compile it with `kiln build`"
        )),
        _ if is_config(path) => not(format!(
            "is the model configuration, not a pipeline: it applies to the pipelines in its folder and below; check it with `kiln check {shown}`"
        )),
        Some("prompt") => not(format!(
            "is a prompt template, not a pipeline: use it from a pipeline with `prompt NAME = \"{shown}\"`, or check it with `kiln check`"
        )),
        Some(ext @ ("jsonl" | "ndjson" | "json" | "csv" | "tsv")) => {
            let reader = if ext == "csv" { "csv" } else { "jsonl" };
            not(format!(
                "is data, not a pipeline: read it from a pipeline with `source rows: T = {reader}(\"{shown}\")`"
            ))
        }
        _ => Ok(()),
    }
}

/// Whether `path` has one of the [`SOURCE_EXTENSIONS`] or is a `kiln.toml`.
pub fn is_source(path: &Path) -> bool {
    is_config(path)
        || path.extension().and_then(|e| e.to_str()).is_some_and(|e| SOURCE_EXTENSIONS.contains(&e))
}

/// Whether `path` names a model configuration, `kiln.toml`.
pub fn is_config(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == super::models::CONFIG_NAME)
}

/// Expands `paths` in order: a file is kept as given (it must be a source file), a folder
/// is searched recursively for source files, each folder's entries in byte order of their
/// names, skipping hidden entries (names starting with `.`) and folders named `target`.
/// Symbolic links to files are followed, links to folders are not (no cycles). A file
/// reached twice is listed once, where it was first reached.
pub fn collect_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|_| WalkError::NotFound(path.clone()))?;
        if meta.is_dir() {
            walk_dir(path, &mut out)?;
        } else if is_source(path) {
            out.push(path.clone());
        } else {
            return Err(WalkError::NotSource(path.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), WalkError> {
    let io = |e: std::io::Error| WalkError::Io(dir.to_path_buf(), e.to_string());
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        entries.push((entry.file_name(), entry.path(), entry.file_type().map_err(io)?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (os_name, path, kind) in entries {
        // `kiln check` with no path walks `.`: report `a.kiln`, not `./a.kiln`.
        let path = if dir == Path::new(".") { PathBuf::from(&os_name) } else { path };
        let name = os_name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if kind.is_dir() {
            if name != "target" {
                walk_dir(&path, out)?;
            }
        } else if is_source(&path) && (kind.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_source_knows_the_three_kinds() {
        assert!(is_source(Path::new("a/b.kiln")));
        assert!(is_source(Path::new("m.af")));
        assert!(is_source(Path::new("p.prompt")));
        assert!(!is_source(Path::new("b.kiln.bak")));
        assert!(!is_source(Path::new("kiln")));
        assert!(is_source(Path::new("a/kiln.toml")));
        assert!(!is_source(Path::new("Cargo.toml")));
    }
}
