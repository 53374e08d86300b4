//! `parse_int(s: str) -> int`
//!
//! Parses a decimal integer (surrounding whitespace allowed); anything else is a record error.
//!
//! Examples:
//! - `parse_int(" 42 ")` → `42`
//! - `parse_int("-7")` → `-7`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "parse_int",
    id: super::BuiltinId::ParseInt,
    signature: "parse_int(s: str) -> int",
    doc: "Parses a decimal integer (surrounding whitespace allowed); anything else is a record error.",
    examples: &[(r#"parse_int(" 42 ")"#, r#"42"#), (r#"parse_int("-7")"#, r#"-7"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "parse_int", &[Ty::Str], Ty::Int)
}
