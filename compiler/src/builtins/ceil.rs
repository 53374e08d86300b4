//! `ceil(x: float) -> float`
//!
//! Rounds up; the result is a `float`.
//!
//! Examples:
//! - `ceil(2.1)` → `3.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "ceil",
    id: super::BuiltinId::Ceil,
    signature: "ceil(x: float) -> float",
    doc: "Rounds up; the result is a `float`.",
    examples: &[(r#"ceil(2.1)"#, r#"3.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "ceil", &[Ty::Float], Ty::Float)
}
