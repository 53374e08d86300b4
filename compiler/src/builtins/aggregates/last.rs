//! `last(f: T -> U) -> U`: `f` of the last element in input order (`U?` in `aggregate`).

use super::{AggSite, Aggregate, maybe_empty, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "last",
    kind: crate::ir::AggKind::Last,
    signature: "last(f: T -> U) -> U",
    doc: "`f` of the last element in input order; null over an empty `aggregate`.",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "last")?;
    let t = Checker::func_ret(&f);
    Some((vec![f], maybe_empty(site, t)))
}
