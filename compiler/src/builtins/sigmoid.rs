//! `sigmoid(v: vec[N]) -> vec[N] | sigmoid(x: float) -> float`
//!
//! 1 / (1 + exp(-x)), elementwise on vectors.
//!
//! Examples:
//! - `sigmoid(0.0)` → `0.5`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "sigmoid",
    id: super::BuiltinId::Sigmoid,
    signature: "sigmoid(v: vec[N]) -> vec[N] | sigmoid(x: float) -> float",
    doc: "1 / (1 + exp(-x)), elementwise on vectors.",
    examples: &[(r#"sigmoid(0.0)"#, r#"0.5"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.vec_or_number(site, "sigmoid")
}
