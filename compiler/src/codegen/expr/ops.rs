//! Operators: unary, binary (int with overflow and division checks, float, str, bool),
//! `and` / `or` short-circuits and `??`.

use super::super::layout::{load, shape};
use super::{Gen, Vals, args};
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::syntax::ast::{BinOp, UnOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, InstBuilder, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::{BinSym, FailKind};

impl<M: Module> Gen<'_, '_, '_, M> {
    pub(super) fn unary(&mut self, op: UnOp, x: &TExpr, e: &TExpr) -> Vals {
        match (op, &x.ty) {
            (UnOp::Not, Ty::Bool) => {
                let v = self.expr(x)[0];
                vec![self.b.ins().bxor_imm_s(v, 1)]
            }
            (UnOp::Neg, Ty::Float) => {
                let v = self.expr(x)[0];
                vec![self.b.ins().fneg(v)]
            }
            (UnOp::Neg, Ty::Vec(_)) => self.vec_neg(x, e),
            (UnOp::Neg, Ty::Int) => {
                let v = self.expr(x)[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, i64::MIN);
                self.fail_unless(ok, e, FailKind::Neg, &[v]);
                vec![self.b.ins().ineg(v)]
            }
            _ => self.unsupported(e),
        }
    }

    pub(super) fn binary(&mut self, op: BinOp, a: &TExpr, bx: &TExpr, e: &TExpr) -> Vals {
        match op {
            BinOp::And | BinOp::Or => return self.logic(op, a, bx),
            BinOp::Coalesce => return self.coalesce(a, bx, &e.ty),
            _ => {}
        }
        // Comparisons with the `null` literal test the tag.
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            let (opt, null) = match (&a.ty, &bx.ty) {
                (Ty::Optional(_), Ty::Null) => (Some(a), true),
                (Ty::Null, Ty::Optional(_)) => (Some(bx), true),
                _ => (None, false),
            };
            if let (Some(x), true) = (opt, null) {
                let tag = self.expr(x)[0];
                let cc = if op == BinOp::Eq { IntCC::Equal } else { IntCC::NotEqual };
                let r = self.b.ins().icmp_imm_s(cc, tag, 0);
                return vec![r];
            }
        }
        match (&a.ty, &bx.ty) {
            (Ty::Int, Ty::Int) => self.int_op(op, a, bx, e),
            (Ty::Float, Ty::Float) => self.float_op(op, a, bx),
            (Ty::Bool, Ty::Bool)
                if matches!(
                    op,
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                ) =>
            {
                let (x, y) = (self.expr(a)[0], self.expr(bx)[0]);
                let cc = int_cc(op, false);
                vec![self.b.ins().icmp(cc, x, y)]
            }
            (Ty::Str, Ty::Str) => self.str_op(op, a, bx, e),
            (Ty::Vec(_), Ty::Vec(_)) if op.is_comparison() => {
                self.generic_compare(op, a, bx).unwrap_or_else(|| self.unsupported(e))
            }
            (Ty::Vec(_), _) | (_, Ty::Vec(_)) => self.vec_arith(op, a, bx, e),
            (Ty::List(_), Ty::List(_)) if op == BinOp::Add && a.ty == bx.ty && a.ty == e.ty => {
                self.list_concat(a, bx, e)
            }
            _ => self.generic_compare(op, a, bx).unwrap_or_else(|| self.unsupported(e)),
        }
    }

    fn logic(&mut self, op: BinOp, a: &TExpr, bx: &TExpr) -> Vals {
        let x = self.expr(a)[0];
        let rhs = self.b.create_block();
        let done = self.block_with(&[types::I8]);
        let short = self.b.ins().iconst(types::I8, i64::from(op == BinOp::Or));
        if op == BinOp::And {
            self.b.ins().brif(x, rhs, &[], done, &[BlockArg::Value(short)]);
        } else {
            self.b.ins().brif(x, done, &[BlockArg::Value(short)], rhs, &[]);
        }
        self.switch(rhs);
        let y = self.expr(bx)[0];
        self.b.ins().jump(done, &[BlockArg::Value(y)]);
        self.switch(done);
        vec![self.b.block_params(done)[0]]
    }

    fn coalesce(&mut self, a: &TExpr, bx: &TExpr, ty: &Ty) -> Vals {
        let x = self.expr(a);
        let out_shape = shape(ty, self.ptr);
        let done = self.block_with(&out_shape);
        let rhs = self.b.create_block();
        let have = self.b.create_block();
        self.b.ins().brif(x[0], have, &[], rhs, &[]);
        self.switch(have);
        let v = if matches!(ty, Ty::Optional(_)) { x.clone() } else { x[1..].to_vec() };
        self.b.ins().jump(done, &args(&v));
        self.switch(rhs);
        let y = self.expr(bx);
        let y = self.coerce(y, &bx.ty, ty);
        let y = if matches!(ty, Ty::Optional(_)) && !matches!(bx.ty, Ty::Optional(_) | Ty::Null) {
            self.wrap_if_optional(y, ty)
        } else {
            y
        };
        self.b.ins().jump(done, &args(&y));
        self.switch(done);
        self.b.block_params(done).to_vec()
    }

    fn int_op(&mut self, op: BinOp, a: &TExpr, bx: &TExpr, e: &TExpr) -> Vals {
        let (x, y) = (self.expr(a)[0], self.expr(bx)[0]);
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let (r, of) = match op {
                    BinOp::Add => self.b.ins().sadd_overflow(x, y),
                    BinOp::Sub => self.b.ins().ssub_overflow(x, y),
                    _ => self.b.ins().smul_overflow(x, y),
                };
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, of, 0);
                let sym = match op {
                    BinOp::Add => BinSym::Add,
                    BinOp::Sub => BinSym::Sub,
                    _ => BinSym::Mul,
                };
                let sym = self.b.ins().iconst(types::I64, sym as i64);
                self.fail_unless(ok, e, FailKind::IntBinary, &[x, y, sym]);
                vec![r]
            }
            BinOp::Div => {
                let fx = self.b.ins().fcvt_from_sint(types::F64, x);
                let fy = self.b.ins().fcvt_from_sint(types::F64, y);
                vec![self.b.ins().fdiv(fx, fy)]
            }
            BinOp::FloorDiv | BinOp::Mod => {
                // Fails on a zero divisor and on i64::MIN // -1.
                let sym = if op == BinOp::Mod { BinSym::Mod } else { BinSym::FloorDiv };
                let sym = self.b.ins().iconst(types::I64, sym as i64);
                let nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, y, 0);
                self.fail_unless(nz, e, FailKind::DivZero, &[x, y, sym]);
                let not_min = self.b.ins().icmp_imm_s(IntCC::NotEqual, x, i64::MIN);
                let not_m1 = self.b.ins().icmp_imm_s(IntCC::NotEqual, y, -1);
                let safe = self.b.ins().bor(not_min, not_m1);
                self.fail_unless(safe, e, FailKind::IntBinary, &[x, y, sym]);
                let q = self.b.ins().sdiv(x, y);
                let r = self.b.ins().srem(x, y);
                // Adjust toward negative infinity when the remainder and divisor differ in sign.
                let rnz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let sx = self.b.ins().bxor(r, y);
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, sx, 0);
                let adj = self.b.ins().band(rnz, neg);
                if op == BinOp::FloorDiv {
                    let q1 = self.b.ins().iadd_imm_s(q, -1);
                    vec![self.b.ins().select(adj, q1, q)]
                } else {
                    let r1 = self.b.ins().iadd(r, y);
                    vec![self.b.ins().select(adj, r1, r)]
                }
            }
            _ => vec![self.b.ins().icmp(int_cc(op, true), x, y)],
        }
    }

    fn float_op(&mut self, op: BinOp, a: &TExpr, bx: &TExpr) -> Vals {
        let (x, y) = (self.expr(a)[0], self.expr(bx)[0]);
        if matches!(op, BinOp::FloorDiv | BinOp::Mod) {
            // `kiln_math2` operations 3 and 4: the runtime's `arith` functions.
            let code = if op == BinOp::FloorDiv { 3 } else { 4 };
            return vec![self.math2(code, x, y)];
        }
        vec![match op {
            BinOp::Add => self.b.ins().fadd(x, y),
            BinOp::Sub => self.b.ins().fsub(x, y),
            BinOp::Mul => self.b.ins().fmul(x, y),
            BinOp::Div => self.b.ins().fdiv(x, y),
            _ => {
                let cc = match op {
                    BinOp::Eq => FloatCC::Equal,
                    BinOp::Ne => FloatCC::NotEqual,
                    BinOp::Lt => FloatCC::LessThan,
                    BinOp::Le => FloatCC::LessThanOrEqual,
                    BinOp::Gt => FloatCC::GreaterThan,
                    _ => FloatCC::GreaterThanOrEqual,
                };
                self.b.ins().fcmp(cc, x, y)
            }
        }]
    }

    fn str_op(&mut self, op: BinOp, a: &TExpr, bx: &TExpr, e: &TExpr) -> Vals {
        let (x, y) = (self.expr(a), self.expr(bx));
        if op == BinOp::Add {
            let out = self.slot(16);
            let arena = self.arena();
            self.call("kiln_str_concat", &[arena, x[0], x[1], y[0], y[1], out]);
            return load(&mut self.b, &Ty::Str, self.ptr, out, 0);
        }
        if !matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
            return self.unsupported(e);
        }
        let c = self.call("kiln_str_cmp", &[x[0], x[1], y[0], y[1]])[0];
        vec![self.b.ins().icmp_imm_s(int_cc(op, true), c, 0)]
    }
}

pub(super) fn int_cc(op: BinOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinOp::Eq, _) => IntCC::Equal,
        (BinOp::Ne, _) => IntCC::NotEqual,
        (BinOp::Lt, true) => IntCC::SignedLessThan,
        (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (BinOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
        _ => IntCC::UnsignedGreaterThanOrEqual,
    }
}
