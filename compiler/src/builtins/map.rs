//! `map(xs: stream<T> | [T], f: T -> U) -> stream<U> | [U]`
//!
//! Applies `f` to every element.
//!
//! Examples:
//! - `[1, 2, 3] |> map(x => x * 10)` → `[10,20,30]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "map",
    id: super::BuiltinId::Map,
    signature: "map(xs: stream<T> | [T], f: T -> U) -> stream<U> | [U]",
    doc: "Applies `f` to every element.",
    examples: &[(r#"[1, 2, 3] |> map(x => x * 10)"#, r#"[10,20,30]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "map", 2, 2) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "map");
    let f = cx.func_arg(site.args[1], &elem, None);
    let ret = Checker::func_ret(&f);
    if ret.is_error() {
        return Typed::error();
    }
    Typed::new(vec![xs, f], c.wrap(ret))
}
