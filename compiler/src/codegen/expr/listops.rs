//! List functions on elements of any laid-out type (`sort`, `min`, `max`, `contains` of
//! lists of records, lists or optionals) and the list forms of stream operators
//! (`sort_by`, `distinct`, `enumerate`, `batch`, `union`) and `range(a, b)` inside an
//! expression. Key functions run inline as loops writing their keys to an arena array;
//! the runtime's kernels (`runtime/src/listany.rs`) order, deduplicate and gather.

use super::super::layout::{desc, load, store};
use super::{Gen, Vals};
use crate::builtins::BuiltinId as B;
use crate::check::hir::{Callee, LocalId, TExpr, TExprKind};
use crate::check::types::{Field, Ty};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;
use std::rc::Rc;

impl<M: Module> Gen<'_, '_, '_, M> {
    /// `name(args, named)` on a list when it is one of this file's forms; `None` leaves
    /// it to the caller. Nothing is evaluated before the form is known to be supported.
    pub(super) fn list_any(
        &mut self,
        id: B,
        a: &[TExpr],
        named: &[(Rc<str>, TExpr)],
        e: &TExpr,
    ) -> Option<Vals> {
        if !a.iter().chain(named.iter().map(|(_, x)| x)).all(super::generic::laid_out) {
            return None;
        }
        match id {
            B::Range => return self.range_list(a, named, e),
            B::GroupBy | B::Aggregate => return self.group_list(id == B::GroupBy, a, named, e),
            B::Join | B::LeftJoin if named.is_empty() => {
                return self.join_list(id == B::LeftJoin, a, e);
            }
            _ => {}
        }
        let Some(Ty::List(elem)) = a.first().map(|x| &x.ty) else { return None };
        let elem = (**elem).clone();
        let ed = desc(&elem)?;
        let stride = ed.stride() as i64;
        let only_desc = id == B::SortBy && named.iter().all(|(n, _)| &**n == "desc");
        if !named.is_empty() && !only_desc {
            return None;
        }
        Some(match (id, a) {
            (B::Sort, [xs]) if e.ty == xs.ty => {
                let d = self.desc_const(&elem)?;
                let l = self.expr(xs);
                let arena = self.arena();
                self.list_kernel("kiln_list_sort_any", &[d, l[0], l[1], arena], &e.ty, e)
            }
            (B::Min | B::Max, [xs]) if e.ty == elem => {
                let d = self.desc_const(&elem)?;
                let l = self.expr(xs);
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, l[1], 0);
                let which = self.b.ins().iconst(types::I64, i64::from(id == B::Max));
                self.fail_unless(ok, e, FailKind::EmptyList, &[l[0], l[1], which]);
                let max = self.b.ins().iconst(types::I8, i64::from(id == B::Max));
                let i = self.call("kiln_list_extreme", &[d, l[0], l[1], max])[0];
                // Every element null (only possible for `T?`): the result is null.
                let found = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, i, 0);
                let out_shape = super::super::layout::shape(&elem, self.ptr);
                let done = self.block_with(&out_shape);
                let at = self.b.create_block();
                let none = self.b.create_block();
                self.b.ins().brif(found, at, &[], none, &[]);
                self.switch(none);
                let z = self.coerce(Vec::new(), &Ty::Null, &elem);
                let z = if z.is_empty() { super::zeros(&mut self.b, &out_shape) } else { z };
                self.b.ins().jump(done, &super::args(&z));
                self.switch(at);
                let off = self.b.ins().imul_imm_s(i, stride);
                let addr = self.b.ins().iadd(l[0], off);
                let v = load(&mut self.b, &elem, self.ptr, addr, 0);
                self.b.ins().jump(done, &super::args(&v));
                self.switch(done);
                self.b.block_params(done).to_vec()
            }
            (B::Contains, [xs, x]) => {
                let wrap = match (&elem, &x.ty) {
                    (t, u) if t == u => false,
                    (Ty::Optional(t), u) if **t == *u => true,
                    _ => return None,
                };
                let d = self.desc_const(&elem)?;
                let l = self.expr(xs);
                let v = self.expr(x);
                let v = if wrap { self.wrap_if_optional(v, &elem) } else { v };
                let p = self.spill(&elem, &v)?;
                vec![self.call("kiln_list_contains", &[d, l[0], l[1], p])[0]]
            }
            (B::Enumerate, [xs]) => {
                let Ty::List(rec) = &e.ty else { return None };
                let d = self.desc_const(rec)?;
                let l = self.expr(xs);
                let arena = self.arena();
                self.list_kernel("kiln_list_enumerate", &[d, l[0], l[1], arena], &e.ty, e)
            }
            (B::Batch, [xs, n]) if n.ty == Ty::Int => {
                let l = self.expr(xs);
                let k = self.expr(n)[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, k, 1);
                self.fail_unless(ok, e, FailKind::BatchSize, &[k]);
                let s = self.b.ins().iconst(types::I64, stride);
                let arena = self.arena();
                self.list_kernel("kiln_list_batch", &[s, l[0], l[1], k, arena], &e.ty, e)
            }
            (B::Union, [xs, ys]) if xs.ty == ys.ty && xs.ty == e.ty => self.list_concat(xs, ys, e),
            (B::SortBy | B::Distinct, [xs, f]) if e.ty == xs.ty => {
                let TExprKind::Lambda(param, body) = &f.kind else { return None };
                let kd = self.desc_const(&body.ty)?;
                let ks = desc(&body.ty)?.stride() as i64;
                let l = self.expr(xs);
                // The keys, in an arena array of `len(xs)` values.
                let bytes = self.b.ins().imul_imm_s(l[1], ks);
                let arena = self.arena();
                let align = self.b.ins().iconst(self.ptr, 8);
                let keys = self.call("kiln_arena_alloc", &[arena, bytes, align])[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, keys, 0);
                self.oom_unless(ok, e);
                let from = self.b.ins().iconst(types::I64, 0);
                let cfg = self.sh.cfg();
                let (param, kt) = (*param, body.ty.clone());
                self.each(&l, &elem, from, Vec::new(), |g, x, i, _| {
                    let old = g.locals.insert(param, (elem.clone(), x));
                    let k = g.expr(body);
                    match old {
                        Some(o) => g.locals.insert(param, o),
                        None => g.locals.remove(&param),
                    };
                    let off = g.b.ins().imul_imm_s(i, ks);
                    let at = g.b.ins().iadd(keys, off);
                    store(&mut g.b, cfg, &kt, &k, at, 0);
                    Vec::new()
                });
                let s = self.b.ins().iconst(types::I64, stride);
                let arena = self.arena();
                if id == B::Distinct {
                    let argv = [kd, keys, s, l[0], l[1], arena];
                    self.list_kernel("kiln_list_distinct", &argv, &e.ty, e)
                } else {
                    // `desc:` is evaluated after the keys, as the interpreter does.
                    let descending = match named.first() {
                        Some((_, d)) => self.expr(d)[0],
                        None => self.b.ins().iconst(types::I8, 0),
                    };
                    let argv = [kd, keys, s, l[0], l[1], descending, arena];
                    self.list_kernel("kiln_list_sort_by", &argv, &e.ty, e)
                }
            }
            _ => return None,
        })
    }

    /// `range(lo, hi)` as a list inside an expression.
    fn range_list(&mut self, a: &[TExpr], named: &[(Rc<str>, TExpr)], e: &TExpr) -> Option<Vals> {
        let [lo, hi] = a else { return None };
        if !named.is_empty() || lo.ty != Ty::Int || hi.ty != Ty::Int || e.ty != Ty::list(Ty::Int) {
            return None;
        }
        let (x, y) = (self.expr(lo)[0], self.expr(hi)[0]);
        // Too long when hi - lo > MAX_RANGE_LIST (hi - lo may overflow: then it is too
        // long exactly when hi > lo).
        let (diff, of) = self.b.ins().ssub_overflow(y, x);
        let max = kiln_runtime::listany::MAX_RANGE_LIST;
        let long = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, diff, max);
        let up = self.b.ins().icmp(IntCC::SignedGreaterThan, y, x);
        let too_long: Value = self.b.ins().select(of, up, long);
        let ok = self.b.ins().bxor_imm_s(too_long, 1);
        self.fail_unless(ok, e, FailKind::RangeSize, &[x, y]);
        let arena = self.arena();
        Some(self.list_kernel("kiln_list_range", &[x, y, arena], &e.ty, e))
    }
}

