//! `starts_with(s: str, prefix: str) -> bool`
//!
//! Whether `s` begins with `prefix`.
//!
//! Examples:
//! - `starts_with("kiln", "ki")` → `true`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "starts_with",
    id: super::BuiltinId::StartsWith,
    signature: "starts_with(s: str, prefix: str) -> bool",
    doc: "Whether `s` begins with `prefix`.",
    examples: &[(r#"starts_with("kiln", "ki")"#, r#"true"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "starts_with", &[Ty::Str, Ty::Str], Ty::Bool)
}
