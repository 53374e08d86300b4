//! Expressions to Cranelift IR. [`Gen`] translates one typed expression tree
//! ([`TExpr`]) into SSA values of the shape [`super::layout::shape`] gives its type.
//! Control flow (`if`, `and`/`or`, `??`, optionals, bounds and overflow checks) is
//! generated inline; library calls go to the runtime's kernels; a failure calls
//! `kiln_fail_at`, whose message is built by the functions the interpreter uses, so errors
//! carry exactly the interpreter's code, span and message. Compiled code never calls the
//! interpreter: an expression the translator cannot compile is refused
//! ([`Gen::unsupported`]) and the program then does not run compiled.

mod builtins;
pub mod calls;
mod generic;
mod listops;
mod lists;
mod models;
mod ops;
mod prompts;
mod text;
mod vecs;

use super::layout::{desc, load, shape, store, strip, zeros};
use super::module::Shared;
use crate::builtins::BuiltinId as B;
use crate::check::hir::{Callee, Global, LocalId, TExpr, TExprKind};
use crate::check::types::Ty;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, BlockArg, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;
use std::collections::BTreeMap;

/// The diagnostic code of a failure kind.
fn fail_code(kind: FailKind) -> crate::diag::Code {
    use crate::diag::codes;
    match kind {
        FailKind::IntBinary | FailKind::Neg | FailKind::Abs | FailKind::ListSum => codes::E0600,
        FailKind::DivZero => codes::E0601,
        FailKind::Index => codes::E0602,
        FailKind::VecLen | FailKind::IntOfFloat => codes::E0603,
        FailKind::ParseInt | FailKind::ParseFloat => codes::E0604,
        FailKind::EmptyList => codes::E0605,
        FailKind::BatchSize | FailKind::RangeSize => codes::E0606,
        FailKind::CallDepth => codes::E0613,
        FailKind::OutOfMemory => codes::E0611,
    }
}

pub type Vals = Vec<Value>;

/// The translator of one function body.
pub struct Gen<'a, 's, 'p, M: Module> {
    pub sh: &'a mut Shared<'s, 'p, M>,
    pub b: FunctionBuilder<'a>,
    pub ptr: Type,
    /// The `RowCtx` pointer.
    pub ctx: Value,
    pub locals: BTreeMap<LocalId, (Ty, Vals)>,
    /// Let-bound record literals whose type has no layout (a field of type `null`, as in
    /// the checker's conversion `{ let v = { a: 1, b: null }; { a: some(v.a), b: v.b } }`):
    /// their fields' values, read by `v.f` without building the record.
    pub split: BTreeMap<LocalId, Vec<(Ty, Vals)>>,
    /// Returns 1: the row failed (the failure is recorded in the context).
    pub fail: Block,
    /// Inside a compiled user `fn`: its nesting level (an i64; see [`calls`]). A failure
    /// there is recorded as anywhere else and the fn returns 1.
    pub depth: Option<Value>,
}

