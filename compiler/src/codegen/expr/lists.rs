//! List builtins as inline loops (`sum mean min max contains` of ints, floats, strings
//! and bools) or runtime kernels (`sort`, `reverse`: `runtime/src/listfn.rs`), and the
//! list operators with a lambda, `map` and `filter`, compiled as loops in the enclosing
//! function with the lambda's body inline.
//!
//! Orders and equality are the interpreter's (`interp::value::{compare, equal}`): floats
//! order NaN after every number in `min`/`max`, compare IEEE in `contains`; float sums
//! add from the first element to the last starting at `-0.0` (Rust's `Iterator::sum`).

use super::super::layout::{desc, load, store};
use super::{Gen, Vals};
use crate::builtins::BuiltinId as B;
use crate::check::hir::{LocalId, TExpr, TExprKind};
use crate::check::types::Ty;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;

fn block_args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// A loop over elements `from..len` of the list `(ptr, len)` with elements of type
    /// `elem`: `body(gen, element, index, state)` returns the next state. Returns the final
    /// state.
    pub(super) fn each(
        &mut self,
        list: &[Value],
        elem: &Ty,
        from: Value,
        state: Vals,
        mut body: impl FnMut(&mut Self, Vals, Value, Vals) -> Vals,
    ) -> Vals {
        let stride = desc(elem).map(|d| d.stride()).unwrap_or(0) as i64;
        let st_types: Vec<Type> = state.iter().map(|v| self.b.func.dfg.value_type(*v)).collect();
        let mut head_types = vec![types::I64];
        head_types.extend(&st_types);
        let head = self.block_with(&head_types);
        let inner = self.b.create_block();
        let exit = self.block_with(&st_types);
        let mut start = vec![from];
        start.extend(&state);
        self.b.ins().jump(head, &block_args(&start));
        self.switch(head);
        let ps = self.b.block_params(head).to_vec();
        let (i, st) = (ps[0], ps[1..].to_vec());
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, list[1]);
        self.b.ins().brif(more, inner, &[], exit, &block_args(&st));
        self.switch(inner);
        let off = self.b.ins().imul_imm_s(i, stride);
        let addr = self.b.ins().iadd(list[0], off);
        let x = load(&mut self.b, elem, self.ptr, addr, 0);
        let next_st = body(self, x, i, st);
        let next = self.b.ins().iadd_imm_s(i, 1);
        let mut back = vec![next];
        back.extend(next_st);
        self.b.ins().jump(head, &block_args(&back));
        self.switch(exit);
        self.b.block_params(exit).to_vec()
    }

    /// `x` before `best` in the order of `min` (`want_less`) or `max`.
    fn before(&mut self, t: &Ty, x: &[Value], best: &[Value], want_less: bool) -> Value {
        match t {
            Ty::Int => {
                let cc = if want_less { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                self.b.ins().icmp(cc, x[0], best[0])
            }
            Ty::Float => {
                // NaN is after every number.
                let (xn, bn) = (
                    self.b.ins().fcmp(FloatCC::Unordered, x[0], x[0]),
                    self.b.ins().fcmp(FloatCC::Unordered, best[0], best[0]),
                );
                let cc = if want_less { FloatCC::LessThan } else { FloatCC::GreaterThan };
                let ordered = self.b.ins().fcmp(cc, x[0], best[0]);
                let nan_case = if want_less {
                    self.b.ins().band_not(bn, xn)
                } else {
                    self.b.ins().band_not(xn, bn)
                };
                self.b.ins().bor(ordered, nan_case)
            }
            Ty::Bool => {
                let cc =
                    if want_less { IntCC::UnsignedLessThan } else { IntCC::UnsignedGreaterThan };
                self.b.ins().icmp(cc, x[0], best[0])
            }
            _ => {
                let c = self.call("kiln_str_cmp", &[x[0], x[1], best[0], best[1]])[0];
                let cc = if want_less { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                self.b.ins().icmp_imm_s(cc, c, 0)
            }
        }
    }

    pub(super) fn list_builtin(&mut self, id: B, a: &[TExpr], e: &TExpr) -> Option<Vals> {
        let Some(Ty::List(elem)) = a.first().map(|x| &x.ty) else { return None };
        let elem = (**elem).clone();
        let simple = matches!(elem, Ty::Int | Ty::Float | Ty::Bool | Ty::Str);
        Some(match (id, a) {
            (B::Len, [xs]) => vec![self.expr(xs)[1]],
            // Exact sums (LANGUAGE.md §1.5), by the runtime's kernels.
            (B::Sum, [xs]) if elem == Ty::Int => {
                let l = self.expr(xs);
                let out = self.alloc(8, 8);
                let r = self.call("kiln_list_isum", &[l[0], l[1], out])[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                self.fail_unless(ok, e, FailKind::ListSum, &[l[0], l[1]]);
                vec![self.b.ins().load(types::I64, MemFlagsData::trusted(), out, 0)]
            }
            (B::Sum | B::Mean, [xs]) if matches!(elem, Ty::Int | Ty::Float) => {
                let l = self.expr(xs);
                if id == B::Mean {
                    let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, l[1], 0);
                    let mean = self.b.ins().iconst(types::I64, 2);
                    self.fail_unless(ok, e, FailKind::EmptyList, &[l[0], l[1], mean]);
                }
                let f = match (id, &elem) {
                    (B::Mean, Ty::Int) => "kiln_list_imean",
                    (B::Mean, _) => "kiln_list_fmean",
                    _ => "kiln_list_fsum",
                };
                vec![self.call(f, &[l[0], l[1]])[0]]
            }
            (B::Min | B::Max, [xs]) if simple => {
                let l = self.expr(xs);
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, l[1], 0);
                let which = self.b.ins().iconst(types::I64, i64::from(id == B::Max));
                self.fail_unless(ok, e, FailKind::EmptyList, &[l[0], l[1], which]);
                let first = load(&mut self.b, &elem, self.ptr, l[0], 0);
                let from = self.b.ins().iconst(types::I64, 1);
                let less = id == B::Min;
                self.each(&l, &elem, from, first, |g, x, _, best| {
                    let take = g.before(&elem, &x, &best, less);
                    x.iter().zip(&best).map(|(&p, &q)| g.b.ins().select(take, p, q)).collect()
                })
            }
            (B::Contains, [xs, x]) if simple && x.ty == elem => {
                let l = self.expr(xs);
                let v = self.expr(x);
                let no = self.b.ins().iconst(types::I8, 0);
                let from = self.b.ins().iconst(types::I64, 0);
                self.each(&l, &elem, from, vec![no], |g, y, _, st| {
                    let eq = match elem {
                        Ty::Float => g.b.ins().fcmp(FloatCC::Equal, y[0], v[0]),
                        Ty::Str => {
                            let c = g.call("kiln_str_cmp", &[y[0], y[1], v[0], v[1]])[0];
                            g.b.ins().icmp_imm_s(IntCC::Equal, c, 0)
                        }
                        _ => g.b.ins().icmp(IntCC::Equal, y[0], v[0]),
                    };
                    vec![g.b.ins().bor(st[0], eq)]
                })
            }
            (B::Sort, [xs]) if matches!(elem, Ty::Int | Ty::Float | Ty::Str) => {
                let l = self.expr(xs);
                let kind = match elem {
                    Ty::Int => kiln_runtime::listfn::SORT_INT,
                    Ty::Float => kiln_runtime::listfn::SORT_FLOAT,
                    _ => kiln_runtime::listfn::SORT_STR,
                };
                let arena = self.arena();
                let k = self.b.ins().iconst(types::I32, i64::from(kind));
                self.list_kernel("kiln_list_sort", &[arena, l[0], l[1], k], &e.ty, e)
            }
            (B::Reverse, [xs]) => {
                let stride = desc(&elem)?.stride();
                let l = self.expr(xs);
                let arena = self.arena();
                let s = self.b.ins().iconst(types::I64, stride as i64);
                self.list_kernel("kiln_list_reverse", &[arena, l[0], l[1], s], &e.ty, e)
            }
            (B::Take | B::Skip, [xs, k]) if k.ty == Ty::Int => {
                // Slices of the (immutable) list: no copy.
                let stride = desc(&elem)?.stride() as i64;
                let l = self.expr(xs);
                let k = self.expr(k)[0];
                let zero = self.b.ins().iconst(types::I64, 0);
                let pos = self.b.ins().icmp(IntCC::SignedGreaterThan, k, zero);
                let k = self.b.ins().select(pos, k, zero);
                let short = self.b.ins().icmp(IntCC::SignedLessThan, k, l[1]);
                let k = self.b.ins().select(short, k, l[1]);
                if id == B::Take {
                    vec![l[0], k]
                } else {
                    let off = self.b.ins().imul_imm_s(k, stride);
                    let p = self.b.ins().iadd(l[0], off);
                    vec![p, self.b.ins().isub(l[1], k)]
                }
            }
            (B::FlatMap, [xs, f]) => {
                let TExprKind::Lambda(param, body) = &f.kind else { return None };
                return self.flat_map_list(xs, *param, body, &elem, e);
            }
            (B::Map | B::Filter, [xs, f]) => {
                let TExprKind::Lambda(param, body) = &f.kind else { return None };
                return self.map_filter(id, xs, *param, body, &elem, e);
            }
            _ => return None,
        })
    }

    /// `xs + ys` on lists.
    pub(super) fn list_concat(&mut self, a: &TExpr, bx: &TExpr, e: &TExpr) -> Vals {
        let Ty::List(elem) = &e.ty else { return self.unsupported(e) };
        let Some(d) = desc(elem) else { return self.unsupported(e) };
        let (x, y) = (self.expr(a), self.expr(bx));
        let arena = self.arena();
        let s = self.b.ins().iconst(types::I64, d.stride() as i64);
        let argv = [arena, x[0], x[1], y[0], y[1], s];
        self.list_kernel("kiln_list_concat", &argv, &e.ty, e)
    }

    pub(super) fn list_kernel(&mut self, f: &'static str, a: &[Value], ty: &Ty, e: &TExpr) -> Vals {
        let out = self.slot(16);
        let mut argv = a.to_vec();
        argv.push(out);
        let st = self.call(f, &argv)[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.oom_unless(ok, e);
        load(&mut self.b, ty, self.ptr, out, 0)
    }

    /// `map(xs, x => body)` / `filter(xs, x => body)` on a list: one loop writing into a
    /// new arena array of `len(xs)` elements (`filter` keeps a prefix of it).
    /// (Also the checker's element-wise conversion of a list, `ConvertEach`, as a `map`.)
    pub(super) fn map_filter(
        &mut self,
        id: B,
        xs: &TExpr,
        param: LocalId,
        body: &TExpr,
        elem: &Ty,
        e: &TExpr,
    ) -> Option<Vals> {
        let Ty::List(out_elem) = &e.ty else { return None };
        let out_elem = (**out_elem).clone();
        let d = desc(&out_elem)?;
        desc(elem)?;
        let l = self.expr(xs);
        let bytes = self.b.ins().imul_imm_s(l[1], d.stride() as i64);
        let arena = self.arena();
        let align = self.b.ins().iconst(self.ptr, d.align().max(8) as i64);
        let p = self.call("kiln_arena_alloc", &[arena, bytes, align])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, p, 0);
        self.oom_unless(ok, e);
        let from = self.b.ins().iconst(types::I64, 0);
        let stride = d.stride() as i64;
        let cfg = self.sh.cfg();
        let count = self.each(&l, elem, from, vec![from], |g, x, _, st| {
            let old = g.locals.insert(param, (elem.clone(), x.clone()));
            let r = g.expr(body);
            match old {
                Some(o) => g.locals.insert(param, o),
                None => g.locals.remove(&param),
            };
            let off = g.b.ins().imul_imm_s(st[0], stride);
            let at = g.b.ins().iadd(p, off);
            if id == B::Map {
                let r = g.coerce(r, &body.ty, &out_elem);
                store(&mut g.b, cfg, &out_elem, &r, at, 0);
                vec![g.b.ins().iadd_imm_s(st[0], 1)]
            } else {
                // Stored unconditionally; only a kept element advances the count.
                store(&mut g.b, cfg, &out_elem, &x, at, 0);
                let keep = g.b.ins().uextend(types::I64, r[0]);
                vec![g.b.ins().iadd(st[0], keep)]
            }
        });
        Some(vec![p, count[0]])
    }

    /// `flat_map(xs, x => body)` on a list: the lambda runs once per element (its lists
    /// kept in a scratch array), then the pieces are copied into one new list.
    fn flat_map_list(
        &mut self,
        xs: &TExpr,
        param: LocalId,
        body: &TExpr,
        elem: &Ty,
        e: &TExpr,
    ) -> Option<Vals> {
        let Ty::List(out_elem) = &e.ty else { return None };
        if body.ty != e.ty {
            return None;
        }
        let stride = desc(out_elem)?.stride() as i64;
        desc(elem)?;
        let l = self.expr(xs);
        let arena = self.arena();
        let bytes = self.b.ins().imul_imm_s(l[1], 16);
        let align = self.b.ins().iconst(self.ptr, 8);
        let tmp = self.call("kiln_arena_alloc", &[arena, bytes, align])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, tmp, 0);
        self.oom_unless(ok, e);
        let from = self.b.ins().iconst(types::I64, 0);
        let total = self.each(&l, elem, from, vec![from], |g, x, i, st| {
            let old = g.locals.insert(param, (elem.clone(), x));
            let r = g.expr(body);
            match old {
                Some(o) => g.locals.insert(param, o),
                None => g.locals.remove(&param),
            };
            let off = g.b.ins().imul_imm_s(i, 16);
            let at = g.b.ins().iadd(tmp, off);
            let cfg = g.sh.cfg();
            store(&mut g.b, cfg, &e.ty, &r, at, 0);
            vec![g.b.ins().iadd(st[0], r[1])]
        });
        let bytes = self.b.ins().imul_imm_s(total[0], stride);
        let align = self.b.ins().iconst(self.ptr, 8);
        let arena = self.arena();
        let out = self.call("kiln_arena_alloc", &[arena, bytes, align])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, out, 0);
        self.oom_unless(ok, e);
        let pieces = [tmp, l[1]];
        self.each(&pieces, &e.ty, from, vec![from], |g, piece, _, st| {
            let off = g.b.ins().imul_imm_s(st[0], stride);
            let dst = g.b.ins().iadd(out, off);
            let n = g.b.ins().imul_imm_s(piece[1], stride);
            g.call("kiln_copy", &[dst, piece[0], n]);
            vec![g.b.ins().iadd(st[0], piece[1])]
        });
        Some(vec![out, total[0]])
    }
}
