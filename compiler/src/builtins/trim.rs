//! `trim(s: str) -> str`
//!
//! Removes leading and trailing whitespace.
//!
//! Examples:
//! - `trim("  hi \n")` → `"hi"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "trim",
    id: super::BuiltinId::Trim,
    signature: "trim(s: str) -> str",
    doc: "Removes leading and trailing whitespace.",
    examples: &[(r#"trim("  hi \n")"#, r#""hi""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "trim", &[Ty::Str], Ty::Str)
}
