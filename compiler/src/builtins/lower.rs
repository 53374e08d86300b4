//! `lower(s: str) -> str`
//!
//! Lower-cases every character (Unicode-aware).
//!
//! Examples:
//! - `lower("ÀbC")` → `"àbc"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "lower",
    id: super::BuiltinId::Lower,
    signature: "lower(s: str) -> str",
    doc: "Lower-cases every character (Unicode-aware).",
    examples: &[(r#"lower("ÀbC")"#, r#""àbc""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "lower", &[Ty::Str], Ty::Str)
}
