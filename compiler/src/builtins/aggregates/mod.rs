//! Aggregates: the values `group_by` and `aggregate` compute per group, written as named
//! arguments (`n: count(), avg: mean(r => r.price)`). One file each.
//!
//! In `group_by` every group is non-empty, so `mean` is `float` and `min/max/first/last`
//! are `T`. In `aggregate` the input may be empty: `count` and `sum` are then 0 and the
//! others null, so they are `T?` (`mean` is `float?`).

mod collect;
mod count;
mod first;
mod last;
mod max;
mod mean;
mod min;
mod sum;

use super::CallSite;
use crate::check::Checker;
use crate::check::hir::{Callee, TExpr, TExprKind};
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};
use std::rc::Rc;

pub struct Aggregate {
    pub name: &'static str,
    /// What the engines compute (they dispatch on it, never on the name).
    pub kind: crate::ir::AggKind,
    pub signature: &'static str,
    pub doc: &'static str,
    /// Types the call: `(argument lambdas, result type)`, or `None` after reporting.
    pub check: fn(&mut Checker, &AggSite) -> Option<AggTyped>,
}

/// A typed aggregate call: its argument lambdas and the result type.
pub type AggTyped = (Vec<TExpr>, Ty);

impl std::fmt::Debug for Aggregate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "aggregate {}", self.name)
    }
}

impl PartialEq for Aggregate {
    fn eq(&self, other: &Aggregate) -> bool {
        self.kind == other.kind
    }
}

pub struct AggSite<'e> {
    pub span: Span,
    pub name_span: Span,
    pub args: Vec<&'e Expr>,
    pub elem: Ty,
    /// Inside `group_by` (groups are never empty) rather than `aggregate`.
    pub in_group: bool,
}

pub static ALL: &[&Aggregate] = &[
    &collect::AGG,
    &count::AGG,
    &first::AGG,
    &last::AGG,
    &max::AGG,
    &mean::AGG,
    &min::AGG,
    &sum::AGG,
];

pub fn lookup(name: &str) -> Option<&'static Aggregate> {
    ALL.iter().copied().find(|a| a.name == name)
}

/// Checks every named argument of a `group_by` / `aggregate` call as an aggregate,
/// appending the output fields. `None` when something was reported.
pub fn check_all(
    cx: &mut Checker,
    site: &CallSite,
    elem: &Ty,
    in_group: bool,
    fields: &mut Vec<(Rc<str>, Ty)>,
) -> Option<Vec<(Rc<str>, TExpr)>> {
    let mut out = Vec::new();
    let mut ok = true;
    let what = if in_group { "group_by" } else { "aggregate" };
    if site.named.is_empty() && !in_group {
        cx.report(
            Diagnostic::new(
                codes::E0201,
                site.name_span,
                "`aggregate` needs at least one named aggregate",
            )
            .label("nothing to compute")
            .help("for example `aggregate(n: count(), total: sum(r => r.price))`"),
        );
        return None;
    }
    for (name, value) in &site.named {
        if fields.iter().any(|(f, _)| **f == *name.name) {
            cx.report(
                Diagnostic::new(
                    codes::E0108,
                    name.span,
                    format!("output field `{}` is given twice", name.name),
                )
                .label("repeated")
                .help(if name.name == "key" && in_group {
                    "`key` is the group's key; name the aggregate differently"
                } else {
                    "use a different name"
                }),
            );
            ok = false;
            continue;
        }
        let agg = match &value.kind {
            ExprKind::Call { callee, args } => match &callee.kind {
                ExprKind::Name(id) => lookup(&id.name).map(|a| (a, id.span, args)),
                _ => None,
            },
            _ => None,
        };
        let Some((agg, name_span, args)) = agg else {
            cx.report(
                Diagnostic::new(codes::E0216, value.span, format!("`{}: ...` in `{what}` must be an aggregate", name.name))
                    .label("not an aggregate")
                    .help("aggregates are count(), sum(f), mean(f), min(f), max(f), first(f), last(f) and collect(f)"),
            );
            ok = false;
            continue;
        };
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            let n = a.name.as_ref().expect("named");
            cx.report(
                Diagnostic::new(
                    codes::E0202,
                    n.span,
                    format!("`{}` takes no named arguments", agg.name),
                )
                .label("unexpected"),
            );
            ok = false;
            continue;
        }
        let asite = AggSite {
            span: value.span,
            name_span,
            args: args.iter().map(|a| &a.value).collect(),
            elem: elem.clone(),
            in_group,
        };
        match (agg.check)(cx, &asite) {
            Some((args, ty)) => {
                fields.push((Rc::from(name.name.as_str()), ty.clone()));
                let call = TExpr::new(
                    TExprKind::Call { callee: Callee::Aggregate(agg), args, named: Vec::new() },
                    ty,
                    value.span,
                );
                out.push((Rc::from(name.name.as_str()), call));
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// The common shape: one function argument over the element.
pub(crate) fn one_fn(cx: &mut Checker, site: &AggSite, name: &str) -> Option<TExpr> {
    if !cx.arity(site.name_span, &format!("`{name}`"), &site.args, &[], 1, 1) {
        return None;
    }
    let f = cx.func_arg(site.args[0], &site.elem, None);
    // Only the result matters here: with an unknown element type (an error earlier in the
    // chain) the aggregate still checks what its function returns.
    if Checker::func_ret(&f).has_error() { None } else { Some(f) }
}

/// `T` in `group_by`, `T?` in `aggregate`.
pub(crate) fn maybe_empty(site: &AggSite, t: Ty) -> Ty {
    if site.in_group { t } else { Ty::optional(t) }
}
