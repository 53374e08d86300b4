//! `kiln run` on compiled code: JIT-compiles the pipeline's row functions, builds the
//! runtime plan and runs it on the parallel executor (`kiln_runtime::exec`), then turns a
//! failure into the same diagnostic the interpreter gives.

use super::context::{Context, FailSite};
use super::layout::desc;
use super::module::{Shared, runtime_symbols};
use super::plan::{Args, Pending, build};
use crate::check::hir::TExpr;
use crate::diag::{Diagnostic, codes};
use crate::interp::{EvalError, Interp, Value};
use crate::ir::{NodeKind, Pipeline};
use crate::source::SourceMap;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use kiln_runtime::exec as rt;
use petgraph::stable_graph::NodeIndex;

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

struct EvalArgs<'a, 'p> {
    p: &'p Pipeline,
    map: &'p SourceMap,
    cx: &'a Context<'p>,
}

impl EvalArgs<'_, '_> {
    fn eval(&mut self, n: NodeIndex, e: &TExpr) -> Result<Value, Fatal> {
        self.cx
            .interp()
            .eval(e)
            .map_err(|err| crate::failure::eval_fatal(self.p, self.map, n, err, None))
    }
    fn args(&self, n: NodeIndex) -> &[TExpr] {
        match &self.p.graph[n].kind {
            NodeKind::Source { args, .. } => args,
            _ => &[],
        }
    }
}

impl Args for EvalArgs<'_, '_> {
    fn eval(&mut self, n: NodeIndex, e: &TExpr) -> Result<Value, Fatal> {
        EvalArgs::eval(self, n, e)
    }
    fn path(&mut self, n: NodeIndex) -> Result<(String, String), Fatal> {
        let e = match &self.p.graph[n].kind {
            NodeKind::Source { args, .. } => args.first().cloned(),
            NodeKind::Sink { path, .. } => path.clone(),
            _ => None,
        };
        let Some(e) = e else { return Ok(("-".into(), "-".into())) };
        match self.eval(n, &e)? {
            Value::Str(s) => {
                let open = crate::interp::exec::data_path(&self.cx.interp(), self.map, &e, &s);
                Ok((open, s.to_string()))
            }
            _ => Ok(("-".into(), "-".into())),
        }
    }
    fn range(&mut self, n: NodeIndex) -> Result<(i64, i64), Fatal> {
        let a = self.args(n).to_vec();
        let mut v = [0i64; 2];
        for (slot, e) in v.iter_mut().zip(&a) {
            if let Value::Int(x) = self.eval(n, e)? {
                *slot = x;
            }
        }
        Ok((v[0], v[1]))
    }
}

fn param_value(v: &Value) -> rt::ParamValue {
    match v {
        Value::Int(n) => rt::ParamValue::Int(*n),
        Value::Float(x) => rt::ParamValue::Float(*x),
        Value::Bool(b) => rt::ParamValue::Bool(*b),
        Value::Str(s) => rt::ParamValue::Str(s.to_string()),
        _ => rt::ParamValue::Null,
    }
}

/// What [`run`] did.
pub enum Ran {
    /// The run is over: this many records went to the errors stream.
    Done(u64),
    /// Nothing ran: the translator cannot compile an expression of the pipeline yet.
    Refused(Box<Diagnostic>),
}

/// What compiled code reads by address: kept alive as long as the program.
type Kept = (
    Vec<Box<kiln_runtime::layout::TypeDesc>>,
    Vec<Box<kiln_runtime::exec::listgroup::ListGroup>>,
    std::collections::HashMap<usize, Box<rt::AgentFn>>,
);

/// A compiled program, as a value: its machine code (owned, freed when the program is
/// dropped), the runtime plan whose nodes call it (with the parameter block), the data
/// compiled code reads by address, and the failure sites it reports. [`Program::run`]
/// runs it on the parallel executor.
pub struct Program<'p> {
    p: &'p Pipeline,
    map: &'p SourceMap,
    module: Option<JITModule>,
    plan: Option<rt::Plan>,
    _kept: Kept,
    sites: Vec<FailSite>,
    names: std::collections::HashMap<String, NodeIndex>,
}

