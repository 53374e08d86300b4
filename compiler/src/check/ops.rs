//! Typing of binary operators (LANGUAGE.md §1.4): arithmetic with int → float widening,
//! `/` always `float`, `+` on strings and lists, elementwise vector arithmetic, structural
//! comparison, `and`/`or`, and `??`.

use super::Checker;
use super::hir::{TExpr, TExprKind};
use super::types::{Ty, join};
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::BinOp;

pub(super) fn binary(cx: &mut Checker, op: BinOp, l: TExpr, r: TExpr, span: Span) -> TExpr {
    let mk = |l: TExpr, r: TExpr, ty: Ty| {
        TExpr::new(TExprKind::Binary(op, Box::new(l), Box::new(r)), ty, span)
    };
    let (lt, rt) = (l.ty.clone(), r.ty.clone());
    match op {
        BinOp::And | BinOp::Or => {
            for side in [&l, &r] {
                if side.ty != Ty::Bool {
                    cx.operand_error(
                        side.span,
                        &side.ty,
                        &format!("`{}` needs `bool` operands, found `{}`", op.as_str(), side.ty),
                    );
                    return TExpr::error(span);
                }
            }
            mk(l, r, Ty::Bool)
        }
        BinOp::Coalesce => {
            // `x ?? d` where a condition narrowed `x` (`x == null or x ?? d`): the
            // default is not needed, but the program is right; check it on `x` as declared.
            if let TExprKind::Unwrap(x) = l.kind {
                return binary(cx, op, *x, r, span);
            }
            let inner = lt.strip_optional().clone();
            if !lt.is_optional() {
                cx.report(
                    Diagnostic::new(
                        codes::E0220,
                        l.span,
                        format!("`??` needs an optional value on its left, found `{lt}`"),
                    )
                    .label("this is never null")
                    .help("remove `?? ...`: the default would never be used"),
                );
                return TExpr::error(span);
            }
            let Some(result) = join(&inner, &rt) else {
                cx.report(
                    Diagnostic::new(
                        codes::E0200,
                        r.span,
                        format!("the default must be `{inner}`, found `{rt}`"),
                    )
                    .label(format!("this is `{rt}`"))
                    .secondary(l.span, format!("this is `{lt}`")),
                );
                return TExpr::error(span);
            };
            let l = cx.coerce(l, &Ty::optional(result.clone()));
            let r = cx.coerce(r, &result);
            mk(l, r, result)
        }
        BinOp::Eq | BinOp::Ne => {
            let null_test = matches!(r.kind, TExprKind::Null) || matches!(l.kind, TExprKind::Null);
            if null_test {
                let other = if matches!(r.kind, TExprKind::Null) { &l } else { &r };
                if !other.ty.is_optional() {
                    cx.report(
                        Diagnostic::new(
                            codes::E0220,
                            other.span,
                            format!("`{}` is never null: its type is not optional", other.ty),
                        )
                        .label(format!("this is `{}`", other.ty))
                        .help("only a `T?` value can be compared with `null`"),
                    );
                    return TExpr::error(span);
                }
                return mk(l, r, Ty::Bool);
            }
            match join(&lt, &rt) {
                Some(j) if j.is_equatable() => {
                    let (l, r) = (cx.coerce(l, &j), cx.coerce(r, &j));
                    mk(l, r, Ty::Bool)
                }
                _ => {
                    cx.report(operands_error(
                        span,
                        format!("cannot compare `{lt}` with `{rt}`"),
                        "values of different types are never equal",
                        &l,
                        &r,
                    ));
                    TExpr::error(span)
                }
            }
        }
        // Optionals are ordered too: `null` before every value, as in `sort_by`.
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match join(&lt, &rt) {
            Some(j) if j.is_ordered() && !matches!(j, Ty::Null) => {
                let (l, r) = (cx.coerce(l, &j), cx.coerce(r, &j));
                mk(l, r, Ty::Bool)
            }
            _ => {
                cx.report(
                    operands_error(
                        span,
                        format!("cannot order `{lt}` and `{rt}` with `{}`", op.as_str()),
                        "not comparable",
                        &l,
                        &r,
                    )
                    .help("numbers, strings, bools, and lists or records of them can be ordered"),
                );
                TExpr::error(span)
            }
        },
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod => {
            arith(cx, op, l, r, span)
        }
    }
}

