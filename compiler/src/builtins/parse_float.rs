//! `parse_float(s: str) -> float`
//!
//! Parses a number such as `3.5`, `1e-3` or `7` (surrounding whitespace allowed); anything else is a record error.
//!
//! Examples:
//! - `parse_float("2.5")` → `2.5`
//! - `parse_float("1e3")` → `1000.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "parse_float",
    id: super::BuiltinId::ParseFloat,
    signature: "parse_float(s: str) -> float",
    doc: "Parses a number such as `3.5`, `1e-3` or `7` (surrounding whitespace allowed); anything else is a record error.",
    examples: &[(r#"parse_float("2.5")"#, r#"2.5"#), (r#"parse_float("1e3")"#, r#"1000.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "parse_float", &[Ty::Str], Ty::Float)
}