impl Drop for Program<'_> {
    fn drop(&mut self) {
        // The plan's functions point into the module's memory: gone first.
        drop(self.plan.take());
        if let Some(m) = self.module.take() {
            // SAFETY: nothing calls the compiled functions any more: the plan that held
            // them is dropped and `run` has returned.
            unsafe { m.free_memory() };
        }
    }
}

/// Compiles and runs `p`; `interp` carries params and agents (read while compiling only).
pub fn run(
    p: &Pipeline,
    map: &SourceMap,
    interp: Interp<'_>,
    opts: RunOptions,
) -> Result<Ran, Fatal> {
    match compile(p, map, interp)? {
        Ok(program) => program.run(opts).map(Ran::Done),
        Err(refused) => Ok(Ran::Refused(refused)),
    }
}

/// Compiles `p` into a [`Program`] (`Err` inside: the translator cannot compile an
/// expression yet, nothing was run); `interp` carries params and agents.
pub fn compile<'p>(
    p: &'p Pipeline,
    map: &'p SourceMap,
    interp: Interp<'_>,
) -> Result<Result<Program<'p>, Box<Diagnostic>>, Fatal> {
    // As in the interpreter, failing records go to the errors stream when the program
    // mentions it at all.
    let has_errors = p.graph.node_indices().any(|n| matches!(p.graph[n].kind, NodeKind::Errors));
    let cx = Context::new(interp);
    let mut module = jit_module().map_err(ice)?;
    let (built, kept) = {
        let mut sh = Shared::new(&mut module, &cx);
        let mut args = EvalArgs { p, map, cx: &cx };
        let built = build(p, map, &mut sh, &mut args)?;
        if let Some((span, what)) = sh.refused.take() {
            let d = Diagnostic::new(
                codes::E0610,
                span,
                format!("the JIT cannot compile {what} yet"),
            )
            .label("not compiled")
            .help("`--engine interp` runs this pipeline; the default engine (`auto`) does so by itself");
            return Ok(Err(Box::new(d)));
        }
        let kept: Kept = (
            std::mem::take(&mut sh.descs),
            std::mem::take(&mut sh.groups),
            std::mem::take(&mut sh.agent_fns),
        );
        (built, kept)
    };
    module.finalize_definitions().map_err(ice)?;
    let mut nodes = Vec::with_capacity(built.nodes.len());
    for pn in built.nodes {
        nodes.push(match pn {
            Pending::Ready(n) => n,
            Pending::Stage { input, name, f, out } => {
                let code = module.get_finalized_function(f);
                // SAFETY: `f` was defined with the `StageFn` signature (ctx, row) -> i32
                // and the module (and so the code) outlives the run below.
                let f: rt::StageFn = unsafe { std::mem::transmute::<*const u8, rt::StageFn>(code) };
                rt::PNode::Stage { input, name, f, out }
            }
            Pending::Group { input, name, proj, proj_ty, aggs, out, keyed, any_arg, site } => {
                let code = module.get_finalized_function(proj);
                // SAFETY: `proj` was defined with the `ProjFn` signature (ctx, row, out)
                // -> i32; the module outlives the run.
                let proj: rt::ProjFn =
                    unsafe { std::mem::transmute::<*const u8, rt::ProjFn>(code) };
                if keyed {
                    rt::PNode::Group { input, name, proj, proj_ty, aggs, out, site }
                } else {
                    let proj = any_arg.then_some(proj);
                    rt::PNode::Aggregate { input, name, proj, proj_ty, aggs, out, site }
                }
            }
            Pending::Seq { input, name, kind, keys, ty, out } => {
                let keys = keys
                    .into_iter()
                    .map(|(f, key_ty)| {
                        let code = module.get_finalized_function(f);
                        // SAFETY: key functions are projections, defined with the
                        // `ProjFn` signature; the module outlives the run.
                        let f = unsafe { std::mem::transmute::<*const u8, rt::ProjFn>(code) };
                        rt::KeyFn { f, key_ty }
                    })
                    .collect();
                let op = kind.finish(keys).ok_or_else(|| ice("a key function is missing"))?;
                rt::PNode::Seq { input, name, op, ty, out }
            }
        });
    }
    // The sites compiled code reports: an expression's failure written to the errors
    // stream ends with its location, as the interpreter writes it.
    let sites = cx
        .sites()
        .iter()
        .map(|fs| rt::Site {
            stage: String::new(),
            location: if fs.located && has_errors {
                crate::failure::location(map, fs.span)
            } else {
                String::new()
            },
        })
        .collect();
    // The params, as the block compiled code reads them.
    let tys: Vec<_> =
        p.params.iter().map(|d| desc(&d.ty)).collect::<Option<_>>().unwrap_or_default();
    let values: Vec<rt::ParamValue> = cx.interp().params.iter().map(param_value).collect();
    let params = rt::ParamBlock::new(&tys, &values)
        .ok_or_else(|| ice("a param value does not fit its type"))?;
    let plan = rt::Plan { nodes, sites, params };
    Ok(Ok(Program {
        p,
        map,
        module: Some(module),
        plan: Some(plan),
        _kept: kept,
        sites: cx.sites(),
        names: built.names,
    }))
}

