//! `exp(x: float) -> float`
//!
//! e raised to `x`.
//!
//! Examples:
//! - `exp(0)` → `1.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "exp",
    id: super::BuiltinId::Exp,
    signature: "exp(x: float) -> float",
    doc: "e raised to `x`.",
    examples: &[(r#"exp(0)"#, r#"1.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "exp", &[Ty::Float], Ty::Float)
}
