//! `log(x: float) -> float`
//!
//! Natural logarithm.
//!
//! Examples:
//! - `log(1)` → `0.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "log",
    id: super::BuiltinId::Log,
    signature: "log(x: float) -> float",
    doc: "Natural logarithm.",
    examples: &[(r#"log(1)"#, r#"0.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "log", &[Ty::Float], Ty::Float)
}
