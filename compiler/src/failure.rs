//! Run-time failures (LANGUAGE.md §1.6): [`EvalError`], what an expression's failure is,
//! and how a failure that stops a run is reported. The words are the runtime's
//! (`kiln_runtime::program::load`), which reports compiled runs and built executables;
//! the interpreter reports through it too, so every engine says exactly the same thing.

use crate::diag::render::human::{diagnostic, span};
use crate::diag::{Code, Diagnostic, codes};
use crate::ir::Pipeline;
use crate::source::{SourceMap, Span};
use petgraph::stable_graph::NodeIndex;

/// A failure while evaluating an expression: the code, the span of the expression that
/// failed and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub code: Code,
    pub span: Span,
    pub message: String,
}

impl EvalError {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> EvalError {
        EvalError { code, span, message: message.into() }
    }
    pub fn overflow(span: Span, what: impl std::fmt::Display) -> EvalError {
        EvalError::new(codes::E0600, span, kiln_runtime::exec::fail::overflow(what))
    }
    pub fn internal(span: Span, what: impl std::fmt::Display) -> EvalError {
        EvalError::new(codes::E0611, span, format!("internal interpreter error: {what}"))
    }
    pub fn unsupported(span: Span, what: impl std::fmt::Display) -> EvalError {
        EvalError::new(codes::E0610, span, format!("{what} is not supported by this build yet"))
    }
}

/// Whether `p` has an errors stream (which changes a fatal failure's hint).
fn has_errors(p: &Pipeline) -> bool {
    p.graph.node_indices().any(|n| matches!(p.graph[n].kind, crate::ir::NodeKind::Errors))
}

/// A stage's name as users see it: its declared name, or `op@line:col` for an anonymous
/// stage.
pub fn stage_name(p: &Pipeline, map: &SourceMap, n: NodeIndex) -> String {
    let node = &p.graph[n];
    shown_name(map, &node.name, node.span)
}

/// The name of a stage (or of a part of a fused one) declared at `span`, as users see it.
pub fn shown_name(map: &SourceMap, name: &str, span: Span) -> String {
    if let Some((op, off)) = name.split_once('@')
        && let Ok(off) = off.parse::<usize>()
    {
        let file = map.get(span.file);
        let (l, c) = file.line_col(off);
        return format!("{op}@{l}:{c}");
    }
    name.to_string()
}

/// `file:line:col` of a span's start.
pub fn location(map: &SourceMap, span: Span) -> String {
    let file = map.get(span.file);
    let (l, c) = file.line_col(span.start as usize);
    format!("{}:{l}:{c}", file.name)
}

/// A record of source `n` that cannot be read, when there is no errors sink.
pub fn read_fatal(
    p: &Pipeline,
    n: NodeIndex,
    source: &str,
    line: u64,
    raw: &str,
    message: &str,
) -> Box<Diagnostic> {
    let node = &p.graph[n];
    let r = kiln_runtime::program::load::read_report(
        &node.name,
        span(node.span),
        source,
        line,
        raw,
        message,
    );
    Box::new(diagnostic(&r))
}

/// An expression of stage `n` that failed on the record `at` = (source, line, raw), or
/// before the stage started (`None`).
pub fn eval_fatal(
    p: &Pipeline,
    map: &SourceMap,
    n: NodeIndex,
    e: EvalError,
    at: Option<(&str, u64, &str)>,
) -> Box<Diagnostic> {
    let node = &p.graph[n];
    eval_fatal_in(p, &stage_name(p, map, n), node.span, e, at)
}

/// [`eval_fatal`] for the stage named `stage` declared at `within` (a part of a fused node).
pub fn eval_fatal_in(
    p: &Pipeline,
    stage: &str,
    within: Span,
    e: EvalError,
    at: Option<(&str, u64, &str)>,
) -> Box<Diagnostic> {
    let r = kiln_runtime::program::load::eval_report(
        stage,
        span(within),
        e.code.as_str(),
        span(e.span),
        e.message,
        at,
        has_errors(p),
    );
    Box::new(diagnostic(&r))
}
