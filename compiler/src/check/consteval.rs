//! The checker's constant folding: just enough to know `vec[N]` sizes and `hash_embed`
//! dimensions at compile time (integer arithmetic over literals and `const`s). General
//! folding of constants happens in the optimizer.

use super::Checker;
use super::hir::{Global, TExpr, TExprKind};
use super::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{BinOp, UnOp};

impl Checker<'_> {
    pub(crate) fn eval_const_int(&self, e: &TExpr) -> Option<i64> {
        match &e.kind {
            TExprKind::Int(n) => Some(*n),
            TExprKind::Unary(UnOp::Neg, x) => self.eval_const_int(x)?.checked_neg(),
            TExprKind::Binary(op, a, b) => {
                let (a, b) = (self.eval_const_int(a)?, self.eval_const_int(b)?);
                match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::FloorDiv => kiln_runtime::arith::floor_div(a, b),
                    BinOp::Mod => kiln_runtime::arith::floor_mod(a, b),
                    _ => None,
                }
            }
            TExprKind::Global(Global::Const(i)) => {
                let c = self.program.consts.get(*i)?;
                if c.ty == Ty::Int {
                    self.eval_const_int(&c.value)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A constant must be a value, not a function.
    pub(super) fn const_must_be_value(&mut self, v: &TExpr) {
        if matches!(v.ty, Ty::Fn(..)) {
            self.report(
                Diagnostic::new(
                    codes::E0213,
                    v.span,
                    "a constant must be a value, not a function",
                )
                .label("a function")
                .help("declare it with `fn name(x: T) -> U = ...` instead"),
            );
        }
    }
}
