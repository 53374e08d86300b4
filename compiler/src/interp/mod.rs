//! The reference interpreter of the IR (`kiln run --engine interp`, and the oracle of the
//! differential tests; compiled code never calls it). It walks the checked expression trees
//! ([`crate::check::hir::TExpr`]) with the semantics of LANGUAGE.md and streams a
//! [`crate::ir::Pipeline`] single-threaded, in order. See `docs/run.md`.
//!
//! - [`value`]: values, structural equality and ordering, JSON/CSV text.
//! - [`eval`]: expressions; [`builtins`], [`lists`], [`text`], [`agg`]: the library;
//!   [`render`]: prompt templates.
//! - [`input`], [`output`]: sources and sinks; [`params`]: `--param` and the environment.
//! - [`exec`]: the push-based executor of the dataflow graph.
//! - [`models`]: `complete`, through the runtime's model client.

pub mod agg;
pub mod builtins;
pub mod eval;
pub mod exec;
pub mod input;
pub mod lists;
pub mod models;
pub mod output;
pub mod params;
pub mod prepare;
pub mod render;
pub mod report;
pub mod text;
pub mod value;

#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;

pub use eval::Interp;
pub use value::Value;

use crate::diag::{Code, codes};
use crate::source::Span;

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

pub type R<T> = Result<T, EvalError>;
