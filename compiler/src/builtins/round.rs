//! `round(x: float) -> float`
//!
//! Rounds to the nearest integer, halves away from zero; the result is a `float`.
//!
//! Examples:
//! - `round(2.5)` → `3.0`
//! - `round(-2.5)` → `-3.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "round",
    id: super::BuiltinId::Round,
    signature: "round(x: float) -> float",
    doc: "Rounds to the nearest integer, halves away from zero; the result is a `float`.",
    examples: &[(r#"round(2.5)"#, r#"3.0"#), (r#"round(-2.5)"#, r#"-3.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "round", &[Ty::Float], Ty::Float)
}
