//! `sqrt(x: float) -> float`
//!
//! Square root (NaN for negative input, printed as null).
//!
//! Examples:
//! - `sqrt(9)` → `3.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "sqrt",
    id: super::BuiltinId::Sqrt,
    signature: "sqrt(x: float) -> float",
    doc: "Square root (NaN for negative input, printed as null).",
    examples: &[(r#"sqrt(9)"#, r#"3.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "sqrt", &[Ty::Float], Ty::Float)
}
