//! `skip(xs: stream<T> | [T], n: int) -> stream<T> | [T]`
//!
//! All but the first `n` elements.
//!
//! Examples:
//! - `[1, 2, 3] |> skip(2)` → `[3]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "skip",
    id: super::BuiltinId::Skip,
    signature: "skip(xs: stream<T> | [T], n: int) -> stream<T> | [T]",
    doc: "All but the first `n` elements.",
    examples: &[(r#"[1, 2, 3] |> skip(2)"#, r#"[3]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "skip", 2, 2) {
        return Typed::error();
    }
    let (xs, _, _) = cx.collection(site.args[0], "skip");
    let k = cx.count_arg(site.args[1], "skip", 0);
    let ty = xs.ty.clone();
    Typed::new(vec![xs, k], ty)
}
