//! Row functions: a fused chain of `map` / `filter` / `flat_map` becomes one function
//! `stage(ctx, row) -> status` that runs every operator on the row inline and emits what
//! comes out of the last one (`kiln_emit`): no dispatch between operators and no
//! intermediate collections. `group_by` / `aggregate` get a projection function
//! `proj(ctx, row, out) -> status` that writes the key and every aggregate's argument.
//! Both follow the ABI of `kiln_runtime::exec::abi`.

use super::expr::{Gen, Vals};
use super::layout::{desc, load, store};
use super::module::Shared;
use crate::check::types::Ty;
use crate::ir::{Op, RowFn};
use cranelift_codegen::ir::{AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};
use std::collections::BTreeMap;

fn err(e: impl std::fmt::Display) -> String {
    format!("code generation failed: {e}")
}

/// Declares a function `name(ctx, row[, out]) -> i32` and builds its body with `body`,
/// which receives the translator and the parameters after `ctx`.
fn define<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    name: &str,
    params: usize,
    body: impl FnOnce(&mut Gen<'_, '_, '_, M>, &[cranelift_codegen::ir::Value]),
) -> Result<FuncId, String> {
    let ptr = sh.ptr();
    let mut sig = sh.m.make_signature();
    for _ in 0..params {
        sig.params.push(AbiParam::new(ptr));
    }
    sig.returns.push(AbiParam::new(types::I32));
    let id = sh.m.declare_function(name, Linkage::Local, &sig).map_err(err)?;
    let mut ctx = sh.m.make_context();
    ctx.func.signature = sig;
    let mut fbc = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let fail = b.create_block();
        b.set_cold_block(fail);
        b.switch_to_block(entry);
        let ps = b.block_params(entry).to_vec();
        let mut g = Gen {
            sh: &mut *sh,
            b,
            ptr,
            ctx: ps[0],
            locals: BTreeMap::new(),
            split: BTreeMap::new(),
            fail,
            depth: None,
        };
        body(&mut g, &ps[1..]);
        let zero = g.b.ins().iconst(types::I32, 0);
        g.b.ins().return_(&[zero]);
        g.b.switch_to_block(fail);
        let one = g.b.ins().iconst(types::I32, 1);
        g.b.ins().return_(&[one]);
        g.b.seal_all_blocks();
        let cfg = g.sh.cfg();
        g.b.finalize(cfg);
    }
    sh.keep_clif(id, &ctx.func);
    sh.m.define_function(id, &mut ctx).map_err(|e| err(format!("{e:?}")))?;
    sh.m.clear_context(&mut ctx);
    // The user fns this function calls (and the ones they call).
    super::expr::calls::define_pending(sh)?;
    Ok(id)
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// `f` applied to `v` (of type `f.param_ty`).
    pub fn apply(&mut self, f: &RowFn, v: Vals) -> Vals {
        let old = self.locals.insert(f.param, (f.param_ty.clone(), v));
        let r = self.expr(&f.body);
        match old {
            Some(o) => self.locals.insert(f.param, o),
            None => self.locals.remove(&f.param),
        };
        r
    }

    /// `f` applied to `v` as operator `at` of the chain: a failure first records `at` in
    /// `RowCtx::err_op` (on a cold path), then goes on to `self.fail`. In a pipeline that
    /// calls language models `at` is also recorded before the operator runs, so the trace
    /// names the stage of each call (`kiln_runtime::model::ffi`).
    fn apply_op(&mut self, f: &RowFn, v: Vals, at: usize) -> Vals {
        let off = std::mem::offset_of!(kiln_runtime::exec::RowCtx, err_op) as i32;
        if !crate::driver::agents::models_called(self.sh.pipeline()).is_empty() {
            let k = self.b.ins().iconst(types::I32, at as i64);
            self.b.ins().store(MemFlagsData::trusted(), k, self.ctx, off);
        }
        let body = self.b.create_block();
        let failed = self.b.create_block();
        self.b.set_cold_block(failed);
        self.b.ins().jump(body, &[]);
        self.b.switch_to_block(failed);
        let k = self.b.ins().iconst(types::I32, at as i64);
        self.b.ins().store(MemFlagsData::trusted(), k, self.ctx, off);
        self.b.ins().jump(self.fail, &[]);
        self.b.switch_to_block(body);
        let outer = std::mem::replace(&mut self.fail, failed);
        let r = self.apply(f, v);
        self.fail = outer;
        r
    }

    /// Runs `ops` (operators `at..` of the fused chain) on `v` (of type `ty`) and emits
    /// what comes out. A failure recorded by `kiln_fail` jumps to `self.fail`; `kept` is
    /// where to go when failures were already kept (`kiln_fail_keep`) by an inner
    /// `flat_map` loop.
    fn chain(&mut self, ops: &[Op], at: usize, v: Vals, ty: &Ty, kept: Block) {
        let Some((op, rest)) = ops.split_first() else {
            self.emit(v, ty);
            return;
        };
        match op {
            Op::Map(f) => {
                let r = self.apply_op(f, v, at);
                let r = self.coerce(r, &f.body.ty, f.ret());
                self.chain(rest, at + 1, r, f.ret(), kept);
            }
            Op::Filter(f) => {
                let keep = self.apply_op(f, v.clone(), at)[0];
                let yes = self.b.create_block();
                let next = self.b.create_block();
                self.b.ins().brif(keep, yes, &[], next, &[]);
                self.b.switch_to_block(yes);
                self.chain(rest, at + 1, v, ty, kept);
                self.b.ins().jump(next, &[]);
                self.b.switch_to_block(next);
            }
            Op::FlatMap(f) => {
                let list = self.apply_op(f, v, at);
                let Ty::List(elem) = f.ret() else { return };
                let elem = (**elem).clone();
                let stride = desc(&elem).map(|d| d.stride()).unwrap_or(0) as i64;
                let head = self.b.create_block();
                self.b.append_block_param(head, types::I64);
                let body = self.b.create_block();
                let exit = self.b.create_block();
                // An element failing in a later operator is kept and the loop goes on with
                // the next element, as the interpreter does; the row fails (with every
                // kept failure) once the loop is done.
                let failed = self.b.declare_var(types::I8);
                let no = self.b.ins().iconst(types::I8, 0);
                self.b.def_var(failed, no);
                let zero = self.b.ins().iconst(types::I64, 0);
                self.b.ins().jump(head, &[BlockArg::Value(zero)]);
                self.b.switch_to_block(head);
                let i = self.b.block_params(head)[0];
                let more = self.b.ins().icmp(
                    cranelift_codegen::ir::condcodes::IntCC::UnsignedLessThan,
                    i,
                    list[1],
                );
                self.b.ins().brif(more, body, &[], exit, &[]);
                self.b.switch_to_block(body);
                let off = self.b.ins().imul_imm_s(i, stride);
                let addr = self.b.ins().iadd(list[0], off);
                let x = load(&mut self.b, &elem, self.ptr, addr, 0);
                // `elem_fail`: this element failed (keep it); `elem_kept`: an inner loop
                // kept failures already. Either way the loop goes on.
                let elem_fail = self.b.create_block();
                self.b.set_cold_block(elem_fail);
                let elem_kept = self.b.create_block();
                self.b.set_cold_block(elem_kept);
                let cont = self.b.create_block();
                let outer_fail = std::mem::replace(&mut self.fail, elem_fail);
                self.chain(rest, at + 1, x, &elem, elem_kept);
                self.fail = outer_fail;
                self.b.ins().jump(cont, &[]);
                self.b.switch_to_block(elem_fail);
                let keep = self.sh.import("kiln_fail_keep", self.b.func);
                self.b.ins().call(keep, &[self.ctx]);
                self.b.ins().jump(elem_kept, &[]);
                self.b.switch_to_block(elem_kept);
                let yes = self.b.ins().iconst(types::I8, 1);
                self.b.def_var(failed, yes);
                self.b.ins().jump(cont, &[]);
                self.b.switch_to_block(cont);
                let next = self.b.ins().iadd_imm_s(i, 1);
                self.b.ins().jump(head, &[BlockArg::Value(next)]);
                self.b.switch_to_block(exit);
                let any = self.b.use_var(failed);
                let done = self.b.create_block();
                self.b.ins().brif(any, kept, &[], done, &[]);
                self.b.switch_to_block(done);
            }
            // The plan builder only fuses stateless operators.
            _ => self.emit(v, ty),
        }
    }

    /// Passes `v` on to the executor as a row (records are already in memory).
    fn emit(&mut self, v: Vals, ty: &Ty) {
        let row = match ty {
            Ty::Record(_) => v[0],
            _ => {
                let d = desc(ty).expect("a stream of run-time values");
                let p = self.alloc(d.size(), d.align());
                let cfg = self.sh.cfg();
                store(&mut self.b, cfg, ty, &v, p, 0);
                p
            }
        };
        let f = self.sh.import("kiln_emit", self.b.func);
        self.b.ins().call(f, &[self.ctx, row]);
    }
}

