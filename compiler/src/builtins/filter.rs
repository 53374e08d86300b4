//! `filter(xs: stream<T> | [T], p: T -> bool) -> stream<T> | [T]`
//!
//! Keeps the elements for which `p` is true.
//!
//! Examples:
//! - `[1, 2, 3, 4] |> filter(x => x % 2 == 0)` → `[2,4]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "filter",
    id: super::BuiltinId::Filter,
    signature: "filter(xs: stream<T> | [T], p: T -> bool) -> stream<T> | [T]",
    doc: "Keeps the elements for which `p` is true.",
    examples: &[(r#"[1, 2, 3, 4] |> filter(x => x % 2 == 0)"#, r#"[2,4]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "filter", 2, 2) {
        return Typed::error();
    }
    let (xs, _, _) = cx.collection(site.args[0], "filter");
    let elem = xs.ty.element().cloned().unwrap_or(Ty::Error);
    let p = cx.func_arg(site.args[1], &elem, Some(&Ty::Bool));
    if p.ty.has_error() {
        return Typed::error();
    }
    let ty = xs.ty.clone();
    Typed::new(vec![xs, p], ty)
}
