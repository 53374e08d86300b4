//! Builtin calls (LANGUAGE.md §1.7) compiled natively: this file dispatches and holds the
//! math and conversion builtins; text is in [`super::text`], lists in [`super::lists`],
//! vectors in [`super::vecs`]. What matches no arm here is refused (`Gen::unsupported`).
//!
//! Float functions with a libm flavour (`round exp log pow floor ceil tanh sigmoid` and
//! float `min` / `max` / `clamp`) call the runtime's `kiln_math1` / `kiln_math2`, which
//! use the same `std` functions as the interpreter, so results are bit-identical.

use super::{Gen, Vals};
use crate::builtins::BuiltinId as B;
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;

/// `kiln_math1` operations.
const ROUND: i64 = 0;
const EXP: i64 = 1;
const LOG: i64 = 2;
const TANH: i64 = 3;
const SIGMOID: i64 = 4;
const FLOOR: i64 = 5;
const CEIL: i64 = 6;
/// `kiln_math2` operations.
const POW: i64 = 0;
const FMIN: i64 = 1;
const FMAX: i64 = 2;

impl<M: Module> Gen<'_, '_, '_, M> {
    pub(super) fn math1(&mut self, op: i64, x: Value) -> Value {
        let op = self.b.ins().iconst(types::I32, op);
        self.call("kiln_math1", &[op, x])[0]
    }

    pub(super) fn math2(&mut self, op: i64, x: Value, y: Value) -> Value {
        let op = self.b.ins().iconst(types::I32, op);
        self.call("kiln_math2", &[op, x, y])[0]
    }

    pub(super) fn builtin(&mut self, id: B, a: &[TExpr], e: &TExpr) -> Vals {
        if let Some(v) = self.text_builtin(id, a, e) {
            return v;
        }
        if let Some(v) = self.list_builtin(id, a, e) {
            return v;
        }
        if let Some(v) = self.vec_builtin(id, a, e) {
            return v;
        }
        if let Some(v) = self.list_any(id, a, &[], e) {
            return v;
        }
        let tys: Vec<&Ty> = a.iter().map(|x| &x.ty).collect();
        match (id, tys.as_slice()) {
            (B::Abs, [Ty::Float]) => {
                let v = self.expr(&a[0])[0];
                vec![self.b.ins().fabs(v)]
            }
            (B::Abs, [Ty::Int]) => {
                let v = self.expr(&a[0])[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, i64::MIN);
                self.fail_unless(ok, e, FailKind::Abs, &[v]);
                vec![self.b.ins().iabs(v)]
            }
            (B::Sqrt, [Ty::Float]) => {
                let v = self.expr(&a[0])[0];
                vec![self.b.ins().sqrt(v)]
            }
            (
                B::Floor | B::Ceil | B::Round | B::Exp | B::Log | B::Tanh | B::Sigmoid,
                [Ty::Float],
            ) => {
                let op = match id {
                    B::Floor => FLOOR,
                    B::Ceil => CEIL,
                    B::Round => ROUND,
                    B::Exp => EXP,
                    B::Log => LOG,
                    B::Tanh => TANH,
                    _ => SIGMOID,
                };
                let v = self.expr(&a[0])[0];
                vec![self.math1(op, v)]
            }
            (B::Relu, [Ty::Float]) => {
                // `x` when x > 0 or NaN, else 0.0.
                let v = self.expr(&a[0])[0];
                let z = self.b.ins().f64const(0.0);
                let keep = self.b.ins().fcmp(FloatCC::UnorderedOrGreaterThan, v, z);
                vec![self.b.ins().select(keep, v, z)]
            }
            (B::Pow, [Ty::Float, Ty::Float]) => {
                let (x, y) = (self.expr(&a[0])[0], self.expr(&a[1])[0]);
                vec![self.math2(POW, x, y)]
            }
            (B::Min | B::Max, [Ty::Int, Ty::Int]) => {
                let (x, y) = (self.expr(&a[0])[0], self.expr(&a[1])[0]);
                let cc =
                    if id == B::Min { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                let first = self.b.ins().icmp(cc, x, y);
                vec![self.b.ins().select(first, x, y)]
            }
            (B::Min | B::Max, [Ty::Float, Ty::Float]) => {
                let (x, y) = (self.expr(&a[0])[0], self.expr(&a[1])[0]);
                vec![self.math2(if id == B::Min { FMIN } else { FMAX }, x, y)]
            }
            (B::Clamp, [Ty::Int, Ty::Int, Ty::Int]) => {
                // `x.min(hi).max(lo)`, as the interpreter.
                let x = self.expr(&a[0])[0];
                let lo = self.expr(&a[1])[0];
                let hi = self.expr(&a[2])[0];
                let below = self.b.ins().icmp(IntCC::SignedLessThan, x, hi);
                let t = self.b.ins().select(below, x, hi);
                let above = self.b.ins().icmp(IntCC::SignedGreaterThan, t, lo);
                vec![self.b.ins().select(above, t, lo)]
            }
            (B::Clamp, [Ty::Float, Ty::Float, Ty::Float]) => {
                let x = self.expr(&a[0])[0];
                let lo = self.expr(&a[1])[0];
                let hi = self.expr(&a[2])[0];
                let t = self.math2(FMIN, x, hi);
                vec![self.math2(FMAX, t, lo)]
            }
            (B::Int, [Ty::Int]) | (B::Float, [Ty::Float]) => self.expr(&a[0]),
            (B::Int, [Ty::Bool]) => {
                let v = self.expr(&a[0])[0];
                vec![self.b.ins().uextend(types::I64, v)]
            }
            (B::Int, [Ty::Float]) => {
                // Truncation toward zero; NaN and values whose integer part is outside
                // the int range fail (x in [-2^63, 2^63) exactly when trunc(x) is).
                let v = self.expr(&a[0])[0];
                let lo = self.b.ins().f64const(-9_223_372_036_854_775_808.0);
                let hi = self.b.ins().f64const(9_223_372_036_854_775_808.0);
                let ge = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, v, lo);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, v, hi);
                let ok = self.b.ins().band(ge, lt);
                self.fail_unless(ok, e, FailKind::IntOfFloat, &[v]);
                vec![self.b.ins().fcvt_to_sint_sat(types::I64, v)]
            }
            (B::Float, [Ty::Int]) => {
                let v = self.expr(&a[0])[0];
                vec![self.b.ins().fcvt_from_sint(types::F64, v)]
            }
            (B::Float, [Ty::Bool]) => {
                let v = self.expr(&a[0])[0];
                let one = self.b.ins().f64const(1.0);
                let zero = self.b.ins().f64const(0.0);
                vec![self.b.ins().select(v, one, zero)]
            }
            _ => self.unsupported(e),
        }
    }
}
