//! `batch(xs: stream<T> | [T], n: int) -> stream<[T]> | [[T]]`
//!
//! Lists of `n` consecutive elements; the last may be shorter. `n` must be positive.
//!
//! Examples:
//! - `[1, 2, 3] |> batch(2)` → `[[1,2],[3]]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "batch",
    id: super::BuiltinId::Batch,
    signature: "batch(xs: stream<T> | [T], n: int) -> stream<[T]> | [[T]]",
    doc: "Lists of `n` consecutive elements; the last may be shorter. `n` must be positive.",
    examples: &[(r#"[1, 2, 3] |> batch(2)"#, r#"[[1,2],[3]]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "batch", 2, 2) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "batch");
    let k = cx.count_arg(site.args[1], "batch", 1);
    Typed::new(vec![xs, k], c.wrap(Ty::list(elem)))
}
