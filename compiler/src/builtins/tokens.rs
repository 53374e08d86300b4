//! `tokens(s: str) -> [str]`
//!
//! The maximal runs of Unicode alphanumeric characters, lower-cased.
//!
//! Examples:
//! - `tokens("Hello, World! x2")` → `["hello","world","x2"]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "tokens",
    id: super::BuiltinId::Tokens,
    signature: "tokens(s: str) -> [str]",
    doc: "The maximal runs of Unicode alphanumeric characters, lower-cased.",
    examples: &[(r#"tokens("Hello, World! x2")"#, r#"["hello","world","x2"]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "tokens", &[Ty::Str], Ty::list(Ty::Str))
}
