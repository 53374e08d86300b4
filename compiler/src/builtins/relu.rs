//! `relu(v: vec[N]) -> vec[N] | relu(x: float) -> float`
//!
//! max(0, x), elementwise on vectors.
//!
//! Examples:
//! - `relu(-2.0)` → `0.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "relu",
    id: super::BuiltinId::Relu,
    signature: "relu(v: vec[N]) -> vec[N] | relu(x: float) -> float",
    doc: "max(0, x), elementwise on vectors.",
    examples: &[(r#"relu(-2.0)"#, r#"0.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.vec_or_number(site, "relu")
}
