//! `sum(f: T -> num) -> num`: the total of `f` over the elements (0 when empty).

use super::{AggSite, Aggregate, one_fn};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static AGG: Aggregate = Aggregate {
    name: "sum",
    kind: crate::ir::AggKind::Sum,
    signature: "sum(f: T -> int | float) -> int | float",
    doc: "The total of `f` over the elements; 0 over an empty `aggregate`. Integer overflow is an error.",
    check,
};

fn check(cx: &mut Checker, site: &AggSite) -> Option<(Vec<TExpr>, Ty)> {
    let f = one_fn(cx, site, "sum")?;
    let t = Checker::func_ret(&f);
    if !t.is_numeric() {
        cx.bad_arg("sum", &TExpr { ty: t, ..f }, "a function returning a number");
        return None;
    }
    Some((vec![f], t))
}
