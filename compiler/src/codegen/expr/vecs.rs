//! `vec[N]` values: element-wise `+ - * /` with a vector or a scalar through the SIMD
//! kernels `kiln_vbin` / `kiln_vscalar` (one IEEE operation per element, so equal to the
//! interpreter's scalar loop), and `dot sum norm mean max min argmax softmax relu sigmoid
//! tanh abs hash_embed` through `runtime/src/vecfn.rs`, whose definitions the interpreter
//! uses too (exact f64 reductions; the SIMD reductions would round differently). `v[i]`,
//! `len(v)`, `to_list(v)` and `vec[N](xs)` are inline. A vector is a pointer to N f32s in
//! the chunk arena.

use super::{Gen, Vals};
use crate::builtins::BuiltinId as B;
use crate::check::hir::{TExpr, TExprKind};
use crate::check::types::Ty;
use crate::syntax::ast::BinOp;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{BlockArg, InstBuilder, MemFlagsData, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// A fresh vector of `n` f32s in the arena (its allocation is checked).
    pub(super) fn new_vec(&mut self, n: u32, e: &TExpr) -> Value {
        let p = self.alloc(4 * n as usize, 32);
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, p, 0);
        self.oom_unless(ok, e);
        p
    }

    fn status_ok(&mut self, st: Value, e: &TExpr) {
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.oom_unless(ok, e);
    }

    /// `kiln_vec_map(op, v)` into a new vector.
    fn vec_map(&mut self, op: i64, v: Value, n: u32, e: &TExpr) -> Vals {
        let out = self.new_vec(n, e);
        let op = self.b.ins().iconst(types::I32, op);
        let len = self.b.ins().iconst(types::I64, i64::from(n));
        let st = self.call("kiln_vec_map", &[op, v, len, out])[0];
        self.status_ok(st, e);
        vec![out]
    }

    /// `a op b` where at least one side is a vector of `n` and the other a vector or a
    /// float scalar.
    pub(super) fn vec_arith(&mut self, op: BinOp, a: &TExpr, bx: &TExpr, e: &TExpr) -> Vals {
        let Ty::Vec(n) = e.ty else { return self.unsupported(e) };
        let code = match op {
            BinOp::Add => 0,
            BinOp::Sub => 1,
            BinOp::Mul => 2,
            BinOp::Div => 3,
            _ => return self.unsupported(e),
        };
        let shapes = (&a.ty, &bx.ty);
        if !matches!(shapes, (Ty::Vec(_), Ty::Vec(_) | Ty::Float) | (Ty::Float, Ty::Vec(_))) {
            return self.unsupported(e);
        }
        let (x, y) = (self.expr(a)[0], self.expr(bx)[0]);
        let out = self.new_vec(n, e);
        let op = self.b.ins().iconst(types::I32, code);
        let len = self.b.ins().iconst(types::I64, i64::from(n));
        let st = match shapes {
            (Ty::Vec(_), Ty::Vec(_)) => self.call("kiln_vbin", &[op, x, y, out, len])[0],
            (Ty::Vec(_), _) => {
                let s = self.b.ins().fdemote(types::F32, y);
                let first = self.b.ins().iconst(types::I32, 0);
                self.call("kiln_vscalar", &[op, x, s, first, out, len])[0]
            }
            _ => {
                let s = self.b.ins().fdemote(types::F32, x);
                let first = self.b.ins().iconst(types::I32, 1);
                self.call("kiln_vscalar", &[op, y, s, first, out, len])[0]
            }
        };
        self.status_ok(st, e);
        vec![out]
    }

    /// `-v`.
    pub(super) fn vec_neg(&mut self, x: &TExpr, e: &TExpr) -> Vals {
        let Ty::Vec(n) = x.ty else { return self.unsupported(e) };
        let v = self.expr(x)[0];
        self.vec_map(5, v, n, e)
    }

    /// `v[i]`, out of range failing as the interpreter does.
    pub(super) fn vec_index(&mut self, xs: &TExpr, i: &TExpr, e: &TExpr) -> Vals {
        let Ty::Vec(n) = xs.ty else { return self.unsupported(e) };
        let v = self.expr(xs)[0];
        let k = self.expr(i)[0];
        let ok = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, k, i64::from(n));
        let len = self.b.ins().iconst(types::I64, i64::from(n));
        let vector = self.b.ins().iconst(types::I64, 1);
        self.fail_unless(ok, e, FailKind::Index, &[k, len, vector]);
        let off = self.b.ins().imul_imm_s(k, 4);
        let addr = self.b.ins().iadd(v, off);
        let x = self.b.ins().load(types::F32, flags(), addr, 0);
        vec![self.b.ins().fpromote(types::F64, x)]
    }

    /// `vec[n](xs)` of a list of floats or ints: a length other than `n` fails.
    pub(super) fn vec_from_list(&mut self, n: u32, a: &[TExpr], e: &TExpr) -> Vals {
        let [xs] = a else { return self.unsupported(e) };
        let Ty::List(elem) = &xs.ty else { return self.unsupported(e) };
        let elem = (**elem).clone();
        if !matches!(elem, Ty::Float | Ty::Int) {
            return self.unsupported(e);
        }
        let l = self.expr(xs);
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, l[1], i64::from(n));
        let want = self.b.ins().iconst(types::I64, i64::from(n));
        self.fail_unless(ok, e, FailKind::VecLen, &[want, l[1]]);
        let out = self.new_vec(n, e);
        let from = self.b.ins().iconst(types::I64, 0);
        self.each(&l, &elem, from, Vec::new(), |g, x, i, _| {
            let f = if elem == Ty::Int { g.b.ins().fcvt_from_sint(types::F64, x[0]) } else { x[0] };
            let f = g.b.ins().fdemote(types::F32, f);
            let off = g.b.ins().imul_imm_s(i, 4);
            let addr = g.b.ins().iadd(out, off);
            g.b.ins().store(flags(), f, addr, 0);
            Vec::new()
        });
        vec![out]
    }

    /// `body(i)` for `i` in `0..n`.
    fn counted(&mut self, n: Value, mut body: impl FnMut(&mut Self, Value)) {
        let head = self.block_with(&[types::I64]);
        let inner = self.b.create_block();
        let exit = self.b.create_block();
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(head, &[BlockArg::Value(zero)]);
        self.switch(head);
        let i = self.b.block_params(head)[0];
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, n);
        self.b.ins().brif(more, inner, &[], exit, &[]);
        self.switch(inner);
        body(self, i);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(head, &[BlockArg::Value(next)]);
        self.switch(exit);
    }

    pub(super) fn vec_builtin(&mut self, id: B, a: &[TExpr], e: &TExpr) -> Option<Vals> {
        let tys: Vec<&Ty> = a.iter().map(|x| &x.ty).collect();
        Some(match (id, tys.as_slice()) {
            (B::HashEmbed, [Ty::Str, Ty::Int]) => {
                let Ty::Vec(n) = e.ty else { return None };
                // The size is the type's (a literal the checker read).
                if !matches!(a[1].kind, TExprKind::Int(k) if k == i64::from(n)) {
                    return None;
                }
                let s = self.expr(&a[0]);
                let out = self.new_vec(n, e);
                let len = self.b.ins().iconst(types::I64, i64::from(n));
                let st = self.call("kiln_hash_embed", &[s[0], s[1], len, out])[0];
                self.status_ok(st, e);
                vec![out]
            }
            (_, [Ty::Vec(n), ..]) => {
                let n = *n;
                let len = |g: &mut Self| g.b.ins().iconst(types::I64, i64::from(n));
                match (id, a) {
                    // The argument is evaluated for its failures (`vec[2](xs)` with a list
                    // of another length fails the record); its value is not needed.
                    (B::Len, [x]) => {
                        self.expr(x);
                        vec![len(self)]
                    }
                    (B::Dot, [x, y]) if y.ty == Ty::Vec(n) => {
                        let (p, q) = (self.expr(x)[0], self.expr(y)[0]);
                        let k = len(self);
                        vec![self.call("kiln_vec_dot", &[p, q, k])[0]]
                    }
                    (B::Sum | B::Norm | B::Max | B::Min | B::Mean, [x]) => {
                        let op = match id {
                            B::Sum => 0,
                            B::Norm => 1,
                            B::Max => 2,
                            B::Min => 3,
                            _ => 4,
                        };
                        let v = self.expr(x)[0];
                        let op = self.b.ins().iconst(types::I32, op);
                        let k = len(self);
                        vec![self.call("kiln_vec_reduce", &[op, v, k])[0]]
                    }
                    (B::Argmax, [x]) => {
                        let v = self.expr(x)[0];
                        let k = len(self);
                        vec![self.call("kiln_vec_argmax", &[v, k])[0]]
                    }
                    (B::Softmax | B::Relu | B::Sigmoid | B::Tanh | B::Abs, [x]) => {
                        let op = match id {
                            B::Softmax => 0,
                            B::Relu => 1,
                            B::Sigmoid => 2,
                            B::Tanh => 3,
                            _ => 4,
                        };
                        let v = self.expr(x)[0];
                        self.vec_map(op, v, n, e)
                    }
                    (B::ToList, [x]) => {
                        let v = self.expr(x)[0];
                        let out = self.alloc(8 * n as usize, 8);
                        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, out, 0);
                        self.oom_unless(ok, e);
                        let k = len(self);
                        self.counted(k, |g, i| {
                            let at = g.b.ins().imul_imm_s(i, 4);
                            let src = g.b.ins().iadd(v, at);
                            let f = g.b.ins().load(types::F32, flags(), src, 0);
                            let d = g.b.ins().fpromote(types::F64, f);
                            let at = g.b.ins().imul_imm_s(i, 8);
                            let dst = g.b.ins().iadd(out, at);
                            g.b.ins().store(flags(), d, dst, 0);
                        });
                        vec![out, k]
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// `agent(x)` for one row (a call the `batch` pass leaves per row, `passes/batch.rs`): the
    /// agent's forward pass through `kiln_agent_call`, as the batched path computes it.
    pub(super) fn call_agent(&mut self, i: usize, a: &[TExpr], e: &TExpr) -> Vals {
        let ([x], Ty::Vec(k), Ty::Vec(m)) =
            (a, &a.first().map_or(Ty::Error, |x| x.ty.clone()), &e.ty)
        else {
            return self.unsupported(e);
        };
        let (k, m) = (*k, *m);
        let Some(slot) = self.sh.agent_slot(i) else { return self.unsupported(e) };
        let v = self.expr(x)[0];
        let out = self.new_vec(m, e);
        let f = self.kept_ptr(slot);
        let kk = self.b.ins().iconst(types::I64, i64::from(k));
        let mm = self.b.ins().iconst(types::I64, i64::from(m));
        let st = self.call("kiln_agent_call", &[f, v, kk, out, mm])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.oom_unless(ok, e);
        vec![out]
    }
}
