//! Calls of user `fn`s. Each called fn is compiled once into its own Cranelift function
//! of the module, with a signature derived from the shapes of its parameters:
//!
//! ```text
//! fn<i>_<name>(ctx, depth, <param 0's shape>, <param 1's shape>, ..., out) -> status
//! ```
//!
//! The result's shape values are stored at `out + 8 * k` (one 8-byte slot per Cranelift
//! value; records stay in the chunk arena, only their pointer travels). `status` is 0, or
//! 1 when something inside failed, recorded where it happened (`kiln_fail_at`, with the
//! span inside the fn body); every enclosing compiled fn then returns 1 too.
//!
//! Recursion is allowed up to [`MAX_CALL_DEPTH`] nested calls of fns and prompts, on
//! both engines: `depth` is the nesting level of the call (1 for a call made by a stage),
//! and a call that would go deeper fails its record with E0613 at the call, as the
//! interpreter does. (That bound keeps both engines far from the end of their stacks.)
//!
//! Fns whose parameter or result types have no run-time layout are not compiled (refused).

use super::super::layout::{desc, shape};
use super::super::module::Shared;
use super::{Gen, Vals, args};
use crate::check::hir::{LocalId, TExpr};
use crate::check::types::Ty;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};
use kiln_runtime::exec::fail::FailKind;
use std::collections::BTreeMap;

pub use kiln_runtime::exec::fail::MAX_CALL_DEPTH;

fn err(e: impl std::fmt::Display) -> String {
    format!("code generation failed: {e}")
}

/// Whether a value of type `from` can be passed where `to` is expected without a
/// conversion the translator would have to make.
fn same_shape(from: &Ty, to: &Ty, ptr: cranelift_codegen::ir::Type) -> bool {
    matches!(from, Ty::Null | Ty::Never) || shape(from, ptr) == shape(to, ptr)
}

