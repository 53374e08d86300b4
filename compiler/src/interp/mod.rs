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
pub mod render;
pub mod text;
pub mod value;

#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;

pub use eval::Interp;
pub use value::Value;

pub use crate::failure::EvalError;

pub type R<T> = Result<T, EvalError>;
