//! Code generation with Cranelift, generic over `cranelift_module::Module` (the JIT of
//! `kiln run` and object files share it).
//!
//! - [`layout`]: checked types → the runtime's memory layout and Cranelift value shapes.
//! - [`expr`]: typed expressions → Cranelift IR ([`expr::Gen`]).
//! - [`stage`]: fused operator chains → stage functions; aggregations → projections.
//! - [`module`]: what the functions of a program share (imports, data, kept descriptions).
//! - [`context`]: compile-time values (consts, params, agents, paths) and failure sites.
//! - [`plan`]: the IR graph → the runtime's plan; [`run`]: JIT, run, report.
//! - [`eval`]: one expression compiled and run, and a definition's Cranelift IR (`kiln repl`).
//!
//! Agent calls batched over rows are `ir::Op::Agent`, made by the `batch` pass
//! (`crate::passes::batch`); the plan runs each as an agent node.

pub mod aot;
pub mod args;
pub mod context;
pub mod eval;
pub mod expr;
pub mod layout;
pub mod module;
pub mod plan;
pub mod run;
pub mod spec;
pub mod stage;
