//! `split(s: str, sep: str) -> [str]`
//!
//! Splits at every `sep`; an empty `sep` splits into characters.
//!
//! Examples:
//! - `split("a,b,,c", ",")` → `["a","b","","c"]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "split",
    id: super::BuiltinId::Split,
    signature: "split(s: str, sep: str) -> [str]",
    doc: "Splits at every `sep`; an empty `sep` splits into characters.",
    examples: &[(r#"split("a,b,,c", ",")"#, r#"["a","b","","c"]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.simple(site, "split", &[Ty::Str, Ty::Str], Ty::list(Ty::Str))
}
