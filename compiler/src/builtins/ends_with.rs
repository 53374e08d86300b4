//! `ends_with(s: str, suffix: str) -> bool`
//!
//! Whether `s` ends with `suffix`.
//!
//! Examples:
//! - `ends_with("kiln", "ki")` → `false`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "ends_with",
    id: super::BuiltinId::EndsWith,
    signature: "ends_with(s: str, suffix: str) -> bool",
    doc: "Whether `s` ends with `suffix`.",
    examples: &[(r#"ends_with("kiln", "ki")"#, r#"false"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "ends_with", &[Ty::Str, Ty::Str], Ty::Bool)
}
