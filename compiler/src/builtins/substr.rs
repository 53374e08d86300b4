//! `substr(s: str, start: int, n: int) -> str`
//!
//! `n` characters from character index `start`, clipped to the string (negative values count as 0).
//!
//! Examples:
//! - `substr("kilns", 1, 3)` → `"iln"`
//! - `substr("ab", 1, 10)` → `"b"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "substr",
    id: super::BuiltinId::Substr,
    signature: "substr(s: str, start: int, n: int) -> str",
    doc: "`n` characters from character index `start`, clipped to the string (negative values count as 0).",
    examples: &[(r#"substr("kilns", 1, 3)"#, r#""iln""#), (r#"substr("ab", 1, 10)"#, r#""b""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "substr", &[Ty::Str, Ty::Int, Ty::Int], Ty::Str)
}
