//! `kiln run` on compiled code: JIT-compiles the pipeline's row functions, builds the
//! runtime plan and runs it on the parallel executor (`kiln_runtime::exec`), then turns a
//! failure into the same diagnostic the interpreter gives.

use super::context::Context;
use super::module::{Shared, runtime_symbols};
use super::plan::build;
use super::spec::{param_defaults, spec};
use crate::agent::net::Agents;
use crate::diag::{Diagnostic, codes};
use crate::ir::Pipeline;
use crate::source::SourceMap;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{DataId, FuncId, Module};
use kiln_runtime::exec as rt;
use kiln_runtime::program::Spec;

type Fatal = Box<Diagnostic>;

/// How to run.
pub struct RunOptions {
    pub threads: usize,
    pub chunk_size: Option<usize>,
    pub progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
}

fn ice(e: impl std::fmt::Display) -> Fatal {
    Box::new(Diagnostic::new(
        codes::E0611,
        crate::source::Span::default(),
        format!("internal compiler error in code generation: {e}"),
    ))
}

pub fn jit_module() -> Result<JITModule, String> {
    let mut flags = settings::builder();
    for (k, v) in [("opt_level", "speed"), ("is_pic", "false"), ("use_colocated_libcalls", "false")]
    {
        flags.set(k, v).map_err(|e| e.to_string())?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| e.to_string())?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, addr) in runtime_symbols() {
        jb.symbol(name, addr);
    }
    Ok(JITModule::new(jb))
}

/// The params of one run (see [`kiln_runtime::program::load::RunParams`]).
pub use kiln_runtime::program::load::RunParams;

/// What [`run`] did.
pub enum Ran {
    /// The run is over: this many records went to the errors stream.
    Done(u64),
    /// Nothing ran: the translator cannot compile an expression of the pipeline yet.
    Refused(Box<Diagnostic>),
}

/// A compiled program, as a value: its machine code (owned, freed when the program is
/// dropped), its [`Spec`] (the plan with functions by reference, the failure sites, the
/// params, the kept values), the addresses of its functions and of its kept table.
/// [`Program::run`] runs it with a run's params on the parallel executor through the
/// runtime (`kiln_runtime::program`); nothing of the compiler or the interpreter is used
/// then.
pub struct Program {
    module: Option<JITModule>,
    pub spec: Spec,
    fns: Vec<*const u8>,
    table: (*mut *const u8, usize),
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: nothing calls the compiled functions any more: the plan that held
            // them is dropped and `run` has returned.
            unsafe { m.free_memory() };
        }
    }
}

/// Compiles and runs `p` (optimized) with the loaded `agents` and the run's `params`.
pub fn run(
    p: &Pipeline,
    map: &SourceMap,
    agents: Agents,
    params: &RunParams,
    opts: RunOptions,
) -> Result<Ran, Fatal> {
    match compile(p, map, agents)? {
        Ok(program) => program.run(params, opts).map(Ran::Done),
        Err(refused) => Ok(Ran::Refused(refused)),
    }
}

/// The diagnostic of code the translator cannot compile yet.
pub fn refused(span: crate::source::Span, what: &str) -> Box<Diagnostic> {
    let d = Diagnostic::new(codes::E0610, span, format!("the JIT cannot compile {what} yet"))
        .label("not compiled")
        .help(
            "`--engine interp` runs this pipeline; the default engine (`auto`) does so by itself",
        );
    Box::new(d)
}

/// What [`generate`] gives: the spec, the functions in the order of its function table,
/// the kept table, and (when asked for) the Cranelift IR of every function.
pub type Generated = (Spec, Vec<FuncId>, DataId, Option<Vec<(String, String)>>);

/// Generates the code of `p` (optimized) into `module` and returns its spec (`Err`
/// inside: the translator cannot compile an expression yet); `warnings` is what a run
/// prints first. Shared by the JIT and `kiln build`.
pub fn generate<M: Module>(
    module: &mut M,
    p: &Pipeline,
    map: &SourceMap,
    agents: Agents,
    warnings: String,
    keep_clif: bool,
) -> Result<Result<Generated, Box<Diagnostic>>, Fatal> {
    let cx = Context::new(p, agents);
    let mut sh = Shared::new(module, &cx);
    sh.clif = keep_clif.then(Vec::new);
    let built = build(p, map, &mut sh)?;
    let defaults = param_defaults(p, &mut sh).map_err(ice)?;
    if let Some((span, what)) = sh.refused.take() {
        return Ok(Err(refused(span, &what)));
    }
    sh.finish_kept().map_err(ice)?;
    let spec = spec(p, map, &sh, built.nodes, defaults, warnings).map_err(ice)?;
    Ok(Ok((spec, sh.functions.clone(), sh.kept_table, sh.clif.take())))
}

/// Compiles `p` (optimized) into a [`Program`] (`Err` inside: the translator cannot
/// compile an expression yet, nothing was run). `agents`: the loaded agents it calls.
pub fn compile(
    p: &Pipeline,
    map: &SourceMap,
    agents: Agents,
) -> Result<Result<Program, Box<Diagnostic>>, Fatal> {
    let mut module = jit_module().map_err(ice)?;
    let (spec, ids, table, _) = match generate(&mut module, p, map, agents, String::new(), false)? {
        Ok(g) => g,
        Err(d) => return Ok(Err(d)),
    };
    module.finalize_definitions().map_err(ice)?;
    let fns = ids.iter().map(|id| module.get_finalized_function(*id)).collect();
    let (table, len) = module.get_finalized_data(table);
    let table = (table.cast_mut().cast::<*const u8>(), len / 8);
    Ok(Ok(Program { module: Some(module), spec, fns, table }))
}

impl Program {
    /// Runs the program with `params`; returns the number of records sent to the errors
    /// stream.
    pub fn run(self, params: &RunParams, opts: RunOptions) -> Result<u64, Fatal> {
        let mut ro = rt::Options {
            threads: opts.threads.max(1),
            progress: opts.progress,
            ..rt::Options::default()
        };
        if let Some(c) = opts.chunk_size {
            ro.chunk_size = c;
        }
        // SAFETY: the kept table is the module's writable data object of `len` pointers,
        // alive as long as `self`, and only this run touches it.
        let table = unsafe { std::slice::from_raw_parts_mut(self.table.0, self.table.1) };
        kiln_runtime::program::main::run(&self.spec, &self.fns, table, params, &ro)
            .map_err(|r| Box::new(crate::diag::render::human::diagnostic(&r)))
    }
}
