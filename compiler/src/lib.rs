//! Kiln: a compiler for declarative AI and data pipelines.
//!
//! The modules follow the pipeline: [`syntax`] (pest grammar → AST) → [`check`] (names,
//! types, lints) → [`ir`] (the dataflow graph) → [`passes`] (the optimizer) → [`codegen`]
//! (Cranelift). [`compile`] runs them all: the library entry the CLI calls. [`interp`] is
//! the reference interpreter (`--engine interp` and the differential tests' oracle);
//! [`failure`] the run-time failures both engines report alike; [`agent`] the `.af`
//! networks. [`diag`] is the one diagnostic model every stage reports into; [`driver`] is
//! the only place that touches the file system.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod agent;
pub mod builtins;
pub mod check;
pub mod cli;
pub mod codegen;
pub mod compile;
pub mod config;
pub mod diag;
pub mod driver;
pub mod failure;
pub mod interp;
pub mod ir;
pub mod passes;
pub mod repl;
pub mod source;
pub mod syntax;
pub mod timing;
