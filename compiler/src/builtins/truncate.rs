//! `truncate(s: str, n: int) -> str`
//!
//! The first `n` characters of `s` (all of it when shorter).
//!
//! Examples:
//! - `truncate("héllo", 2)` → `"hé"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "truncate",
    id: super::BuiltinId::Truncate,
    signature: "truncate(s: str, n: int) -> str",
    doc: "The first `n` characters of `s` (all of it when shorter).",
    examples: &[(r#"truncate("héllo", 2)"#, r#""hé""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "truncate", &[Ty::Str, Ty::Int], Ty::Str)
}
