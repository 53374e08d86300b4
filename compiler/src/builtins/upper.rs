//! `upper(s: str) -> str`
//!
//! Upper-cases every character (Unicode-aware).
//!
//! Examples:
//! - `upper("straße")` → `"STRASSE"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "upper",
    id: super::BuiltinId::Upper,
    signature: "upper(s: str) -> str",
    doc: "Upper-cases every character (Unicode-aware).",
    examples: &[(r#"upper("straße")"#, r#""STRASSE""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "upper", &[Ty::Str], Ty::Str)
}
