//! `max(f: T -> U) -> U`: the largest value of `f` (`U?` in `aggregate`).

use super::{AggSite, Aggregate, maybe_empty, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "max",
    kind: crate::ir::AggKind::Max,
    signature: "max(f: T -> U) -> U",
    doc: "The largest value of `f` over the elements (numbers, strings, bools, or lists and records of them), skipping nulls; null over an empty `aggregate` or when every value is null.",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "max")?;
    let t = Checker::func_ret(&f);
    if !t.is_ordered() {
        cx.bad_arg("max", &TExpr { ty: t, ..f }, "a function returning an ordered value");
        return None;
    }
    Some((vec![f], maybe_empty(site, t)))
}
