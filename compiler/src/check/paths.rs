//! What the checker can see of where data goes: the destination of each sink and the file
//! each source reads, as written (a literal path normalized lexically, a `const` that
//! holds one, or a `param`). Two sinks on one destination (E0303), a sink on a source's
//! file (E0310) and two sources of standard input (E0311) are compile errors here; the
//! runtime's guard (`kiln_runtime::io::clobber`) refuses what only the run can see (a param
//! given on the command line, a link, `out/a` against `/abs/out/a`).

use super::Checker;
use super::hir::{ConstDef, Global, ParamDef, SinkFormat, SourceFormat, TExpr, TExprKind};
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use std::collections::HashMap;
use std::path::PathBuf;

/// A destination or input as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum PathKey {
    /// `-`: standard output for a sink, standard input for a source.
    Std,
    Param(usize),
    /// A path relative to the folder of `base`'s file (`None`: absolute).
    File {
        base: Option<FileId>,
        path: PathBuf,
    },
}

impl PathKey {
    fn shown(&self, params: &[ParamDef], sink: bool) -> String {
        match self {
            PathKey::Std if sink => "standard output".into(),
            PathKey::Std => "standard input".into(),
            PathKey::Param(i) => format!("the path in param `{}`", params[*i].name),
            PathKey::File { path, .. } => format!("`{}`", path.display()),
        }
    }
}

/// The key of a path expression written in file `file`, if it is known at compile time.
fn key_of(e: &TExpr, file: FileId, consts: &[ConstDef], depth: u32) -> Option<PathKey> {
    match &e.kind {
        TExprKind::Str(s) if &**s == "-" => Some(PathKey::Std),
        TExprKind::Str(s) => {
            let p = std::path::Path::new(&**s);
            let path = kiln_runtime::io::clobber::normalize(p);
            let base = (!p.is_absolute()).then_some(file);
            Some(PathKey::File { base, path })
        }
        TExprKind::Global(Global::Param(i)) => Some(PathKey::Param(*i)),
        TExprKind::Global(Global::Const(i)) if depth < 64 => {
            consts.get(*i).and_then(|c| key_of(&c.value, file, consts, depth + 1))
        }
        _ => None,
    }
}

/// What [`Checker::check_sink_path`] has seen: the sinks so far, and the first source
/// reading each path (computed at the first sink).
#[derive(Default)]
pub(super) struct SinkPaths {
    sinks: HashMap<PathKey, Span>,
    sources: Option<HashMap<PathKey, (std::rc::Rc<str>, Span)>>,
}

impl Checker<'_> {
    /// The key of a sink's destination (`stdout()` is standard output, `discard()` none).
    pub(super) fn sink_key(&self, format: SinkFormat, path: Option<&TExpr>) -> Option<PathKey> {
        match format {
            SinkFormat::Stdout => Some(PathKey::Std),
            SinkFormat::Discard => None,
            _ => path.and_then(|p| key_of(p, p.span.file, &self.program.consts, 0)),
        }
    }

    /// Reports a second sink on `key` (E0303) and a sink on a source's input (E0310).
    /// `seen` holds the sinks checked so far (hashed, so many sinks cost linear time).
    pub(super) fn check_sink_path(&mut self, key: PathKey, span: Span, seen: &mut SinkPaths) {
        let params = &self.program.params;
        if let Some(first) = seen.sinks.get(&key) {
            let d = Diagnostic::new(
                codes::E0303,
                span,
                format!("two sinks write {}", key.shown(params, true)),
            )
            .label("second sink")
            .secondary(*first, "first sink")
            .help("each sink needs its own path; combine the streams with `union(a, b)` to write one file");
            self.report(d);
            return;
        }
        if seen.sources.is_none() {
            // The first source reading each path (sources are all checked before sinks).
            let mut by_key = HashMap::new();
            for s in &self.program.sources {
                let Some(e) = s.args.first().filter(|_| s.format != SourceFormat::Range) else {
                    continue;
                };
                if let Some(k) = key_of(e, e.span.file, &self.program.consts, 0) {
                    by_key.entry(k).or_insert_with(|| (s.name.clone(), e.span));
                }
            }
            seen.sources = Some(by_key);
        }
        let read = (key != PathKey::Std)
            .then(|| seen.sources.as_ref().and_then(|m| m.get(&key)).cloned())
            .flatten();
        if let Some((source, at)) = read {
            let d = Diagnostic::new(
                codes::E0310,
                span,
                format!(
                    "this sink writes {}, which source `{source}` reads",
                    key.shown(params, true)
                ),
            )
            .label("would empty the input before it is read")
            .secondary(at, "read here")
            .help(
                "write the result to another file, then replace the input yourself if you mean to",
            );
            self.report(d);
        }
        seen.sinks.insert(key, span);
    }

    /// Two sources reading standard input: the second would get no rows (E0311).
    pub(super) fn check_source_paths(&mut self) {
        let mut first: Option<(std::rc::Rc<str>, Span)> = None;
        let mut found = Vec::new();
        for s in &self.program.sources {
            let Some(e) = s.args.first().filter(|_| s.format != SourceFormat::Range) else {
                continue;
            };
            if key_of(e, e.span.file, &self.program.consts, 0) != Some(PathKey::Std) {
                continue;
            }
            match &first {
                None => first = Some((s.name.clone(), e.span)),
                Some((name, at)) => found.push(
                    Diagnostic::new(
                        codes::E0311,
                        e.span,
                        format!(
                            "source `{}` reads standard input, which source `{name}` already reads",
                            s.name
                        ),
                    )
                    .label("would get no rows")
                    .secondary(*at, "first reader")
                    .help("standard input can be read once; save it to a file and read the file twice, or read it once and use the source in both stages"),
                ),
            }
        }
        for d in found {
            self.report(d);
        }
    }
}