fn args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl<'a, 's, 'p, M: Module> Gen<'a, 's, 'p, M> {
    fn call(&mut self, name: &'static str, a: &[Value]) -> Vec<Value> {
        let f = self.sh.import(name, self.b.func);
        let inst = self.b.ins().call(f, a);
        self.b.inst_results(inst).to_vec()
    }

    /// The address kept in slot `slot` of the program's kept table (see
    /// [`crate::codegen::module::Shared::kept`]), loaded from the table.
    pub(super) fn kept_ptr(&mut self, slot: u32) -> Value {
        let gv = self.sh.m.declare_data_in_func(self.sh.kept_table, self.b.func);
        let table = self.b.ins().symbol_value(self.ptr, gv);
        self.b.ins().load(self.ptr, MemFlagsData::trusted(), table, (slot * 8) as i32)
    }

    /// A fresh block with parameters of the given shape.
    fn block_with(&mut self, shape: &[Type]) -> Block {
        let blk = self.b.create_block();
        for &t in shape {
            self.b.append_block_param(blk, t);
        }
        blk
    }

    fn switch(&mut self, blk: Block) {
        self.b.switch_to_block(blk);
    }

    /// Allocates `size` bytes in the chunk's arena.
    pub fn alloc(&mut self, size: usize, align: usize) -> Value {
        let arena = self.b.ins().load(self.ptr, MemFlagsData::trusted(), self.ctx, 0);
        let s = self.b.ins().iconst(self.ptr, size.max(1) as i64);
        let a = self.b.ins().iconst(self.ptr, align.max(1) as i64);
        self.call("kiln_arena_alloc", &[arena, s, a])[0]
    }

    fn arena(&mut self) -> Value {
        self.b.ins().load(self.ptr, MemFlagsData::trusted(), self.ctx, 0)
    }

    /// A stack slot of `size` bytes; returns its address.
    fn slot(&mut self, size: usize) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size.max(8) as u32,
            4,
        ));
        self.b.ins().stack_addr(self.ptr, slot, 0)
    }

    /// Converts `vals` of type `from` to type `to` where the checker left the conversion
    /// implicit: `null` to an optional.
    pub fn coerce(&mut self, vals: Vals, from: &Ty, to: &Ty) -> Vals {
        match (from, to) {
            (Ty::Null | Ty::Never, Ty::Optional(_)) => {
                let mut v = vec![self.b.ins().iconst(types::I8, 0)];
                v.extend(zeros(&mut self.b, &shape(strip(to), self.ptr)));
                v
            }
            (Ty::Never, t) => zeros(&mut self.b, &shape(t, self.ptr)),
            _ => vals,
        }
    }

    pub fn expr(&mut self, e: &TExpr) -> Vals {
        match &e.kind {
            TExprKind::Int(n) => vec![self.b.ins().iconst(types::I64, *n)],
            TExprKind::Float(x) => vec![self.b.ins().f64const(*x)],
            TExprKind::Bool(x) => vec![self.b.ins().iconst(types::I8, i64::from(*x))],
            TExprKind::Str(s) => self.str_const(s.as_bytes()),
            TExprKind::Null => self.coerce(Vec::new(), &Ty::Null, &e.ty),
            TExprKind::Local(id) => match self.locals.get(id) {
                Some((_, v)) => v.clone(),
                None => self.unsupported(e),
            },
            TExprKind::Global(Global::Const(_) | Global::Param(_)) => self.global(e),
            TExprKind::Unary(op, x) => self.unary(*op, x, e),
            TExprKind::Binary(op, a, b) => self.binary(*op, a, b, e),
            TExprKind::Widen(x) if x.ty == Ty::Int => {
                let v = self.expr(x)[0];
                vec![self.b.ins().fcvt_from_sint(types::F64, v)]
            }
            // `some(null)` is null (the interpreter's values carry no wrapper).
            TExprKind::WrapOptional(x) if matches!(x.ty, Ty::Null | Ty::Never) => {
                let v = self.expr(x);
                self.coerce(v, &x.ty, &e.ty)
            }
            TExprKind::WrapOptional(x) if !matches!(x.ty, Ty::Optional(_)) => {
                let v = self.expr(x);
                let v = self.coerce(v, &x.ty, strip(&e.ty));
                let mut out = vec![self.b.ins().iconst(types::I8, 1)];
                out.extend(v);
                out
            }
            TExprKind::WrapOptional(x) => self.expr(x),
            TExprKind::Unwrap(x) if matches!(x.ty, Ty::Optional(_)) => self.expr(x)[1..].to_vec(),
            TExprKind::ConvertEach { value, binder, body }
                if matches!(value.ty, Ty::Optional(_)) =>
            {
                self.convert_optional(value, *binder, body, e)
            }
            TExprKind::ConvertEach { value, binder, body } => match &value.ty {
                Ty::List(elem) => match self.map_filter(B::Map, value, *binder, body, elem, e) {
                    Some(v) => v,
                    None => self.unsupported(e),
                },
                _ => self.unsupported(e),
            },
            TExprKind::Call { callee: Callee::Fn(i), args, named } if named.is_empty() => {
                self.call_fn(*i, args, e)
            }
            TExprKind::Call { callee: Callee::VecFromList(n), args, named } if named.is_empty() => {
                self.vec_from_list(*n, args, e)
            }
            TExprKind::Call { callee: Callee::Agent(i), args, named } if named.is_empty() => {
                self.call_agent(*i, args, e)
            }
            TExprKind::Call { callee: Callee::Prompt(i), args, named } if named.is_empty() => {
                self.call_prompt(*i, args, e)
            }
            TExprKind::Call { callee: Callee::Builtin(bi), args, named }
                if bi.name == "complete" =>
            {
                self.complete(args, named, e)
            }
            TExprKind::Call { callee: Callee::Builtin(bi), args, named } if named.is_empty() => {
                self.builtin(bi.id, args, e)
            }
            TExprKind::Call { callee: Callee::Builtin(bi), args, named } => {
                self.list_any(bi.id, args, named, e).unwrap_or_else(|| self.unsupported(e))
            }
            TExprKind::Field(x, i) => self.field(x, *i, e),
            TExprKind::Index(xs, i) if matches!(xs.ty, Ty::List(_)) => self.index(xs, i, e),
            TExprKind::Index(xs, i) if matches!(xs.ty, Ty::Vec(_)) => self.vec_index(xs, i, e),
            TExprKind::If(c, t, f) => self.if_(c, t, f, &e.ty),
            TExprKind::Let(id, v, body) if desc(&v.ty).is_none() => {
                let TExprKind::Record(fields) = &v.kind else { return self.unsupported(e) };
                let vals: Vec<(Ty, Vals)> =
                    fields.iter().map(|f| (f.ty.clone(), self.expr(f))).collect();
                let old = self.split.insert(*id, vals);
                let r = self.expr(body);
                match old {
                    Some(o) => self.split.insert(*id, o),
                    None => self.split.remove(id),
                };
                r
            }
            TExprKind::Let(id, v, body) => {
                let vals = self.expr(v);
                let old = self.locals.insert(*id, (v.ty.clone(), vals));
                let r = self.expr(body);
                match old {
                    Some(o) => self.locals.insert(*id, o),
                    None => self.locals.remove(id),
                };
                r
            }
            TExprKind::Record(xs) => self.record(xs, &e.ty),
            TExprKind::List(xs) => self.list(xs, &e.ty),
            _ => self.unsupported(e),
        }
    }

    fn str_const(&mut self, s: &[u8]) -> Vals {
        let gv = self.sh.data(s, self.b.func);
        let p = self.b.ins().symbol_value(self.ptr, gv);
        vec![p, self.b.ins().iconst(types::I64, s.len() as i64)]
    }

    /// A param: read from the run's parameter block (`RowCtx::params`, a record with a
    /// field per param), so one compiled program runs with any param values.
    fn param(&mut self, i: usize, e: &TExpr) -> Vals {
        let p = self.sh.pipeline();
        let tys: Vec<Ty> = p.params.iter().map(|d| d.ty.clone()).collect();
        let rec = Ty::Record(
            tys.iter()
                .map(|t| crate::check::types::Field { name: "".into(), ty: t.clone() })
                .collect(),
        );
        let (Some(d), Some(t)) = (desc(&rec), tys.get(i)) else { return self.unsupported(e) };
        let off = d.field_offsets()[i] as i32;
        let at = std::mem::offset_of!(kiln_runtime::exec::RowCtx, params) as i32;
        let block = self.b.ins().load(self.ptr, MemFlagsData::trusted(), self.ctx, at);
        let v = load(&mut self.b, t, self.ptr, block, off);
        self.coerce(v, t, &e.ty)
    }

    /// A const: its value is folded when the pipeline is compiled (a scalar), or its
    /// expression compiled where it is used (a list or record).
    fn global(&mut self, e: &TExpr) -> Vals {
        match e.kind {
            TExprKind::Global(Global::Param(i)) => self.param(i, e),
            // The `fold` pass replaced the constants it could compute by literals; the
            // others (records, lists, values that fail) are computed where they are used,
            // as the interpreter does.
            TExprKind::Global(Global::Const(i)) => match self.sh.pipeline().consts.get(i) {
                Some(c) => {
                    let v = self.expr(&c.value);
                    self.coerce(v, &c.value.ty, &e.ty)
                }
                None => self.unsupported(e),
            },
            _ => self.unsupported(e),
        }
    }

    fn wrap_if_optional(&mut self, v: Vals, ty: &Ty) -> Vals {
        if matches!(ty, Ty::Optional(_)) {
            let mut out = vec![self.b.ins().iconst(types::I8, 1)];
            out.extend(v);
            out
        } else {
            v
        }
    }

    /// An expression the translator cannot compile: noted (the first one is reported and
    /// the program does not run compiled, see `codegen::run`) and replaced by zeros, so
    /// translation goes on to a well-formed function that is never run.
    pub fn unsupported(&mut self, e: &TExpr) -> Vals {
        if self.sh.refused.is_none() {
            let what = match &e.kind {
                TExprKind::Binary(op, a, _) => format!("`{}` on `{}`", op.as_str(), a.ty),
                TExprKind::Call { callee: Callee::Builtin(b), .. } => {
                    format!("this call of `{}` (of type `{}`)", b.name, e.ty)
                }
                _ => format!("this expression of type `{}`", e.ty),
            };
            self.sh.refused = Some((e.span, what));
        }
        zeros(&mut self.b, &shape(&e.ty, self.ptr))
    }

    /// Continues only when `ok` holds; otherwise the row fails at `e`: the runtime's
    /// `kiln_fail_at` records failure site `e` with the message of `kind` built from up to
    /// three operands (`ops`, ints, floats or pointers; see
    /// [`kiln_runtime::exec::fail::FailKind`]), the words the interpreter uses too.
    fn fail_unless(&mut self, ok: Value, e: &TExpr, kind: FailKind, ops: &[Value]) {
        self.fail_unless_at(ok, e.span, kind, ops);
    }

    /// [`Gen::fail_unless`] with the failure site's span given.
    fn fail_unless_at(
        &mut self,
        ok: Value,
        span: crate::source::Span,
        kind: FailKind,
        ops: &[Value],
    ) {
        let good = self.b.create_block();
        let bad = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(ok, good, &[], bad, &[]);
        self.switch(bad);
        let site = self.sh.cx.site(super::context::FailSite {
            code: fail_code(kind),
            span,
            message: String::new(),
            located: true,
        });
        let mut argv = vec![self.ctx];
        argv.push(self.b.ins().iconst(types::I32, i64::from(site)));
        argv.push(self.b.ins().iconst(types::I32, kind as i64));
        for k in 0..3 {
            let v = match ops.get(k) {
                Some(&v) => {
                    let t = self.b.func.dfg.value_type(v);
                    if t == types::F64 {
                        self.b.ins().bitcast(types::I64, MemFlagsData::new(), v)
                    } else if t.bits() < 64 {
                        self.b.ins().sextend(types::I64, v)
                    } else {
                        v
                    }
                }
                None => self.b.ins().iconst(types::I64, 0),
            };
            argv.push(v);
        }
        self.call("kiln_fail_at", &argv);
        self.b.ins().jump(self.fail, &[]);
        self.switch(good);
    }

    /// [`Gen::fail_unless`] for the failures that only running out of memory causes (an
    /// allocation, or a kernel's status).
    fn oom_unless(&mut self, ok: Value, e: &TExpr) {
        self.fail_unless(ok, e, FailKind::OutOfMemory, &[]);
    }

    fn convert_optional(
        &mut self,
        value: &TExpr,
        binder: LocalId,
        body: &TExpr,
        e: &TExpr,
    ) -> Vals {
        let v = self.expr(value);
        let out_shape = shape(&e.ty, self.ptr);
        let done = self.block_with(&out_shape);
        let some = self.b.create_block();
        let none = self.b.create_block();
        self.b.ins().brif(v[0], some, &[], none, &[]);
        self.switch(none);
        let z = self.coerce(Vec::new(), &Ty::Null, &e.ty);
        self.b.ins().jump(done, &args(&z));
        self.switch(some);
        let inner_ty = strip(&value.ty).clone();
        self.locals.insert(binder, (inner_ty, v[1..].to_vec()));
        let r = self.expr(body);
        self.locals.remove(&binder);
        let r =
            if matches!(body.ty, Ty::Optional(_)) { r } else { self.wrap_if_optional(r, &e.ty) };
        self.b.ins().jump(done, &args(&r));
        self.switch(done);
        self.b.block_params(done).to_vec()
    }

    fn field(&mut self, x: &TExpr, i: usize, e: &TExpr) -> Vals {
        if let TExprKind::Local(id) = x.kind
            && let Some(fields) = self.split.get(&id)
        {
            return match fields.get(i).cloned() {
                Some((t, v)) => self.coerce(v, &t, &e.ty),
                None => self.unsupported(e),
            };
        }
        let rec_ty = strip(&x.ty).clone();
        let Ty::Record(fs) = &rec_ty else { return self.unsupported(e) };
        let Some(f) = fs.get(i) else { return self.unsupported(e) };
        let off = desc(&rec_ty).map(|d| d.field_offsets()).unwrap_or_default();
        let off = off.get(i).copied().unwrap_or(0) as i32;
        let v = self.expr(x);
        if !matches!(x.ty, Ty::Optional(_)) {
            return load(&mut self.b, &f.ty, self.ptr, v[0], off);
        }
        // `r.f` on an optional record: null when the record is.
        let out_shape = shape(&e.ty, self.ptr);
        let done = self.block_with(&out_shape);
        let some = self.b.create_block();
        let none = self.b.create_block();
        self.b.ins().brif(v[0], some, &[], none, &[]);
        self.switch(none);
        let z = self.coerce(Vec::new(), &Ty::Null, &e.ty);
        self.b.ins().jump(done, &args(&z));
        self.switch(some);
        let got = load(&mut self.b, &f.ty, self.ptr, v[1], off);
        let got =
            if matches!(f.ty, Ty::Optional(_)) { got } else { self.wrap_if_optional(got, &e.ty) };
        self.b.ins().jump(done, &args(&got));
        self.switch(done);
        self.b.block_params(done).to_vec()
    }

    fn index(&mut self, xs: &TExpr, i: &TExpr, e: &TExpr) -> Vals {
        let Ty::List(t) = &xs.ty else { return self.unsupported(e) };
        let Some(d) = desc(t) else { return self.unsupported(e) };
        let l = self.expr(xs);
        let k = self.expr(i)[0];
        let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, k, l[1]);
        let list = self.b.ins().iconst(types::I64, 0);
        self.fail_unless(ok, e, FailKind::Index, &[k, l[1], list]);
        let off = self.b.ins().imul_imm_s(k, d.stride() as i64);
        let addr = self.b.ins().iadd(l[0], off);
        load(&mut self.b, t, self.ptr, addr, 0)
    }

    fn if_(&mut self, c: &TExpr, t: &TExpr, f: &TExpr, ty: &Ty) -> Vals {
        let cv = self.expr(c)[0];
        let out_shape = shape(ty, self.ptr);
        let done = self.block_with(&out_shape);
        let tb = self.b.create_block();
        let fb = self.b.create_block();
        self.b.ins().brif(cv, tb, &[], fb, &[]);
        for (blk, x) in [(tb, t), (fb, f)] {
            self.switch(blk);
            let v = self.expr(x);
            let v = self.coerce(v, &x.ty, ty);
            self.b.ins().jump(done, &args(&v));
        }
        self.switch(done);
        self.b.block_params(done).to_vec()
    }

    fn record(&mut self, xs: &[TExpr], ty: &Ty) -> Vals {
        let Ty::Record(fs) = ty else { return Vec::new() };
        let Some(d) = desc(ty) else { return Vec::new() };
        let mut vals = Vec::with_capacity(xs.len());
        for (x, f) in xs.iter().zip(fs.iter()) {
            let v = self.expr(x);
            vals.push(self.coerce(v, &x.ty, &f.ty));
        }
        let p = self.alloc(d.size(), d.align());
        let cfg = self.sh.cfg();
        for ((v, f), off) in vals.iter().zip(fs.iter()).zip(d.field_offsets()) {
            store(&mut self.b, cfg, &f.ty, v, p, off as i32);
        }
        vec![p]
    }

    fn list(&mut self, xs: &[TExpr], ty: &Ty) -> Vals {
        let Ty::List(t) = ty else { return Vec::new() };
        let Some(d) = desc(t) else {
            return vec![self.b.ins().iconst(self.ptr, 0), self.b.ins().iconst(types::I64, 0)];
        };
        let mut vals = Vec::with_capacity(xs.len());
        for x in xs {
            let v = self.expr(x);
            vals.push(self.coerce(v, &x.ty, t));
        }
        let p = self.alloc(d.stride() * xs.len(), d.align().max(8));
        let cfg = self.sh.cfg();
        for (i, v) in vals.iter().enumerate() {
            store(&mut self.b, cfg, t, v, p, (i * d.stride()) as i32);
        }
        vec![p, self.b.ins().iconst(types::I64, xs.len() as i64)]
    }
}
