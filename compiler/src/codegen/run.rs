//! `kiln run` on compiled code: JIT-compiles the pipeline's row functions, builds the
//! runtime plan and runs it on the parallel executor (`kiln_runtime::exec`), then turns a
//! failure into the same diagnostic the interpreter gives.

use super::args::{Arg, PathArg};
use super::context::{Context, FailSite};
use super::layout::desc;
use super::module::{Shared, runtime_symbols};
use super::plan::{Pending, SrcKind, build};
use crate::agent::net::Agents;
use crate::diag::{Diagnostic, codes};
use crate::failure::EvalError;
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

/// The params of one run: each param's value (in declaration order), and whether it was
/// given on the command line or in the environment (which decides how a relative path
/// made from it resolves, see [`super::args::PathArg`]).
#[derive(Clone, Debug, Default)]
pub struct RunParams {
    pub values: Vec<rt::ParamValue>,
    pub given: Vec<bool>,
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
/// dropped), the plan nodes that call it (with their arguments still to compute), the data
/// compiled code reads by address, the failure sites it reports and the layout of its
/// params. [`Program::run`] runs it with a run's params on the parallel executor; nothing
/// of the compiler or the interpreter is used then.
pub struct Program<'p> {
    p: &'p Pipeline,
    map: &'p SourceMap,
    module: Option<JITModule>,
    nodes: Vec<Pending>,
    _kept: Kept,
    sites: Vec<FailSite>,
    has_errors: bool,
    names: std::collections::HashMap<String, NodeIndex>,
}

impl Drop for Program<'_> {
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

/// Compiles `p` (optimized) into a [`Program`] (`Err` inside: the translator cannot
/// compile an expression yet, nothing was run). `agents`: the loaded agents it calls.
pub fn compile<'p>(
    p: &'p Pipeline,
    map: &'p SourceMap,
    agents: Agents,
) -> Result<Result<Program<'p>, Box<Diagnostic>>, Fatal> {
    // As in the interpreter, failing records go to the errors stream when the program
    // mentions it at all.
    let has_errors = p.graph.node_indices().any(|n| matches!(p.graph[n].kind, NodeKind::Errors));
    let cx = Context::new(p, agents);
    let mut module = jit_module().map_err(ice)?;
    let (built, kept) = {
        let mut sh = Shared::new(&mut module, &cx);
        let built = build(p, map, &mut sh)?;
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
    Ok(Ok(Program {
        p,
        map,
        module: Some(module),
        nodes: built.nodes,
        _kept: kept,
        sites: cx.sites(),
        has_errors,
        names: built.names,
    }))
}

