//! The driver: the only part of the compiler that reads files. It loads sources into a
//! [`SourceMap`], resolves `use` paths (the embedded stdlib or files relative to the user),
//! reads what `agent` and `prompt` declarations point at, and runs parse → check.

pub mod agents;
pub mod build;
pub mod client;
pub mod models;
pub mod prompt;
pub mod stdlib;
pub mod walk;

pub use walk::{WalkError, collect_sources, pipeline_file};

use crate::check::{self, Externals, ModuleInput, hir::Program};
use crate::diag::{self, Diagnostic, codes};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The result of checking a set of files: every file that was loaded (including modules
/// pulled in by `use`) and every diagnostic, sorted by file and position.
pub struct CheckRun {
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckRun {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
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

/// Where a module's text came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Origin {
    File(PathBuf),
    Std(String),
    /// Text handed over in memory (the fuzzer, the REPL, tests).
    Memory(String),
}

struct Loaded {
    file: FileId,
    origin: Origin,
    ast: ast::Module,
    /// Indices of used modules with the span of each `use` path.
    uses: Vec<(usize, Span)>,
}

/// Loads modules once each and remembers what they use.
#[derive(Default)]
pub struct Session {
    pub map: SourceMap,
    modules: Vec<Loaded>,
    by_origin: HashMap<Origin, usize>,
    pub diagnostics: Vec<Diagnostic>,
    ext: Externals,
    /// `.prompt` files read so far, by canonical path: each is read (and its front matter
    /// and template syntax reported) once, however many pipelines declare it.
    prompt_files: HashMap<PathBuf, Option<check::PromptSig>>,
    /// `kiln.toml` files read so far, by canonical path: each is read and reported once.
    configs: HashMap<PathBuf, crate::config::Models>,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// Loads a `.kiln` file and everything it uses. `Err` only for the file itself being
    /// unreadable; problems inside become diagnostics.
    pub fn load_file(&mut self, path: &Path) -> Result<usize, DriverError> {
        self.load_file_named(path, normalize(path))
    }

    /// Like [`Session::load_file`], showing the file as `display` in diagnostics.
    fn load_file_named(&mut self, path: &Path, display: String) -> Result<usize, DriverError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let origin = Origin::File(canonical);
        if let Some(&m) = self.by_origin.get(&origin) {
            return Ok(m);
        }
        let text = read(path)?;
        Ok(self.add_module(origin, display, text))
    }

    /// The folder of module `m` as the user sees it (for naming the files it refers to).
    pub(crate) fn display_dir(&self, m: usize) -> String {
        let name = &self.map.get(self.modules[m].file).name;
        Path::new(name).parent().map(|p| p.display().to_string()).unwrap_or_default()
    }

    /// Adds in-memory source text as a module.
    pub fn load_text(&mut self, name: &str, text: &str) -> usize {
        self.add_module(Origin::Memory(name.to_string()), name.to_string(), text.to_string())
    }

    fn add_module(&mut self, origin: Origin, name: String, text: String) -> usize {
        let file = self.map.add(name, text);
        let text = &self.map.get(file).text;
        let (ast, diags) = crate::timing::phase("parse", || syntax::parse_module(file, text));
        self.diagnostics.extend(diags);
        let idx = self.modules.len();
        self.by_origin.insert(origin.clone(), idx);
        self.modules.push(Loaded { file, origin, ast, uses: Vec::new() });
        self.resolve_uses(idx);
        self.load_externals(idx);
        idx
    }

    /// The folder relative paths in module `m` are resolved against.
    fn base_dir(&self, m: usize) -> Option<PathBuf> {
        match &self.modules[m].origin {
            Origin::File(p) => Some(p.parent().map(Path::to_path_buf).unwrap_or_default()),
            // In-memory text resolves against the folder its name has (`kiln repl` names
            // a session's text in the folder of the file it loaded last), else `.`.
            Origin::Memory(name) => Some(
                Path::new(name)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            ),
            Origin::Std(_) => None,
        }
    }

    fn resolve_uses(&mut self, m: usize) {
        let uses: Vec<(String, Span)> = self.modules[m]
            .ast
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ast::ItemKind::Use { path, path_span } => Some((path.clone(), *path_span)),
                _ => None,
            })
            .collect();
        for (path, span) in uses {
            let target = if let Some(text) = stdlib::get(&path) {
                let origin = Origin::Std(path.clone());
                match self.by_origin.get(&origin) {
                    Some(&t) => Some(t),
                    None => Some(self.add_module(origin, format!("<{path}>"), text.to_string())),
                }
            } else if path.starts_with("std/") {
                let known: Vec<&str> = stdlib::MODULES.iter().map(|(n, _)| *n).collect();
                self.diagnostics.push(
                    Diagnostic::new(codes::E0105, span, format!("no standard module `{path}`"))
                        .label("not in the standard library")
                        .help(format!("the standard modules are: {}", known.join(", "))),
                );
                None
            } else {
                match self.base_dir(m) {
                    Some(dir) => {
                        let full = dir.join(&path);
                        let display = display_join(&self.display_dir(m), &path);
                        match self.load_file_named(&full, display) {
                            Ok(t) => Some(t),
                            Err(e) => {
                                self.diagnostics.push(
                                    Diagnostic::new(
                                        codes::E0105,
                                        span,
                                        format!("cannot read module `{path}`"),
                                    )
                                    .label(e.message)
                                    .help("paths in `use` are relative to the file that uses them"),
                                );
                                None
                            }
                        }
                    }
                    None => None,
                }
            };
            if let Some(t) = target {
                if t == m {
                    self.diagnostics.push(
                        Diagnostic::new(codes::E0105, span, "a module cannot use itself")
                            .label("this is the file itself"),
                    );
                } else {
                    self.modules[m].uses.push((t, span));
                }
            }
        }
    }

    /// Reads the `.prompt` files (and, once supported, `.af` files) a module declares.
    fn load_externals(&mut self, m: usize) {
        let Some(dir) = self.base_dir(m) else { return };
        let file = self.modules[m].file;
        let decls: Vec<(bool, String, Span)> = self.modules[m]
            .ast
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ast::ItemKind::PromptFile { path, path_span, .. } => {
                    Some((true, path.clone(), *path_span))
                }
                ast::ItemKind::Agent { path, path_span, .. } => {
                    Some((false, path.clone(), *path_span))
                }
                _ => None,
            })
            .collect();
        for (is_prompt, path, span) in decls {
            let full = dir.join(&path);
            if is_prompt
                && let Some(sig) =
                    full.canonicalize().ok().and_then(|c| self.prompt_files.get(&c).cloned())
            {
                self.ext.prompts.insert((file, path), sig);
                continue;
            }
            let text = match read(&full) {
                Ok(t) => t,
                Err(e) => {
                    let what = if is_prompt { "prompt" } else { "agent" };
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::E0105,
                            span,
                            format!("cannot read {what} file `{path}`"),
                        )
                        .label(e.message)
                        .help("paths are relative to the file that declares them"),
                    );
                    if is_prompt {
                        self.ext.prompts.insert((file, path), None);
                    } else {
                        self.ext.agents.insert((file, path), None);
                    }
                    continue;
                }
            };
            let ef = self.map.add(display_join(&self.display_dir(m), &path), text);
            if is_prompt {
                let (sig, diags) = prompt::load(ef, &self.map.get(ef).text);
                self.diagnostics.extend(diags);
                if let Ok(c) = full.canonicalize() {
                    self.prompt_files.insert(c, sig.clone());
                }
                self.ext.prompts.insert((file, path), sig);
            } else {
                let (agent, diags) = syntax::agent::parse_agent(ef, &self.map.get(ef).text);
                self.diagnostics.extend(diags);
                let sig = agent.map(|a| check::AgentSig {
                    input: a.input_size as u32,
                    output: a.output_size as u32,
                    has_weights: a.weights.is_some(),
                    threads: a.limits.threads().map(|t| t.min(u64::from(u32::MAX)) as u32),
                });
                self.ext.agents.insert((file, path), sig);
            }
        }
    }

    /// Checks the program whose main module is `main`, adding its diagnostics.
    pub fn check(&mut self, main: usize) -> Program {
        // The modules reachable from `main`, renumbered densely.
        let mut order = vec![main];
        let mut i = 0;
        while i < order.len() {
            for &(u, _) in &self.modules[order[i]].uses {
                if !order.contains(&u) {
                    order.push(u);
                }
            }
            i += 1;
        }
        // kiln.toml matters only to a program that calls a model (`complete`; prompts
        // without a result type only render): a broken kiln.toml in a parent folder must
        // not fail the check of every pipeline below it.
        let may_call_models = order.iter().any(|&m| {
            let text = &self.map.get(self.modules[m].file).text;
            text.contains("complete")
        });
        self.ext.models =
            if may_call_models { self.models_for(main) } else { crate::config::Models::Unknown };
        let inputs: Vec<ModuleInput> = order
            .iter()
            .map(|&m| {
                let l = &self.modules[m];
                ModuleInput {
                    file: l.file,
                    module: &l.ast,
                    uses: l
                        .uses
                        .iter()
                        .map(|&(u, s)| (order.iter().position(|&o| o == u).expect("reachable"), s))
                        .collect(),
                    is_std: matches!(l.origin, Origin::Std(_)),
                }
            })
            .collect();
        let (program, diags) = check::check_program(&inputs, 0, &self.ext);
        self.diagnostics.extend(diags);
        program
    }

    /// Reads and checks the `.prompt` file `f` on its own (no pipeline declares it).
    fn check_prompt_alone(&mut self, f: FileId) {
        let (sig, diags) = prompt::load(f, &self.map.get(f).text);
        self.diagnostics.extend(diags);
        if let Some(sig) = sig {
            self.diagnostics.extend(check::check_prompt_alone(f, &sig));
        }
    }

    /// Every module used by another module of this session.
    fn used_by_others(&self) -> Vec<usize> {
        self.modules.iter().flat_map(|l| l.uses.iter().map(|&(u, _)| u)).collect()
    }

    pub fn finish(mut self) -> CheckRun {
        diag::dedup(&mut self.diagnostics);
        CheckRun { map: self.map, diagnostics: self.diagnostics }
    }

    /// Like [`Session::finish`], leaving the syntax trees allocated: freeing them is a
    /// measurable share of a one-shot `kiln check`, and the process exits right after.
    fn finish_without_freeing(mut self) -> CheckRun {
        std::mem::forget(std::mem::take(&mut self.modules));
        self.finish()
    }
}

