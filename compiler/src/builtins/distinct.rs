//! `distinct(xs: stream<T> | [T], key: T -> K) -> stream<T> | [T]`
//!
//! The first element of each distinct key, in input order.
//!
//! Examples:
//! - `[3, 1, 3, 2, 1] |> distinct(x => x)` → `[3,1,2]`

use super::key_ok;
use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "distinct",
    id: super::BuiltinId::Distinct,
    signature: "distinct(xs: stream<T> | [T], key: T -> K) -> stream<T> | [T]",
    doc: "The first element of each distinct key, in input order.",
    examples: &[(r#"[3, 1, 3, 2, 1] |> distinct(x => x)"#, r#"[3,1,2]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "distinct", 2, 2) {
        return Typed::error();
    }
    let (xs, elem, _) = cx.collection(site.args[0], "distinct");
    let key = cx.func_arg(site.args[1], &elem, None);
    if !key_ok(cx, &key, site.args[1].span, "distinct") {
        return Typed::error();
    }
    let ty = xs.ty.clone();
    Typed::new(vec![xs, key], ty)
}
