//! `pow(x: float, y: float) -> float`
//!
//! `x` raised to `y`, as a float.
//!
//! Examples:
//! - `pow(2, 10)` → `1024.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "pow",
    id: super::BuiltinId::Pow,
    signature: "pow(x: float, y: float) -> float",
    doc: "`x` raised to `y`, as a float.",
    examples: &[(r#"pow(2, 10)"#, r#"1024.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "pow", &[Ty::Float, Ty::Float], Ty::Float)
}