/// `dir/rel` with `.` and `..` resolved lexically, for display.
fn display_join(dir: &str, rel: &str) -> String {
    normalize(&Path::new(dir).join(rel))
}

pub(crate) fn normalize(path: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let p: PathBuf = parts.iter().collect();
    if p.as_os_str().is_empty() { ".".into() } else { p.display().to_string() }
}

pub(crate) fn read(path: &Path) -> Result<String, DriverError> {
    let bytes = std::fs::read(path)
        .map_err(|e| DriverError { path: path.to_path_buf(), message: io_message(&e) })?;
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| DriverError {
        path: path.to_path_buf(),
        message: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
    })
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a folder, not a file".into(),
        _ => e.to_string(),
    }
}

/// Parses, type-checks and lints `files` (`.kiln`, `.af` and `.prompt` files; folders are
/// expanded by the caller). A `.kiln` file used by another one in the list is checked as
/// part of that program, not on its own.
///
/// Meant for one-shot use (the `kiln check` command): the syntax trees and typed programs
/// are not freed, because freeing them costs time a process about to exit does not need to
/// spend. Long-running callers use [`Session`] or [`check_source`], which free everything.
pub fn check_files(files: &[PathBuf]) -> Result<CheckRun, DriverError> {
    let files = files.to_vec();
    with_big_stack(move || check_files_here(&files))
}

