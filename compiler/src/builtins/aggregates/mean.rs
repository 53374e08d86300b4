//! `mean(f: T -> num) -> float`: the arithmetic mean of `f` (`float?` in `aggregate`).

use super::{AggSite, Aggregate, maybe_empty, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "mean",
    kind: crate::ir::AggKind::Mean,
    signature: "mean(f: T -> int | float) -> float",
    doc: "The arithmetic mean of `f` over the elements; null over an empty `aggregate`.",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "mean")?;
    let t = Checker::func_ret(&f);
    if !t.is_numeric() {
        cx.bad_arg("mean", &TExpr { ty: t, ..f }, "a function returning a number");
        return None;
    }
    Some((vec![f], maybe_empty(site, Ty::Float)))
}
