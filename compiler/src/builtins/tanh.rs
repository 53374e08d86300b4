//! `tanh(v: vec[N]) -> vec[N] | tanh(x: float) -> float`
//!
//! The hyperbolic tangent, elementwise on vectors.
//!
//! Examples:
//! - `tanh(0.0)` → `0.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "tanh",
    id: super::BuiltinId::Tanh,
    signature: "tanh(v: vec[N]) -> vec[N] | tanh(x: float) -> float",
    doc: "The hyperbolic tangent, elementwise on vectors.",
    examples: &[(r#"tanh(0.0)"#, r#"0.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.vec_or_number(site, "tanh")
}
