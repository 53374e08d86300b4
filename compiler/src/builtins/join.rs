//! `join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R }> | join(xs: [str], sep: str) -> str`
//!
//! Inner join on equal keys: `{ left, right }` for each matching pair; the right side is materialized; output follows left order, then right order. With a list of strings and a separator, joins the strings instead.
//!
//! Examples:
//! - `[1, 2] |> join([2, 2], l => l, r => r)` → `[{"left":2,"right":2},{"left":2,"right":2}]`
//! - `join(["a", "b"], "-")` → `"a-b"`

use super::{Builtin, CallSite, Typed};
use super::{Container, key_ok};
use crate::check::Checker;
use crate::check::types::Ty;
use crate::check::types::join;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "join",
    id: super::BuiltinId::Join,
    signature: "join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R }> | join(xs: [str], sep: str) -> str",
    doc: "Inner join on equal keys: `{ left, right }` for each matching pair; the right side is materialized; output follows left order, then right order. With a list of strings and a separator, joins the strings instead.",
    examples: &[
        (
            r#"[1, 2] |> join([2, 2], l => l, r => r)"#,
            r#"[{"left":2,"right":2},{"left":2,"right":2}]"#,
        ),
        (r#"join(["a", "b"], "-")"#, r#""a-b""#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if site.args.len() == 2 && site.named.is_empty() {
        return join_strings(cx, site);
    }
    relational(cx, site, "join", false)
}

/// `join` and `left_join` on streams or lists: `{ left, right }` (`right: R?` when `outer`).
pub(super) fn relational(cx: &mut Checker, site: &CallSite, name: &str, outer: bool) -> Typed {
    if !cx.expect_args(site, name, 4, 4) {
        return Typed::error();
    }
    let (l, el, cl) = cx.collection(site.args[0], name);
    let (r, er, cr) = cx.collection(site.args[1], name);
    if cl == Container::List && cr == Container::Stream {
        cx.report(
            Diagnostic::new(codes::E0215, r.span, "a list cannot be joined with a stream")
                .label("a stream")
                .help(format!("put the stream on the left: `stream |> {name}(list, ...)`")),
        );
        return Typed::error();
    }
    let lk = cx.func_arg(site.args[2], &el, None);
    let rk = cx.func_arg(site.args[3], &er, None);
    if !key_ok(cx, &lk, site.args[2].span, name) || !key_ok(cx, &rk, site.args[3].span, name) {
        return Typed::error();
    }
    let (lt, rt) = (Checker::func_ret(&lk), Checker::func_ret(&rk));
    if join(&lt, &rt).is_none() {
        cx.report(
            Diagnostic::new(
                codes::E0200,
                site.args[3].span,
                format!(
                    "join keys must have one type: the left key is `{lt}`, the right key `{rt}`"
                ),
            )
            .label(format!("this key is `{rt}`"))
            .secondary(site.args[2].span, format!("this key is `{lt}`")),
        );
        return Typed::error();
    }
    let right_ty = if outer { Ty::optional(er) } else { er };
    let ty = cl.wrap(Ty::record(vec![("left", el), ("right", right_ty)]));
    Typed::new(vec![l, r, lk, rk], ty)
}

/// `join(xs: [str], sep: str) -> str`.
fn join_strings(cx: &mut Checker, site: &CallSite) -> Typed {
    let xs = cx.arg_as(site.args[0], &Ty::list(Ty::Str));
    let sep = cx.arg_as(site.args[1], &Ty::Str);
    Typed::new(vec![xs, sep], Ty::Str)
}
