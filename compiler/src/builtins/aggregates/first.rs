//! `first(f: T -> U) -> U`: `f` of the first element in input order (`U?` in `aggregate`).

use super::{AggSite, Aggregate, maybe_empty, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "first",
    kind: crate::ir::AggKind::First,
    signature: "first(f: T -> U) -> U",
    doc: "`f` of the first element in input order; null over an empty `aggregate`.",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "first")?;
    let t = Checker::func_ret(&f);
    Some((vec![f], maybe_empty(site, t)))
}
