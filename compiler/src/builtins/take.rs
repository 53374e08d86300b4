//! `take(xs: stream<T> | [T], n: int) -> stream<T> | [T]`
//!
//! The first `n` elements (all of them when fewer).
//!
//! Examples:
//! - `[1, 2, 3] |> take(2)` → `[1,2]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "take",
    id: super::BuiltinId::Take,
    signature: "take(xs: stream<T> | [T], n: int) -> stream<T> | [T]",
    doc: "The first `n` elements (all of them when fewer).",
    examples: &[(r#"[1, 2, 3] |> take(2)"#, r#"[1,2]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "take", 2, 2) {
        return Typed::error();
    }
    let (xs, _, _) = cx.collection(site.args[0], "take");
    let k = cx.count_arg(site.args[1], "take", 0);
    let ty = xs.ty.clone();
    Typed::new(vec![xs, k], ty)
}
