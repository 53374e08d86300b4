//! `left_join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R? }>`
//!
//! Left join: every left element with each matching right element, or with `right: null` when none matches. The right side is materialized; output follows left order, then right order.
//!
//! Examples:
//! - `[1, 2] |> left_join([2], l => l, r => r)` → `[{"left":1,"right":null},{"left":2,"right":2}]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use super::{Container, key_ok};
use crate::check::types::join;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "left_join",
    signature: "left_join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R? }>",
    doc: "Left join: every left element with each matching right element, or with `right: null` when none matches. The right side is materialized; output follows left order, then right order.",
    examples: &[
        (r#"[1, 2] |> left_join([2], l => l, r => r)"#, r#"[{"left":1,"right":null},{"left":2,"right":2}]"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "left_join", 4, 4) {
        return Typed::error();
    }
    let Some((l, el, cl)) = cx.collection(site.args[0], "left_join") else { return Typed::error() };
    let Some((r, er, cr)) = cx.collection(site.args[1], "left_join") else { return Typed::error() };
    if cl == Container::List && cr == Container::Stream {
        cx.report(
            Diagnostic::new(codes::E0215, r.span, "a list cannot be joined with a stream")
                .label("a stream")
                .help("put the stream on the left: `stream |> left_join(list, ...)`"),
        );
        return Typed::error();
    }
    let lk = cx.func_arg(site.args[2], &el, None);
    let rk = cx.func_arg(site.args[3], &er, None);
    if !key_ok(cx, &lk, site.args[2].span, "left_join") || !key_ok(cx, &rk, site.args[3].span, "left_join") {
        return Typed::error();
    }
    let (lt, rt) = (Checker::func_ret(&lk), Checker::func_ret(&rk));
    if join(&lt, &rt).is_none() {
        cx.report(
            Diagnostic::new(codes::E0200, site.args[3].span, format!("join keys must have one type: the left key is `{lt}`, the right key `{rt}`"))
                .label(format!("this key is `{rt}`"))
                .secondary(site.args[2].span, format!("this key is `{lt}`")),
        );
        return Typed::error();
    }
    let right_ty = Ty::optional(er);
    let ty = cl.wrap(Ty::record(vec![("left", el), ("right", right_ty)]));
    Typed::new(vec![l, r, lk, rk], ty)
}
