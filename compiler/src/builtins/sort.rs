//! `sort(xs: [T]) -> [T]`
//!
//! The list in ascending order (stable; strings by code point, null first).
//!
//! Examples:
//! - `sort([3, 1, 2])` → `[1,2,3]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "sort",
    id: super::BuiltinId::Sort,
    signature: "sort(xs: [T]) -> [T]",
    doc: "The list in ascending order (stable; strings by code point, null first).",
    examples: &[(r#"sort([3, 1, 2])"#, r#"[1,2,3]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "sort", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty.clone() {
        Ty::List(t) if t.is_ordered() => Typed::new(vec![a.clone()], a.ty),
        _ => {
            cx.bad_arg("sort", &a, "a list of ordered values");
            Typed::error()
        }
    }
}