impl Program<'_> {
    /// Runs the program with `params`; returns the number of records sent to the errors
    /// stream.
    pub fn run(mut self, params: &RunParams, opts: RunOptions) -> Result<u64, Fatal> {
        let plan = self.plan(params)?;
        let mut ro = rt::Options {
            threads: opts.threads.max(1),
            progress: opts.progress,
            ..rt::Options::default()
        };
        if let Some(c) = opts.chunk_size {
            ro.chunk_size = c;
        }
        let result = rt::run(&plan, &ro);
        drop(plan);
        self.report(result)
    }

    /// Turns the executor's result into the interpreter's diagnostics.
    fn report(&self, result: Result<rt::Summary, rt::Failure>) -> Result<u64, Fatal> {
        let p = self.p;
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
                        Err(self.fatal(n, &node, e, Some((&source, line, &raw))))
                    }
                    Some(fs) => {
                        // Sites registered while compiling have no message of their own.
                        let msg = if fs.message.is_empty() { message } else { fs.message };
                        let e = EvalError::new(fs.code, fs.span, msg);
                        Err(self.fatal(n, &node, e, Some((&source, line, &raw))))
                    }
                }
            }
        }
    }

    /// The diagnostic of a failure of stage `stage` (a part of node `n` when `fuse` merged
    /// stages into it: then its name and span are the part's).
    fn fatal(
        &self,
        n: NodeIndex,
        stage: &str,
        e: EvalError,
        at: Option<(&str, u64, &str)>,
    ) -> Fatal {
        let node = &self.p.graph[n];
        let part = node
            .parts
            .iter()
            .find(|q| crate::failure::shown_name(self.map, &q.name, q.span) == stage);
        match part {
            Some(q) => crate::failure::eval_fatal_in(self.p, stage, q.span, e, at),
            None => crate::failure::eval_fatal(self.p, self.map, n, e, at),
        }
    }

    /// The runtime plan for one run: compiled functions resolved, arguments computed with
    /// the run's params.
    fn plan(&mut self, params: &RunParams) -> Result<rt::Plan, Fatal> {
        let (p, map) = (self.p, self.map);
        let Some(module) = self.module.as_ref() else { return Err(ice("the program is gone")) };
        // The params, as the block compiled code reads them.
        let tys: Vec<_> =
            p.params.iter().map(|d| desc(&d.ty)).collect::<Option<_>>().unwrap_or_default();
        let block = rt::ParamBlock::new(&tys, &params.values)
            .ok_or_else(|| ice("a param value does not fit its type"))?;
        let sites = &self.sites;
        let names = &self.names;
        let node_of = |name: &str| names.get(name).copied();
        // An argument's value; its failure stops the run before the node starts, as in
        // the interpreter.
        let value = |arg: &Arg, name: &str| -> Result<rt::arg::ArgValue, Fatal> {
            match arg {
                Arg::Known(v) => Ok(v.clone()),
                Arg::Compiled { f, ty, span } => {
                    let code = module.get_finalized_function(*f);
                    // SAFETY: argument functions are projections (`ProjFn`) writing
                    // `{v: T}` of a scalar `T` and reading no row (`args::arg`); the
                    // module outlives the call.
                    let f = unsafe { std::mem::transmute::<*const u8, rt::ProjFn>(code) };
                    let tdesc = desc(ty).ok_or_else(|| ice("an argument without a layout"))?;
                    // SAFETY: as above.
                    unsafe { rt::arg::eval_arg(f, &tdesc, &block) }.map_err(|fail| {
                        let site = sites.get(fail.site as usize);
                        let (code, at, msg) = match site {
                            Some(s) if !s.message.is_empty() => (s.code, s.span, s.message.clone()),
                            Some(s) => (s.code, s.span, fail.message),
                            None => (codes::E0611, *span, fail.message),
                        };
                        let e = EvalError::new(code, at, msg);
                        match node_of(name) {
                            Some(n) => crate::failure::eval_fatal(p, map, n, e, None),
                            None => ice(e.message),
                        }
                    })
                }
            }
        };
        let path = |pa: &PathArg, name: &str| -> Result<(String, String), Fatal> {
            match value(&pa.arg, name)? {
                rt::arg::ArgValue::Str(s) => Ok((pa.resolve(&s, &params.given), s)),
                _ => Err(ice("a path that is not a string")),
            }
        };
        let int = |v: rt::arg::ArgValue| if let rt::arg::ArgValue::Int(n) = v { n } else { 0 };
        // Operator arguments first, then paths and `range` bounds, each in plan order (so
        // the first that fails is the interpreter's, and no sink has created its file).
        let pending = std::mem::take(&mut self.nodes);
        let (mut seqs, mut rest): (Vec<_>, Vec<_>) =
            pending.into_iter().enumerate().partition(|(_, n)| matches!(n, Pending::Seq { .. }));
        seqs.append(&mut rest);
        let mut nodes: Vec<(usize, rt::PNode)> = Vec::with_capacity(seqs.len());
        for (at, pn) in seqs {
            nodes.push((
                at,
                match pn {
                    Pending::Ready(n) => n,
                    Pending::Source { kind, unread, path: pa, ty, name } => {
                        let kind = match kind {
                            SrcKind::Jsonl => rt::SourceKind::Jsonl,
                            SrcKind::Csv => rt::SourceKind::Csv,
                            SrcKind::Lines => rt::SourceKind::Lines,
                            SrcKind::Range(a, b) => rt::SourceKind::Range(
                                int(value(&a, &name)?),
                                int(value(&b, &name)?),
                            ),
                        };
                        let (path, shown) = match &pa {
                            Some(pa) => path(pa, &name)?,
                            None => Default::default(),
                        };
                        rt::PNode::Source { kind, path, shown, ty, name, unread }
                    }
                    Pending::Sink { input, format, path: pa, ty, name } => {
                        let path = match &pa {
                            Some(pa) => Some(path(pa, &name)?.0),
                            None => None,
                        };
                        rt::PNode::Sink { input, format, path, ty, name }
                    }
                    Pending::Stage { input, name, f, out, parts } => {
                        let code = module.get_finalized_function(f);
                        // SAFETY: `f` was defined with the `StageFn` signature (ctx, row) -> i32
                        // and the module (and so the code) outlives the run.
                        let f: rt::StageFn =
                            unsafe { std::mem::transmute::<*const u8, rt::StageFn>(code) };
                        rt::PNode::Stage { input, name, f, out, parts }
                    }
                    Pending::Group {
                        input,
                        name,
                        proj,
                        proj_ty,
                        aggs,
                        out,
                        keyed,
                        any_arg,
                        site,
                    } => {
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
                                let f =
                                    unsafe { std::mem::transmute::<*const u8, rt::ProjFn>(code) };
                                rt::KeyFn { f, key_ty }
                            })
                            .collect();
                        let mut arg = |a: &Arg| value(a, &name);
                        let mut batch_size = |k: i64, span| {
                            if k < 1 {
                                let m = kiln_runtime::exec::fail::batch_size(k);
                                let e = EvalError::new(codes::E0606, span, m);
                                return Err(match node_of(&name) {
                                    Some(n) => crate::failure::eval_fatal(p, map, n, e, None),
                                    None => ice(e.message),
                                });
                            }
                            Ok(usize::try_from(k).unwrap_or(usize::MAX))
                        };
                        let op = kind
                            .finish(keys, &mut arg, &mut batch_size)?
                            .ok_or_else(|| ice("a key function is missing"))?;
                        rt::PNode::Seq { input, name, op, ty, out }
                    }
                },
            ));
        }
        nodes.sort_by_key(|(at, _)| *at);
        let nodes = nodes.into_iter().map(|(_, n)| n).collect();
        // The sites compiled code reports: an expression's failure written to the errors
        // stream ends with its location, as the interpreter writes it.
        let sites = self
            .sites
            .iter()
            .map(|fs| rt::Site {
                stage: String::new(),
                location: if fs.located && self.has_errors {
                    crate::failure::location(map, fs.span)
                } else {
                    String::new()
                },
            })
            .collect();
        Ok(rt::Plan { nodes, sites, params: block })
    }
}
