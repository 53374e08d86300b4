//! `replace(s: str, from: str, to: str) -> str`
//!
//! Replaces every occurrence of `from` with `to`.
//!
//! Examples:
//! - `replace("a-b-c", "-", "+")` → `"a+b+c"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "replace",
    id: super::BuiltinId::Replace,
    signature: "replace(s: str, from: str, to: str) -> str",
    doc: "Replaces every occurrence of `from` with `to`.",
    examples: &[(r#"replace("a-b-c", "-", "+")"#, r#""a+b+c""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "replace", &[Ty::Str, Ty::Str, Ty::Str], Ty::Str)
}
