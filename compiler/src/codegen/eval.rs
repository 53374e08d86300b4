//! One expression JIT-compiled and run, for `kiln repl`: the typed expression becomes a
//! projection `eval(ctx, row, out) -> status` that reads no row and writes `{v: T}`
//! ([`super::stage::define_proj`], as plan arguments are compiled), the runtime runs it
//! once with the params' block and encodes the value as the JSON a `stdout()` sink writes
//! (`kiln_runtime::exec::eval`). Also the Cranelift IR of a definition, for `:ir`.

use super::context::Context;
use super::layout::desc;
use super::module::Shared;
use super::run::{RunParams, jit_module};
use crate::agent::net::Agents;
use crate::check::hir::{LocalId, TExpr};
use crate::check::types::{Field, Ty};
use crate::diag::{Diagnostic, codes};
use crate::ir::{Pipeline, RowFn};
use crate::source::{SourceMap, Span};
use cranelift_jit::JITModule;
use kiln_runtime::exec as rt;
use std::rc::Rc;

type Fatal = Box<Diagnostic>;

fn ice(e: impl std::fmt::Display) -> Fatal {
    Box::new(Diagnostic::new(
        codes::E0611,
        Span::default(),
        format!("internal compiler error in code generation: {e}"),
    ))
}

/// The functions of one compilation as Cranelift IR text: (function name, IR).
pub type Clif = Vec<(String, String)>;

/// What [`eval`] gives.
pub enum Evaluated {
    /// The value as JSON text.
    Value(String),
    /// The expression failed when it ran (overflow, division by zero, ...).
    Failed(Box<Diagnostic>),
    /// The translator cannot compile it (nothing ran).
    Refused(Box<Diagnostic>),
}

fn refused(span: Span, what: &str) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::new(codes::E0610, span, format!("the JIT cannot compile {what} yet"))
            .label("not compiled"),
    )
}

/// Compiles `e` (typed in `p`, which holds the fns, consts and params it reads) and runs
/// it with `params`. With `clif`, the Cranelift IR of the functions compiled is kept.
pub fn eval(
    p: &Pipeline,
    agents: Agents,
    e: &TExpr,
    params: &RunParams,
    clif: Option<&mut Clif>,
) -> Result<Evaluated, Fatal> {
    let shown = printable(&e.ty).unwrap_or_else(|| e.ty.clone());
    let out = Ty::Record(Rc::from(vec![Field { name: Rc::from("v"), ty: shown }]));
    let Some(out_desc) = desc(&out) else {
        return Ok(Evaluated::Refused(refused(e.span, &format!("a value of type `{}`", e.ty))));
    };
    let cx = Context::new(p, agents);
    let mut module = jit_module().map_err(ice)?;
    // A function of no row: its parameter is a record of no fields, never read.
    let unit = Ty::Record(Rc::from(Vec::new()));
    let f = RowFn { param: LocalId(u32::MAX), param_ty: unit.clone(), body: e.clone() };
    let (id, kept) = {
        let mut sh = Shared::new(&mut module, &cx);
        sh.clif = clif.is_some().then(Vec::new);
        let id =
            super::stage::define_proj(&mut sh, "repl_eval", &unit, &[&f], &out).map_err(ice)?;
        if let (Some(dst), Some(kept)) = (clif, sh.clif.take()) {
            *dst = kept;
        }
        if let Some((span, what)) = sh.refused.take() {
            return Ok(Evaluated::Refused(refused(span, &what)));
        }
        sh.finish_kept().map_err(ice)?;
        (id, (super::spec::kept_only(p, &sh), sh.kept_table))
    };
    let result = run(&mut module, id, &out_desc, p, params, &kept);
    // SAFETY: the compiled function has returned and nothing refers to its code any more.
    unsafe { module.free_memory() };
    Ok(match result? {
        Ok(json) => Evaluated::Value(json),
        Err(fail) => {
            let site = cx.site_at(fail.site);
            let (code, span, message) = match site {
                Some(s) if !s.message.is_empty() => (s.code, s.span, s.message),
                Some(s) => (s.code, s.span, fail.message),
                None => (codes::E0611, e.span, fail.message),
            };
            Evaluated::Failed(Box::new(Diagnostic::new(code, span, message).label("failed here")))
        }
    })
}