/// Runs compiler work on a thread with a large stack: the parser and checker recurse over
/// expression nesting, and deeply nested input must not overflow the caller's stack
/// (test threads have 2 MB). The memory is reserved, not committed, until used.
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    const STACK: usize = 1 << 30;
    match std::thread::Builder::new().name("kiln-compile".into()).stack_size(STACK).spawn(f) {
        Ok(handle) => match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(_) => panic!("cannot start the compiler thread"),
    }
}

fn check_files_here(files: &[PathBuf]) -> Result<CheckRun, DriverError> {
    let mut s = Session::new();
    let mut mains = Vec::new();
    let mut prompts = Vec::new();
    for path in files {
        if walk::is_config(path) {
            s.load_config(path, path.display().to_string())?;
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("prompt") => prompts.push(path),
            Some("af") => {
                let text = read(path)?;
                let f = s.map.add(path.display().to_string(), text);
                let (_, diags) = syntax::agent::parse_agent(f, &s.map.get(f).text);
                s.diagnostics.extend(diags);
            }
            _ => mains.push(s.load_file(path)?),
        }
    }
    // A `.prompt` file a pipeline of this run declares is checked in that pipeline's
    // scope; any other is checked on its own.
    for path in prompts {
        let declared = path.canonicalize().is_ok_and(|c| s.prompt_files.contains_key(&c));
        if !declared {
            let text = read(path)?;
            let f = s.map.add(path.display().to_string(), text);
            s.check_prompt_alone(f);
        }
    }
    let used = s.used_by_others();
    for m in mains {
        if !used.contains(&m) {
            // A one-shot check: the typed program is not needed and not freed (see `check_files`).
            std::mem::forget(s.check(m));
        }
    }
    Ok(s.finish_without_freeing())
}

/// Checks one in-memory `.kiln` text (the fuzzer and tests use this).
pub fn check_source(name: &str, text: &str) -> CheckRun {
    let (name, text) = (name.to_string(), text.to_string());
    with_big_stack(move || check_source_here(&name, &text))
}

/// [`check_source`] on the calling thread, for callers that bound their input size (the
/// fuzzer): nesting is capped at [`crate::syntax::split::MAX_DEPTH`] brackets, but long
/// operator chains still recurse, so large inputs belong on a big stack.
pub fn check_source_here(name: &str, text: &str) -> CheckRun {
    {
        let mut s = Session::new();
        if walk::is_config(Path::new(name)) {
            let f = crate::source::FileId(s.map.len() as u32);
            let loaded = crate::config::load(f, text);
            s.map.add(name, loaded.shown);
            s.diagnostics.extend(loaded.diagnostics);
            return s.finish();
        }
        if name.ends_with(".prompt") || name.ends_with(".af") {
            let f = s.map.add(name, text);
            if name.ends_with(".af") {
                let diags = syntax::agent::parse_agent(f, &s.map.get(f).text).1;
                s.diagnostics.extend(diags);
            } else {
                s.check_prompt_alone(f);
            }
            return s.finish();
        }
        let m = s.load_text(name, text);
        s.check(m);
        s.finish()
    }
}