pub(super) fn signature<M: Module>(sh: &Shared<'_, '_, M>, params: &[Ty]) -> Signature {
    let ptr = sh.ptr();
    let mut sig = sh.m.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    for t in params {
        sig.params.extend(shape(t, ptr).into_iter().map(AbiParam::new));
    }
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// The compiled function of user fn `i`, declared (and queued for definition) on first
/// use; `None` when the fn cannot be compiled.
fn user_fn<M: Module>(sh: &mut Shared<'_, '_, M>, i: usize) -> Option<FuncId> {
    if let Some(id) = sh.fns.get(&i) {
        return *id;
    }
    let p = sh.pipeline();
    let def = p.fns.get(i)?;
    let ptr = sh.ptr();
    let typed = def.params.iter().all(|(_, _, t)| desc(t).is_some())
        && desc(&def.ret).is_some()
        && same_shape(&def.body.ty, &def.ret, ptr);
    let id = if typed {
        let params: Vec<Ty> = def.params.iter().map(|(_, _, t)| t.clone()).collect();
        let sig = signature(sh, &params);
        sh.m.declare_function(&format!("fn{i}_{}", def.name), Linkage::Local, &sig).ok()
    } else {
        None
    };
    sh.fns.insert(i, id);
    if id.is_some() {
        sh.pending.push(i);
    }
    id
}

/// Declares user fn `i` and defines it with every fn it calls (`kiln repl`'s `:ir`);
/// `false` when the fn cannot be compiled.
pub fn define_user_fn<M: Module>(sh: &mut Shared<'_, '_, M>, i: usize) -> Result<bool, String> {
    let declared = user_fn(sh, i).is_some();
    define_pending(sh)?;
    Ok(declared)
}

/// Defines the bodies of every declared fn not defined yet (their calls may declare more).
pub fn define_pending<M: Module>(sh: &mut Shared<'_, '_, M>) -> Result<(), String> {
    loop {
        if let Some(i) = sh.pending.pop() {
            define_fn(sh, i)?;
        } else if let Some(i) = sh.pending_prompts.pop() {
            super::prompts::define_prompt(sh, i)?;
        } else {
            return Ok(());
        }
    }
}

fn define_fn<M: Module>(sh: &mut Shared<'_, '_, M>, i: usize) -> Result<(), String> {
    let p = sh.pipeline();
    let def = p.fns.get(i).ok_or_else(|| err("no such fn"))?.clone();
    let Some(Some(id)) = sh.fns.get(&i).copied() else { return Err(err("fn not declared")) };
    let params: Vec<(LocalId, Ty)> = def.params.iter().map(|(id, _, t)| (*id, t.clone())).collect();
    define_function(sh, id, &params, |g| {
        let r = g.expr(&def.body);
        g.coerce(r, &def.body.ty, &def.ret)
    })
}

/// Defines compiled function `id` (of [`signature`] for `params`): its parameters bound
/// to their locals, `body` computes the result, stored at `out + 8k`; returns 0, or 1
/// from the fail block.
pub(super) fn define_function<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    id: FuncId,
    params: &[(LocalId, Ty)],
    body: impl FnOnce(&mut Gen<'_, '_, '_, M>) -> Vals,
) -> Result<(), String> {
    let ptr = sh.ptr();
    let tys: Vec<Ty> = params.iter().map(|(_, t)| t.clone()).collect();
    let mut ctx = sh.m.make_context();
    ctx.func.signature = signature(sh, &tys);
    let mut fbc = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let fail = b.create_block();
        b.set_cold_block(fail);
        b.switch_to_block(entry);
        let ps = b.block_params(entry).to_vec();
        let (cx, depth, out) = (ps[0], ps[1], ps[ps.len() - 1]);
        let mut locals = BTreeMap::new();
        let mut k = 2;
        for (id, t) in params {
            let n = shape(t, ptr).len();
            locals.insert(*id, (t.clone(), ps[k..k + n].to_vec()));
            k += n;
        }
        let split = BTreeMap::new();
        let mut g = Gen { sh: &mut *sh, b, ptr, ctx: cx, locals, split, fail, depth: Some(depth) };
        let r = body(&mut g);
        for (k, v) in r.iter().enumerate() {
            g.b.ins().store(MemFlagsData::trusted(), *v, out, (8 * k) as i32);
        }
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
    Ok(())
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// `f(args)` for user fn `i`.
    pub(super) fn call_fn(&mut self, i: usize, a: &[TExpr], e: &TExpr) -> Vals {
        let p = self.sh.pipeline();
        let Some(def) = p.fns.get(i) else { return self.unsupported(e) };
        let fits = a.len() == def.params.len()
            && a.iter().zip(&def.params).all(|(x, (_, _, t))| same_shape(&x.ty, t, self.ptr))
            && shape(&e.ty, self.ptr) == shape(&def.ret, self.ptr);
        if !fits {
            return self.unsupported(e);
        }
        let Some(id) = user_fn(self.sh, i) else { return self.unsupported(e) };
        let params: Vec<Ty> = def.params.iter().map(|(_, _, t)| t.clone()).collect();
        self.call_compiled(id, &params, &def.ret, a, e)
    }

    /// Calls compiled function `id` (a fn or a prompt; parameters `params`, result `ret`)
    /// on the arguments `a`, at nesting level one deeper than here (E0613 past
    /// [`MAX_CALL_DEPTH`]); a failure inside fails the row.
    pub(super) fn call_compiled(
        &mut self,
        id: FuncId,
        params: &[Ty],
        ret: &Ty,
        a: &[TExpr],
        e: &TExpr,
    ) -> Vals {
        // The nesting level of this call: one more than the enclosing fn's (a stage is 0).
        let depth = match self.depth {
            Some(d) => self.b.ins().iadd_imm_s(d, 1),
            None => self.b.ins().iconst(types::I64, 1),
        };
        let mut argv = vec![self.ctx, depth];
        for (x, t) in a.iter().zip(params) {
            let v = self.expr(x);
            argv.extend(self.coerce(v, &x.ty, t));
        }
        // Checked after the arguments, as the interpreter does.
        let ok = self.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, depth, MAX_CALL_DEPTH);
        self.fail_unless(ok, e, FailKind::CallDepth, &[]);
        let ret_shape = shape(ret, self.ptr);
        let out = self.slot(8 * ret_shape.len());
        argv.push(out);
        let f = self.sh.m.declare_func_in_func(id, self.b.func);
        let inst = self.b.ins().call(f, &argv);
        let status = self.b.inst_results(inst)[0];
        let ok = self.b.create_block();
        let done = self.block_with(&ret_shape);
        // A failure inside was recorded where it happened.
        self.b.ins().brif(status, self.fail, &[], ok, &[]);
        self.switch(ok);
        let v: Vals = ret_shape
            .iter()
            .enumerate()
            .map(|(k, &t)| self.b.ins().load(t, MemFlagsData::trusted(), out, (8 * k) as i32))
            .collect();
        self.b.ins().jump(done, &args(&v));
        self.switch(done);
        self.b.block_params(done).to_vec()
    }
}
