//! `floor(x: float) -> float`
//!
//! Rounds down; the result is a `float`.
//!
//! Examples:
//! - `floor(2.7)` → `2.0`
//! - `floor(-2.5)` → `-3.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "floor",
    id: super::BuiltinId::Floor,
    signature: "floor(x: float) -> float",
    doc: "Rounds down; the result is a `float`.",
    examples: &[(r#"floor(2.7)"#, r#"2.0"#), (r#"floor(-2.5)"#, r#"-3.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "floor", &[Ty::Float], Ty::Float)
}