/// `stage(ctx, row)`: the fused chain `ops` over elements of type `elem`.
pub fn define_stage<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    name: &str,
    elem: &Ty,
    ops: &[Op],
) -> Result<FuncId, String> {
    define(sh, name, 2, |g, ps| {
        let v = load(&mut g.b, elem, g.ptr, ps[0], 0);
        let top = g.fail;
        g.chain(ops, 0, v, elem, top);
    })
}

/// `proj(ctx, row, out)`: writes `fns[i]` applied to the row at field `i` of the record
/// type `out_ty`.
pub fn define_proj<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    name: &str,
    elem: &Ty,
    fns: &[&RowFn],
    out_ty: &Ty,
) -> Result<FuncId, String> {
    let Ty::Record(fields) = out_ty else { return Err(err("a projection needs a record")) };
    let offs = desc(out_ty).map(|d| d.field_offsets()).unwrap_or_default();
    define(sh, name, 3, |g, ps| {
        let v = load(&mut g.b, elem, g.ptr, ps[0], 0);
        for ((f, field), off) in fns.iter().zip(fields.iter()).zip(offs) {
            let r = g.apply(f, v.clone());
            let r = g.coerce(r, &f.body.ty, &field.ty);
            let cfg = g.sh.cfg();
            store(&mut g.b, cfg, &field.ty, &r, ps[1], off as i32);
        }
    })
}