fn arith(cx: &mut Checker, op: BinOp, l: TExpr, r: TExpr, span: Span) -> TExpr {
    let (lt, rt) = (l.ty.clone(), r.ty.clone());
    let mk = |l: TExpr, r: TExpr, ty: Ty| {
        TExpr::new(TExprKind::Binary(op, Box::new(l), Box::new(r)), ty, span)
    };
    for side in [&l, &r] {
        if side.ty.is_optional() {
            cx.operand_error(
                side.span,
                &side.ty,
                &format!("`{}` cannot be applied to a value that may be null", op.as_str()),
            );
            return TExpr::error(span);
        }
    }
    let elementwise = matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div);
    match (&lt, &rt) {
        (Ty::Int, Ty::Int) if op == BinOp::Div => {
            let (l, r) = (cx.coerce(l, &Ty::Float), cx.coerce(r, &Ty::Float));
            mk(l, r, Ty::Float)
        }
        (Ty::Int, Ty::Int) => mk(l, r, Ty::Int),
        (a, b) if a.is_numeric() && b.is_numeric() => {
            let (l, r) = (cx.coerce(l, &Ty::Float), cx.coerce(r, &Ty::Float));
            mk(l, r, Ty::Float)
        }
        (Ty::Str, Ty::Str) if op == BinOp::Add => mk(l, r, Ty::Str),
        (Ty::List(_), Ty::List(_)) if op == BinOp::Add => match join(&lt, &rt) {
            Some(j) => {
                let (l, r) = (cx.coerce(l, &j), cx.coerce(r, &j));
                mk(l, r, j)
            }
            None => {
                cx.report(operands_error(
                    span,
                    format!("cannot concatenate `{lt}` and `{rt}`"),
                    "the element types differ",
                    &l,
                    &r,
                ));
                TExpr::error(span)
            }
        },
        (Ty::Vec(a), Ty::Vec(b)) if elementwise => {
            if a != b {
                cx.report(
                    Diagnostic::new(
                        codes::E0207,
                        span,
                        format!("vector sizes differ: `vec[{a}]` {} `vec[{b}]`", op.as_str()),
                    )
                    .label("elementwise operations need vectors of one size")
                    .secondary(l.span, format!("this is `vec[{a}]`"))
                    .secondary(r.span, format!("this is `vec[{b}]`")),
                );
                return TExpr::error(span);
            }
            mk(l, r, lt)
        }
        (Ty::Vec(_), s) if elementwise && s.is_numeric() => {
            let r = cx.coerce(r, &Ty::Float);
            mk(l, r, lt)
        }
        (s, Ty::Vec(_)) if elementwise && s.is_numeric() => {
            let l = cx.coerce(l, &Ty::Float);
            mk(l, r, rt)
        }
        _ => {
            let mut d = operands_error(
                span,
                format!("`{}` cannot be applied to `{lt}` and `{rt}`", op.as_str()),
                "unsupported operand types",
                &l,
                &r,
            );
            if op == BinOp::Add && (lt == Ty::Str || rt == Ty::Str) {
                d = d.help("convert the other side with `str(x)` to concatenate");
            }
            cx.report(d);
            TExpr::error(span)
        }
    }
}

/// E0206 for a binary operator whose operand types do not fit, labelling both operands.
fn operands_error(span: Span, message: String, label: &str, l: &TExpr, r: &TExpr) -> Diagnostic {
    Diagnostic::new(codes::E0206, span, message)
        .label(label)
        .secondary(l.span, format!("this is `{}`", l.ty))
        .secondary(r.span, format!("this is `{}`", r.ty))
}