/// One aggregate of a list `group_by` / `aggregate`: its kind, its lambda (none for
/// `count`), its output type and call span.
struct ListAgg<'e> {
    kind: kiln_runtime::exec::AggKind,
    arg: Option<(LocalId, &'e TExpr)>,
    ty: Ty,
    span: crate::source::Span,
}

fn list_agg(call: &TExpr) -> Option<ListAgg<'_>> {
    use crate::ir::AggKind;
    use kiln_runtime::exec::AggKind as K;
    let TExprKind::Call { callee: Callee::Aggregate(a), args, .. } = &call.kind else {
        return None;
    };
    let kind = match a.kind {
        AggKind::Count => K::Count,
        AggKind::Sum => K::Sum,
        AggKind::Mean => K::Mean,
        AggKind::Min => K::Min,
        AggKind::Max => K::Max,
        AggKind::First => K::First,
        AggKind::Last => K::Last,
        AggKind::Collect => K::Collect,
    };
    let arg = match args.first().map(|f| &f.kind) {
        Some(TExprKind::Lambda(p, body)) => Some((*p, &**body)),
        None => None,
        Some(_) => return None,
    };
    Some(ListAgg { kind, arg, ty: call.ty.clone(), span: call.span })
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// Evaluates `body` with `param` bound to `x` (an element of type `elem`).
    fn apply_to(&mut self, param: LocalId, elem: &Ty, x: Vals, body: &TExpr) -> Vals {
        let old = self.locals.insert(param, (elem.clone(), x));
        let r = self.expr(body);
        match old {
            Some(o) => self.locals.insert(param, o),
            None => self.locals.remove(&param),
        };
        r
    }

    /// An arena array of `len(l)` values of `ty` (`f(element)` each), computed in a loop.
    fn project(
        &mut self,
        l: &[Value],
        elem: &Ty,
        ty: &Ty,
        e: &TExpr,
        mut f: impl FnMut(&mut Self, Vals, Value),
    ) -> Option<Value> {
        let stride = desc(ty)?.stride() as i64;
        let bytes = self.b.ins().imul_imm_s(l[1], stride);
        let arena = self.arena();
        let align = self.b.ins().iconst(self.ptr, 8);
        let arr = self.call("kiln_arena_alloc", &[arena, bytes, align])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, arr, 0);
        self.oom_unless(ok, e);
        let from = self.b.ins().iconst(types::I64, 0);
        self.each(l, elem, from, Vec::new(), |g, x, i, _| {
            let off = g.b.ins().imul_imm_s(i, stride);
            let at = g.b.ins().iadd(arr, off);
            f(g, x, at);
            Vec::new()
        });
        Some(arr)
    }

    /// `group_by(xs, key, name: agg(..), ..)` / `aggregate(xs, name: agg(..), ..)` on a
    /// list: projections computed inline, grouping by `kiln_list_group`.
    fn group_list(
        &mut self,
        keyed: bool,
        a: &[TExpr],
        named: &[(Rc<str>, TExpr)],
        e: &TExpr,
    ) -> Option<Vals> {
        use kiln_runtime::exec::AggSpec;
        let xs = a.first()?;
        let Ty::List(elem) = &xs.ty else { return None };
        let elem = (**elem).clone();
        let key = match (keyed, a.get(1).map(|f| &f.kind)) {
            (true, Some(TExprKind::Lambda(p, body))) => Some((*p, &**body)),
            (false, None) => None,
            _ => return None,
        };
        if a.len() != 1 + usize::from(keyed) {
            return None;
        }
        let aggs: Vec<ListAgg> = named.iter().map(|(_, c)| list_agg(c)).collect::<Option<_>>()?;
        // The projection `{ key?, args.. }` and where each aggregate's argument is in it.
        let mut fields = Vec::new();
        if let Some((_, body)) = key {
            fields.push(Field { name: "key".into(), ty: body.ty.clone() });
        }
        let mut specs = Vec::new();
        for (i, ag) in aggs.iter().enumerate() {
            let field = ag.arg.map(|(_, body)| {
                fields.push(Field { name: format!("a{i}").into(), ty: body.ty.clone() });
                fields.len() - 1
            });
            specs.push(AggSpec { kind: ag.kind, field, out: desc(&ag.ty)? });
        }
        let proj_ty = Ty::Record(fields.into());
        let row_ty = if keyed {
            let Ty::List(r) = &e.ty else { return None };
            (**r).clone()
        } else {
            e.ty.clone()
        };
        let (pd, rd) = (desc(&proj_ty)?, desc(&row_ty)?);
        let offs = pd.field_offsets();
        let group = kiln_runtime::program::Kept::Group { proj: pd, keyed, aggs: specs, out: rd };
        let gslot = self.sh.kept_slot(group);
        // One failure site per aggregate (an int sum that does not fit), back to back.
        let mut site = u32::MAX;
        for ag in &aggs {
            let id = self.sh.cx.site(super::super::context::FailSite {
                code: crate::diag::codes::E0600,
                span: ag.span,
                message: String::new(),
                located: true,
            });
            site = site.min(id);
        }
        let l = self.expr(xs);
        let cfg = self.sh.cfg();
        let projs = self.project(&l, &elem, &proj_ty, e, |g, x, at| {
            let mut k = 0;
            if let Some((p, body)) = key {
                let v = g.apply_to(p, &elem, x.clone(), body);
                store(&mut g.b, cfg, &body.ty, &v, at, offs[0] as i32);
                k = 1;
            }
            for ag in &aggs {
                if let Some((p, body)) = ag.arg {
                    let v = g.apply_to(p, &elem, x.clone(), body);
                    store(&mut g.b, cfg, &body.ty, &v, at, offs[k] as i32);
                    k += 1;
                }
            }
        })?;
        let out = self.slot(16);
        let site = self.b.ins().iconst(types::I32, i64::from(site));
        let g = self.kept_ptr(gslot);
        let st = self.call("kiln_list_group", &[self.ctx, site, g, projs, l[1], out])[0];
        let ok = self.b.create_block();
        self.b.ins().brif(st, self.fail, &[], ok, &[]);
        self.switch(ok);
        if keyed {
            Some(load(&mut self.b, &e.ty, self.ptr, out, 0))
        } else {
            // The kernel wrote the address of the one row (a record is addressed in place).
            Some(vec![self.b.ins().load(self.ptr, MemFlagsData::trusted(), out, 0)])
        }
    }

    /// `join(xs, ys, lk, rk)` / `left_join` on lists: keys computed inline (the right
    /// side's first, as the interpreter does), pairs by `kiln_list_join`.
    fn join_list(&mut self, left: bool, a: &[TExpr], e: &TExpr) -> Option<Vals> {
        let [xs, ys, lk, rk] = a else { return None };
        let (Ty::List(le), Ty::List(re), Ty::List(rec)) = (&xs.ty, &ys.ty, &e.ty) else {
            return None;
        };
        let (TExprKind::Lambda(lp, lb), TExprKind::Lambda(rp, rb)) = (&lk.kind, &rk.kind) else {
            return None;
        };
        if lb.ty != rb.ty {
            return None;
        }
        let (le, re) = ((**le).clone(), (**re).clone());
        let kd = self.desc_const(&lb.ty)?;
        let recd = self.desc_const(rec)?;
        let red = self.desc_const(&re)?;
        let (l, r) = (self.expr(xs), self.expr(ys));
        let cfg = self.sh.cfg();
        let kt = lb.ty.clone();
        let rkeys = self.project(&r, &re, &kt, e, |g, y, at| {
            let v = g.apply_to(*rp, &re, y, rb);
            store(&mut g.b, cfg, &kt, &v, at, 0);
        })?;
        let lkeys = self.project(&l, &le, &kt, e, |g, x, at| {
            let v = g.apply_to(*lp, &le, x, lb);
            store(&mut g.b, cfg, &kt, &v, at, 0);
        })?;
        let flag = self.b.ins().iconst(types::I8, i64::from(left));
        let arena = self.arena();
        let argv = [kd, recd, red, lkeys, l[0], l[1], rkeys, r[0], r[1], flag, arena];
        Some(self.list_kernel("kiln_list_join", &argv, &e.ty, e))
    }
}
