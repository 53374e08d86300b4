//! `collect(f: T -> U) -> [U]`: `f` of every element, in input order.

use super::{AggSite, Aggregate, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "collect",
    kind: crate::ir::AggKind::Collect,
    signature: "collect(f: T -> U) -> [U]",
    doc: "`f` of every element as a list, in input order (empty over an empty `aggregate`).",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "collect")?;
    let t = Checker::func_ret(&f);
    Some((vec![f], Ty::list(t)))
}
