//! `count() -> int`: the number of elements in the group (0 over an empty `aggregate`).

use super::{AggSite, Aggregate};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "count",
    kind: crate::ir::AggKind::Count,
    signature: "count() -> int",
    doc: "The number of elements (0 over an empty `aggregate`).",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    cx.arity(site.name_span, "`count`", &site.args, &[], 0, 0).then(|| (Vec::new(), Ty::Int))
}