impl Program<'_> {
    /// Runs the program; returns the number of records sent to the errors stream.
    pub fn run(mut self, opts: RunOptions) -> Result<u64, Fatal> {
        let mut ro = rt::Options {
            threads: opts.threads.max(1),
            progress: opts.progress,
            ..rt::Options::default()
        };
        if let Some(c) = opts.chunk_size {
            ro.chunk_size = c;
        }
        let Some(plan) = self.plan.take() else { return Err(ice("the program ran already")) };
        let result = rt::run(&plan, &ro);
        drop(plan);
        self.report(result)
    }

    /// Turns the executor's result into the interpreter's diagnostics.
    fn report(&self, result: Result<rt::Summary, rt::Failure>) -> Result<u64, Fatal> {
        let (p, map) = (self.p, self.map);
        match result {
            Ok(s) => Ok(s.errors),
            Err(rt::Failure::Io { node, message }) => {
                let n = self.names.get(&node).copied();
                let span = n.map(|n| p.graph[n].span).unwrap_or_default();
                let mut d = Diagnostic::new(codes::E0608, span, message);
                if let Some(n) = n {
                    // The interpreter's labels for the same failures.
                    d = d.label(match p.graph[n].kind {
                        NodeKind::Source { .. } => format!("source `{node}`"),
                        NodeKind::Sink { .. } => "this sink".to_string(),
                        _ if node.is_empty() => "here".to_string(),
                        _ => format!("`{node}`"),
                    });
                }
                Err(Box::new(d))
            }
            Err(rt::Failure::Record { site, node, source, line, raw, message }) => {
                let Some(n) = self.names.get(&node).copied() else {
                    return Err(ice(format!("a failure in unknown node `{node}`: {message}")));
                };
                match site.and_then(|s| self.sites.get(s as usize).cloned()) {
                    None if matches!(p.graph[n].kind, NodeKind::Source { .. }) => {
                        Err(crate::failure::read_fatal(p, n, &source, line, &raw, &message))
                    }
                    None => {
                        // A failure of the executor itself: an int aggregate that overflows is
                        // the user's E0600; anything else is an internal error.
                        let code = if message.starts_with("integer overflow") {
                            codes::E0600
                        } else {
                            codes::E0611
                        };
                        let e = EvalError::new(code, p.graph[n].span, message);
                        Err(crate::failure::eval_fatal(p, map, n, e, Some((&source, line, &raw))))
                    }
                    Some(fs) => {
                        // Sites registered while compiling have no message of their own.
                        let msg = if fs.message.is_empty() { message } else { fs.message };
                        let e = EvalError::new(fs.code, fs.span, msg);
                        Err(crate::failure::eval_fatal(p, map, n, e, Some((&source, line, &raw))))
                    }
                }
            }
        }
    }
}
