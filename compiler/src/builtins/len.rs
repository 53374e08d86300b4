//! `len(x: str | [T] | vec[N]) -> int`
//!
//! The length: Unicode scalar values of a string, elements of a list, or N for a vector.
//!
//! Examples:
//! - `len("héllo")` → `5`
//! - `len([1, 2, 3])` → `3`
//! - `len(vec[3]([1, 2, 3]))` → `3`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "len",
    id: super::BuiltinId::Len,
    signature: "len(x: str | [T] | vec[N]) -> int",
    doc: "The length: Unicode scalar values of a string, elements of a list, or N for a vector.",
    examples: &[
        (r#"len("héllo")"#, r#"5"#),
        (r#"len([1, 2, 3])"#, r#"3"#),
        (r#"len(vec[3]([1, 2, 3]))"#, r#"3"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "len", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty {
        Ty::Str | Ty::List(_) | Ty::Vec(_) => Typed::new(vec![a], Ty::Int),
        _ => {
            cx.bad_arg("len", &a, "a string, a list or a vector");
            Typed::error()
        }
    }
}
