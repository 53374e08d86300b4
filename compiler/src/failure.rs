//! Run-time failures (LANGUAGE.md §1.6): [`EvalError`], what an expression's failure is,
//! and how a failure that stops a run is reported. Shared by the reference interpreter and
//! the compiled executor so both say exactly the same thing; neither engine owns it.

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

pub const ERRORS_HELP: &str = "to send failing records to a file and keep going, add `sink errors -> jsonl(\"errors.jsonl\")`";

/// For a failure in a pipeline that has an errors stream: a row read from it, or released
/// once it has ended (docs/run.md, "Record errors").
pub const ERRORS_LOOP_HELP: &str = "this failure cannot go to the errors stream (the row comes from it, or the stream has ended), so it stops the run";

/// The hint of a fatal record failure in `p`.
fn errors_help(p: &Pipeline) -> &'static str {
    let has_errors =
        p.graph.node_indices().any(|n| matches!(p.graph[n].kind, crate::ir::NodeKind::Errors));
    if has_errors { ERRORS_LOOP_HELP } else { ERRORS_HELP }
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

fn input_name(source: &str) -> String {
    if source == "-" { "standard input".to_string() } else { source.to_string() }
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
    let what = input_name(source);
    Box::new(
        Diagnostic::new(
            codes::E0607,
            node.span,
            format!("cannot read line {line} of {what}: {message}"),
        )
        .label(format!("source `{}`", node.name))
        .help(format!(
            "the line is: {}\n{}",
            kiln_runtime::textdef::shorten(raw),
            ERRORS_HELP
        )),
    )
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

/// [`eval_fatal`] for the stage named `stage` declared at `span` (a part of a fused node).
pub fn eval_fatal_in(
    p: &Pipeline,
    stage: &str,
    span: Span,
    e: EvalError,
    at: Option<(&str, u64, &str)>,
) -> Box<Diagnostic> {
    let mut d = Diagnostic::new(e.code, e.span, e.message);
    match at {
        // The row `aggregate` gives over an empty stream comes from no record.
        Some(("", 0, "")) => {
            let what = "the row `aggregate` gives for an empty stream";
            d = d.label(format!("failed on {what}"));
            let inside =
                span.file == e.span.file && span.start <= e.span.start && e.span.end <= span.end;
            if !inside {
                d = d.secondary(span, format!("in stage `{stage}`"));
            }
            d = d.help(format!("stage `{stage}` failed on {what}\n{}", errors_help(p)));
        }
        Some((source, line, raw)) => {
            let what = input_name(source);
            d = d.label(format!("failed on line {line} of {what}"));
            let inside =
                span.file == e.span.file && span.start <= e.span.start && e.span.end <= span.end;
            if !inside {
                d = d.secondary(span, format!("in stage `{stage}`"));
            }
            d = d.help(format!(
                "stage `{stage}` failed on line {line} of {what}: {}\n{}",
                kiln_runtime::textdef::shorten(raw),
                errors_help(p)
            ));
        }
        None => d = d.label(format!("failed before stage `{stage}` could start")),
    }
    Box::new(d)
}