/// `ty` with the types that have no run-time layout replaced by ones that hold the same
/// values: `null` by `int?` (only its null), the element of an empty list `[]` by `int`.
/// The value is converted to it (`Gen::coerce`) and prints the same. `None` inside a
/// record (code generation does not convert a record's layout).
fn printable(ty: &Ty) -> Option<Ty> {
    Some(match ty {
        Ty::Null => Ty::Optional(Rc::new(Ty::Int)),
        Ty::Never => Ty::Int,
        Ty::List(t) => Ty::List(Rc::new(printable(t)?)),
        Ty::Optional(t) if matches!(**t, Ty::Null) => printable(t)?,
        Ty::Optional(t) => Ty::Optional(Rc::new(printable(t)?)),
        Ty::Record(fs) => {
            for f in fs.iter() {
                if printable(&f.ty)? != f.ty {
                    return None;
                }
            }
            ty.clone()
        }
        t => t.clone(),
    })
}

fn run(
    module: &mut JITModule,
    id: cranelift_module::FuncId,
    out: &kiln_runtime::layout::TypeDesc,
    p: &Pipeline,
    params: &RunParams,
    (spec, table): &(kiln_runtime::program::Spec, cranelift_module::DataId),
) -> Result<Result<String, rt::arg::ArgFailure>, Fatal> {
    module.finalize_definitions().map_err(ice)?;
    let (at, len) = module.get_finalized_data(*table);
    // SAFETY: the kept table is the module's writable data object of `len` bytes, alive
    // as long as the module, and nothing else uses it.
    let table =
        unsafe { std::slice::from_raw_parts_mut(at.cast_mut().cast::<*const u8>(), len / 8) };
    let _kept = kiln_runtime::program::load::fill_kept(spec, table).map_err(ice)?;
    let code = module.get_finalized_function(id);
    // SAFETY: `repl_eval` was defined by `define_proj` with the `ProjFn` signature
    // (ctx, row, out) -> i32; the module outlives the call.
    let f = unsafe { std::mem::transmute::<*const u8, rt::ProjFn>(code) };
    let tys: Vec<_> =
        p.params.iter().map(|d| desc(&d.ty)).collect::<Option<_>>().unwrap_or_default();
    let block = rt::ParamBlock::new(&tys, &params.values)
        .ok_or_else(|| ice("a param value does not fit its type"))?;
    // SAFETY: `f` reads no row and writes `{v: T}` of type `out` (see `eval`).
    let r = unsafe { rt::eval::eval_json(f, out, &block) };
    Ok(r.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// The Cranelift IR of user fn `i` of `p` and of the fns it calls.
pub fn fn_clif(p: &Pipeline, agents: Agents, i: usize) -> Result<Option<Clif>, String> {
    let cx = Context::new(p, agents);
    let mut module = jit_module()?;
    let clif = {
        let mut sh = Shared::new(&mut module, &cx);
        sh.clif = Some(Vec::new());
        let ok = super::expr::calls::define_user_fn(&mut sh, i)? && sh.refused.is_none();
        sh.clif.take().filter(|_| ok)
    };
    // SAFETY: nothing of the module was finalized or called.
    unsafe { module.free_memory() };
    Ok(clif)
}

/// The Cranelift IR of every function of pipeline `p`'s plan (nothing is run).
pub fn pipeline_clif(p: &Pipeline, map: &SourceMap, agents: Agents) -> Result<Clif, Fatal> {
    let cx = Context::new(p, agents);
    let mut module = jit_module().map_err(ice)?;
    let clif = {
        let mut sh = Shared::new(&mut module, &cx);
        sh.clif = Some(Vec::new());
        super::plan::build(p, map, &mut sh)?;
        match sh.refused.take() {
            Some((span, what)) => Err(refused(span, &what)),
            None => Ok(sh.clif.take().unwrap_or_default()),
        }
    };
    // SAFETY: nothing of the module was finalized or called.
    unsafe { module.free_memory() };
    clif
}
