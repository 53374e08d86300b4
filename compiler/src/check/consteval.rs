//! The checker's constant folding: just enough to know `vec[N]` sizes and `hash_embed`
//! dimensions at compile time (integer arithmetic over literals and `const`s). General
//! folding of constants happens in the optimizer.

use super::Checker;
use super::hir::{Global, TExpr, TExprKind};
use super::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{BinOp, UnOp};

/// The outcome of folding an integer expression.
pub enum Folded {
    Value(i64),
    /// Not foldable here (uses something only known later, or not an int expression).
    Unknown,
    /// Folding failed: the message says why (overflow, division by zero).
    Failed(&'static str),
}

impl Checker<'_> {
    /// Folds integer arithmetic over literals and `const`s.
    pub(crate) fn fold_int(&self, e: &TExpr) -> Folded {
        use Folded::*;
        match &e.kind {
            TExprKind::Int(n) => Value(*n),
            TExprKind::Unary(UnOp::Neg, x) => match self.fold_int(x) {
                Value(n) => n.checked_neg().map_or(Failed("integer overflow"), Value),
                other => other,
            },
            TExprKind::Binary(op, a, b) if e.ty == Ty::Int => {
                let (a, b) = match (self.fold_int(a), self.fold_int(b)) {
                    (Value(a), Value(b)) => (a, b),
                    (Failed(m), _) | (_, Failed(m)) => return Failed(m),
                    _ => return Unknown,
                };
                let r = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::FloorDiv | BinOp::Mod if b == 0 => {
                        return Failed("integer division by zero");
                    }
                    BinOp::FloorDiv => kiln_runtime::arith::floor_div(a, b),
                    BinOp::Mod => kiln_runtime::arith::floor_mod(a, b),
                    _ => return Unknown,
                };
                r.map_or(Failed("integer overflow"), Value)
            }
            TExprKind::Global(Global::Const(i)) => match self.program.consts.get(*i) {
                Some(c) if c.ty == Ty::Int => self.fold_int(&c.value),
                _ => Unknown,
            },
            _ => Unknown,
        }
    }

    pub(crate) fn eval_const_int(&self, e: &TExpr) -> Option<i64> {
        match self.fold_int(e) {
            Folded::Value(n) => Some(n),
            _ => None,
        }
    }

    /// Reports a constant whose integer arithmetic fails at compile time.
    pub(super) fn const_must_fold(&mut self, v: &TExpr) {
        if let Folded::Failed(why) = self.fold_int(v) {
            // Report only where it fails, not in every constant that uses it.
            if !uses_failed_const(self, v) {
                self.report(
                    Diagnostic::new(
                        codes::E0221,
                        v.span,
                        format!("this constant cannot be computed: {why}"),
                    )
                    .label(why)
                    .help("constants are computed when the pipeline compiles; fix the arithmetic"),
                );
            }
        }
    }

    /// A constant must be a value, not a function.
    pub(super) fn const_must_be_value(&mut self, v: &TExpr) {
        if matches!(v.ty, Ty::Fn(..)) {
            self.report(
                Diagnostic::new(codes::E0213, v.span, "a constant must be a value, not a function")
                    .label("a function")
                    .help("declare it with `fn name(x: T) -> U = ...` instead"),
            );
        }
    }
}

/// Does `e` read a constant whose own folding fails (already reported there)?
fn uses_failed_const(cx: &Checker, e: &TExpr) -> bool {
    let mut found = false;
    super::hir::visit(e, &mut |x| {
        if let TExprKind::Global(Global::Const(i)) = x.kind
            && let Some(c) = cx.program.consts.get(i)
        {
            found |= matches!(cx.fold_int(&c.value), Folded::Failed(_));
        }
    });
    found
}
