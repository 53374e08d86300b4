//! Loading a [`Spec`] for a run: the kept values built and their addresses written into
//! the kept table, the plan arguments computed with the run's params, the executor's plan
//! made with the functions' addresses; and a run's failure turned into the diagnostic
//! `kiln run` prints (the same words whichever engine or executable reports it).

use super::report::{Report, SourceText, Sources, Span};
use super::{AgentSpec, ArgSpec, Kept, NodeSpec, PathSpec, Role, SeqSpec, SourceSpec, Spec};
use crate::exec::arg::{ArgValue, data_path, eval_arg};
use crate::exec::listgroup::ListGroup;
use crate::exec::{self as rt, AgentFn, ParamBlock, ProjFn, StageFn};
use crate::layout::TypeDesc;
use std::sync::Arc;

/// The values compiled code reads by address; they must outlive every call into it. Each
/// is boxed so its address stays put while the vectors grow.
#[derive(Default)]
#[allow(clippy::vec_box)]
pub struct KeptValues {
    _typed: Vec<Box<crate::model::ffi::Typed>>,
    _descs: Vec<Box<TypeDesc>>,
    _groups: Vec<Box<ListGroup>>,
    _agents: Vec<Box<AgentFn>>,
}

/// Builds the kept values of `spec` and writes slot `i`'s address into `table[i]`.
pub fn fill_kept(spec: &Spec, table: &mut [*const u8]) -> Result<KeptValues, String> {
    let mut kept = KeptValues::default();
    if table.len() < spec.kept.len() {
        return Err("the kept table is too small".into());
    }
    for (slot, k) in table.iter_mut().zip(&spec.kept) {
        *slot = match k {
            Kept::Desc(d) => {
                let b = Box::new(d.clone());
                let p = std::ptr::from_ref::<TypeDesc>(&b).cast::<u8>();
                kept._descs.push(b);
                p
            }
            Kept::Group { proj, keyed, aggs, out } => {
                let b = Box::new(ListGroup::new(proj.clone(), *keyed, aggs, out.clone()));
                let p = std::ptr::from_ref::<ListGroup>(&b).cast::<u8>();
                kept._groups.push(b);
                p
            }
            Kept::Typed { name, schema, settings, ty, shown } => {
                let schema = crate::model::request::Schema {
                    name: name.clone(),
                    schema: serde_json::from_str(schema)
                        .map_err(|e| format!("a typed prompt's schema: {e}"))?,
                };
                let t = crate::model::ffi::Typed::new(schema, *settings, ty, shown.clone());
                let b = Box::new(t);
                let p = std::ptr::from_ref::<crate::model::ffi::Typed>(&b).cast::<u8>();
                kept._typed.push(b);
                p
            }
            Kept::Agent(i) => {
                let f = agent_fn(spec, *i)?;
                let b = Box::new(f);
                let p = std::ptr::from_ref::<AgentFn>(&b).cast::<u8>();
                kept._agents.push(b);
                p
            }
        };
    }
    Ok(kept)
}

/// Agent `i`'s forward pass over `n` rows (always the GEMM kernels, so a row's result does
/// not depend on the others), capped at its `cpu_cores` threads.
pub fn agent_fn(spec: &Spec, i: usize) -> Result<AgentFn, String> {
    let a =
        spec.agents.get(i).cloned().flatten().ok_or_else(|| format!("agent {i} is not loaded"))?;
    let AgentSpec { layers, threads } = a;
    let f: AgentFn = Arc::new(move |x: &[f32], y: &mut [f32], n: usize| {
        let mut cur = x.to_vec();
        for l in &layers {
            let act = crate::kernels::Act::from_code(l.act).unwrap_or(crate::kernels::Act::Linear);
            let mut next = vec![0.0; n * l.outputs];
            if !crate::simd::dense_gemm(
                &l.weights, &l.bias, &cur, &mut next, n, l.inputs, l.outputs, act,
            ) {
                return false;
            }
            cur = next;
        }
        let ok = cur.len() == y.len();
        if ok {
            y.copy_from_slice(&cur);
        }
        ok
    });
    Ok(limit_threads(f, threads))
}

/// `f`, run by at most `n` threads at once: an agent's `resources.limits.cpu_cores` (whole
/// cores, at least one) caps the workers running its batches together.
pub fn limit_threads(f: AgentFn, n: Option<u32>) -> AgentFn {
    use std::sync::{Condvar, Mutex};
    let Some(n) = n else { return f };
    let slots = Arc::new((Mutex::new(n.max(1)), Condvar::new()));
    Arc::new(move |x: &[f32], y: &mut [f32], rows: usize| {
        let (free, cv) = &*slots;
        {
            let mut k = free.lock().unwrap_or_else(|p| p.into_inner());
            while *k == 0 {
                k = cv.wait(k).unwrap_or_else(|p| p.into_inner());
            }
            *k -= 1;
        }
        let ok = f(x, y, rows);
        *free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        cv.notify_one();
        ok
    })
}

/// A run's params: the values (declaration order) and whether each was given on the
/// command line or in the environment (which decides how a relative path made from it
/// resolves).
#[derive(Clone, Debug, Default)]
pub struct RunParams {
    pub values: Vec<rt::ParamValue>,
    pub given: Vec<bool>,
}

/// The parameter block of `params`.
pub fn param_block(spec: &Spec, params: &RunParams) -> Result<ParamBlock, Box<Report>> {
    let tys: Vec<TypeDesc> = spec.params.iter().map(|p| p.ty.clone()).collect();
    ParamBlock::new(&tys, &params.values)
        .ok_or_else(|| Box::new(ice("a param value does not fit its type")))
}

/// How an argument failed: the code, span and message of its diagnostic.
pub type Failed = (String, Span, String);

/// An internal error of the compiled program.
pub fn ice(what: impl std::fmt::Display) -> Report {
    Report::error(
        "E0611",
        Span::default(),
        format!("internal compiler error in code generation: {what}"),
    )
}

/// A spec with the addresses of its functions, ready to make plans and read failures.
pub struct Loaded<'a> {
    pub spec: &'a Spec,
    pub fns: &'a [*const u8],
    pub sources: Sources,
}

impl<'a> Loaded<'a> {
    pub fn new(spec: &'a Spec, fns: &'a [*const u8]) -> Loaded<'a> {
        Loaded { spec, fns, sources: spec.sources() }
    }

    fn func(&self, f: u32) -> Result<*const u8, Box<Report>> {
        self.fns.get(f as usize).copied().ok_or_else(|| Box::new(ice("a function is missing")))
    }

    /// The value of `arg` with the params of `block`: `Err` is the failure as (code,
    /// span, message).
    pub fn arg_value(
        &self,
        arg: &ArgSpec,
        block: &ParamBlock,
    ) -> Result<Result<ArgValue, Failed>, Box<Report>> {
        match arg {
            ArgSpec::Known(v) => Ok(Ok(v.clone())),
            ArgSpec::Compiled { f, ty, span } => {
                let code = self.func(*f)?;
                // SAFETY: argument functions are projections (`ProjFn`) of no row writing
                // `{v: T}` of a scalar `T`; the code outlives the call (the caller holds
                // the program).
                let f = unsafe { std::mem::transmute::<*const u8, ProjFn>(code) };
                // SAFETY: as above.
                Ok(unsafe { eval_arg(f, ty, block) }.map_err(|fail| {
                    match self.spec.sites.get(fail.site as usize) {
                        Some(s) if !s.message.is_empty() => {
                            (s.code.clone(), s.span, s.message.clone())
                        }
                        Some(s) => (s.code.clone(), s.span, fail.message),
                        None => ("E0611".to_string(), *span, fail.message),
                    }
                }))
            }
        }
    }

    /// The value of `arg` with the params of `block`; its failure stops the run before
    /// node `name` starts.
    pub fn arg(
        &self,
        arg: &ArgSpec,
        name: &str,
        block: &ParamBlock,
    ) -> Result<ArgValue, Box<Report>> {
        self.arg_value(arg, block)?.map_err(|(code, at, msg)| match self.node(name) {
            Some(n) => Box::new(self.eval_fatal(n, name, &code, at, msg, None)),
            None => Box::new(ice(msg)),
        })
    }

    fn path(
        &self,
        p: &PathSpec,
        name: &str,
        block: &ParamBlock,
        given: &[bool],
    ) -> Result<(String, String), Box<Report>> {
        match self.arg(&p.arg, name, block)? {
            ArgValue::Str(s) => {
                let outside = p.params.iter().any(|&i| given.get(i).copied().unwrap_or(false));
                Ok((data_path(&s, &p.dir, !outside), s))
            }
            _ => Err(Box::new(ice("a path that is not a string"))),
        }
    }

    /// The executor's plan for one run: operator arguments computed first, then paths and
    /// `range` bounds, each in plan order (so the first that fails is the interpreter's,
    /// and no sink has created its file).
    pub fn plan(&self, params: &RunParams) -> Result<rt::Plan, Box<Report>> {
        let block = param_block(self.spec, params)?;
        let int = |v: ArgValue| if let ArgValue::Int(n) = v { n } else { 0 };
        let mut order: Vec<usize> = (0..self.spec.nodes.len()).collect();
        order.sort_by_key(|&i| !matches!(self.spec.nodes[i], NodeSpec::Seq { .. }));
        let mut nodes: Vec<Option<rt::PNode>> = (0..order.len()).map(|_| None).collect();
        for at in order {
            let node = match &self.spec.nodes[at] {
                NodeSpec::Errors => rt::PNode::Errors,
                NodeSpec::Source { kind, unread, path, ty, name } => {
                    let kind = match kind {
                        SourceSpec::Jsonl => rt::SourceKind::Jsonl,
                        SourceSpec::Csv => rt::SourceKind::Csv,
                        SourceSpec::Lines => rt::SourceKind::Lines,
                        SourceSpec::Range(a, b) => rt::SourceKind::Range(
                            int(self.arg(a, name, &block)?),
                            int(self.arg(b, name, &block)?),
                        ),
                    };
                    let (path, shown) = match path {
                        Some(p) => self.path(p, name, &block, &params.given)?,
                        None => Default::default(),
                    };
                    let (ty, name, unread) = (ty.clone(), name.clone(), unread.clone());
                    rt::PNode::Source { kind, path, shown, ty, name, unread }
                }
                NodeSpec::Sink { input, format, path, ty, name } => {
                    let path = match path {
                        Some(p) => Some(self.path(p, name, &block, &params.given)?.0),
                        None => None,
                    };
                    let (input, format, ty, name) = (*input, *format, ty.clone(), name.clone());
                    rt::PNode::Sink { input, format, path, ty, name }
                }
                NodeSpec::Stage { input, name, f, out, parts } => {
                    let code = self.func(*f)?;
                    // SAFETY: stage functions are defined with the `StageFn` signature
                    // (ctx, row) -> i32; the code outlives the run.
                    let f = unsafe { std::mem::transmute::<*const u8, StageFn>(code) };
                    let (input, name, out, parts) =
                        (*input, name.clone(), out.clone(), parts.clone());
                    rt::PNode::Stage { input, name, f, out, parts }
                }
                NodeSpec::Group { input, name, proj, proj_ty, aggs, out, keyed, any_arg, site } => {
                    let code = self.func(*proj)?;
                    // SAFETY: projections are defined with the `ProjFn` signature (ctx, row,
                    // out) -> i32; the code outlives the run.
                    let proj = unsafe { std::mem::transmute::<*const u8, ProjFn>(code) };
                    let (input, name, proj_ty) = (*input, name.clone(), proj_ty.clone());
                    let (aggs, out, site) = (aggs.clone(), out.clone(), *site);
                    if *keyed {
                        rt::PNode::Group { input, name, proj, proj_ty, aggs, out, site }
                    } else {
                        let proj = any_arg.then_some(proj);
                        rt::PNode::Aggregate { input, name, proj, proj_ty, aggs, out, site }
                    }
                }
                NodeSpec::Agent { input, name, field, k, m, agent, out } => rt::PNode::Agent {
                    input: *input,
                    name: name.clone(),
                    field: *field,
                    k: *k,
                    m: *m,
                    forward: agent_fn(self.spec, *agent).map_err(|e| Box::new(ice(e)))?,
                    out: out.clone(),
                },
                NodeSpec::Seq { input, name, kind, keys, ty, out } => {
                    let mut fns = Vec::with_capacity(keys.len());
                    for (f, key_ty) in keys {
                        let code = self.func(*f)?;
                        // SAFETY: key functions are projections, defined with the `ProjFn`
                        // signature; the code outlives the run.
                        let f = unsafe { std::mem::transmute::<*const u8, ProjFn>(code) };
                        fns.push(rt::KeyFn { f, key_ty: key_ty.clone() });
                    }
                    let op = self.seq_op(kind, fns, name, &block)?;
                    let (input, name, ty, out) = (*input, name.clone(), ty.clone(), out.clone());
                    rt::PNode::Seq { input, name, op, ty, out }
                }
            };
            nodes[at] = Some(node);
        }
        let nodes = nodes.into_iter().flatten().collect();
        // An expression's failure written to the errors stream ends with its location, as
        // the interpreter writes it.
        let sites = self
            .spec
            .sites
            .iter()
            .map(|s| rt::Site {
                stage: String::new(),
                location: if s.located && self.spec.report.has_errors {
                    self.location(s.span)
                } else {
                    String::new()
                },
            })
            .collect();
        Ok(rt::Plan { nodes, sites, params: block })
    }

    fn seq_op(
        &self,
        kind: &SeqSpec,
        keys: Vec<rt::KeyFn>,
        name: &str,
        block: &ParamBlock,
    ) -> Result<rt::SeqOp, Box<Report>> {
        let int = |v: ArgValue| if let ArgValue::Int(n) = v { n } else { 0 };
        let mut keys = keys.into_iter();
        let mut key = || keys.next().ok_or_else(|| Box::new(ice("a key function is missing")));
        Ok(match kind {
            SeqSpec::Take(n) => rt::SeqOp::Take(int(self.arg(n, name, block)?)),
            SeqSpec::Skip(n) => rt::SeqOp::Skip(int(self.arg(n, name, block)?)),
            SeqSpec::Enumerate => rt::SeqOp::Enumerate,
            SeqSpec::Batch(n, span) => {
                let k = int(self.arg(n, name, block)?);
                if k < 1 {
                    let m = rt::fail::batch_size(k);
                    return Err(Box::new(match self.node(name) {
                        Some(n) => self.eval_fatal(n, name, "E0606", *span, m, None),
                        None => ice(m),
                    }));
                }
                rt::SeqOp::Batch(usize::try_from(k).unwrap_or(usize::MAX))
            }
            SeqSpec::Distinct => rt::SeqOp::Distinct(key()?),
            SeqSpec::Sort { desc } => {
                let desc = match desc {
                    Some(d) => self.arg(d, name, block)? == ArgValue::Bool(true),
                    None => false,
                };
                rt::SeqOp::Sort { key: key()?, desc }
            }
            SeqSpec::Join { right, outer, right_ty } => rt::SeqOp::Join {
                right: *right,
                left_key: key()?,
                right_key: key()?,
                outer: *outer,
                right_ty: right_ty.clone(),
            },
            SeqSpec::Union { other } => rt::SeqOp::Union { other: *other },
        })
    }

    fn file(&self, span: Span) -> Option<&SourceText> {
        self.sources.files.get(span.file as usize)
    }

    /// `file:line:col` of a span's start.
    pub fn location(&self, span: Span) -> String {
        match self.file(span) {
            Some(f) => {
                let (l, c) = f.line_col(span.start as usize);
                format!("{}:{l}:{c}", f.name)
            }
            None => String::new(),
        }
    }

    /// The node a failure names (a node's shown name, or a part of a fused one).
    fn node(&self, name: &str) -> Option<usize> {
        let nodes = &self.spec.report.nodes;
        nodes
            .iter()
            .position(|n| n.shown == name)
            .or_else(|| nodes.iter().position(|n| n.parts.iter().any(|(p, _)| p == name)))
    }

    /// The diagnostic of a run's failure (`Ok`: the run is over, with this many records
    /// sent to the errors stream).
    pub fn report(&self, result: Result<rt::Summary, rt::Failure>) -> Result<u64, Box<Report>> {
        let nodes = &self.spec.report.nodes;
        match result {
            Ok(s) => Ok(s.errors),
            Err(rt::Failure::Io { node, message }) => {
                let n = self.node(&node);
                let span = n.map(|n| nodes[n].span).unwrap_or_default();
                let mut r = Report::error("E0608", span, message);
                if let Some(n) = n {
                    // The interpreter's labels for the same failures.
                    r = r.label(match nodes[n].role {
                        Role::Source => format!("source `{node}`"),
                        Role::Sink => "this sink".to_string(),
                        _ if node.is_empty() => "here".to_string(),
                        Role::Other => format!("`{node}`"),
                    });
                }
                Err(Box::new(r))
            }
            Err(rt::Failure::Record { site, node, source, line, raw, message }) => {
                let Some(n) = self.node(&node) else {
                    return Err(Box::new(ice(format!(
                        "a failure in unknown node `{node}`: {message}"
                    ))));
                };
                let at = Some((source.as_str(), line, raw.as_str()));
                match site.and_then(|s| self.spec.sites.get(s as usize)) {
                    None if nodes[n].role == Role::Source => {
                        Err(Box::new(self.read_fatal(n, &source, line, &raw, &message)))
                    }
                    None => {
                        // A failure of the executor itself: an int aggregate that overflows
                        // is the user's E0600; anything else is an internal error.
                        let code =
                            if message.starts_with("integer overflow") { "E0600" } else { "E0611" };
                        let span = nodes[n].span;
                        Err(Box::new(self.eval_fatal(n, &node, code, span, message, at)))
                    }
                    Some(s) => {
                        // Sites registered while compiling have no message of their own.
                        let msg = if s.message.is_empty() { message } else { s.message.clone() };
                        Err(Box::new(self.eval_fatal(n, &node, &s.code, s.span, msg, at)))
                    }
                }
            }
        }
    }

    /// A record of source `n` that cannot be read, when there is no errors sink.
    fn read_fatal(&self, n: usize, source: &str, line: u64, raw: &str, message: &str) -> Report {
        let node = &self.spec.report.nodes[n];
        read_report(&node.name, node.span, source, line, raw, message)
    }

    /// An expression (`code`, `span`, `message`) of stage `stage` (node `n`, or a part of
    /// it) that failed on the record `at`, or before the stage started (`None`).
    fn eval_fatal(
        &self,
        n: usize,
        stage: &str,
        code: &str,
        span: Span,
        message: String,
        at: Option<(&str, u64, &str)>,
    ) -> Report {
        let node = &self.spec.report.nodes[n];
        let (stage, within) = match node.parts.iter().find(|(p, _)| p == stage) {
            Some((p, s)) => (p.as_str(), *s),
            None => (node.shown.as_str(), node.span),
        };
        let has_errors = self.spec.report.has_errors;
        eval_report(stage, within, code, span, message, at, has_errors)
    }
}

/// A record of source `name` (declared at `span`) that cannot be read, when there is no
/// errors sink: the words of both engines.
pub fn read_report(
    name: &str,
    span: Span,
    source: &str,
    line: u64,
    raw: &str,
    message: &str,
) -> Report {
    let what = input_name(source);
    Report::error("E0607", span, format!("cannot read line {line} of {what}: {message}"))
        .label(format!("source `{name}`"))
        .help(format!("the line is: {}\n{ERRORS_HELP}", crate::textdef::shorten(raw)))
}

/// An expression (`code`, `span`, `message`) of stage `stage` declared at `within` that
/// failed on the record `at` = (source, line, raw), or before the stage started (`None`),
/// in a program with or without an errors stream: the words of both engines.
pub fn eval_report(
    stage: &str,
    within: Span,
    code: &str,
    span: Span,
    message: String,
    at: Option<(&str, u64, &str)>,
    has_errors: bool,
) -> Report {
    let errors_help = if has_errors { ERRORS_LOOP_HELP } else { ERRORS_HELP };
    let mut r = Report::error(code, span, message);
    let inside = within.file == span.file && within.start <= span.start && span.end <= within.end;
    match at {
        // The row `aggregate` gives over an empty stream comes from no record.
        Some(("", 0, "")) => {
            let what = "the row `aggregate` gives for an empty stream";
            r = r.label(format!("failed on {what}"));
            if !inside {
                r = r.secondary(within, format!("in stage `{stage}`"));
            }
            r.help(format!("stage `{stage}` failed on {what}\n{errors_help}"))
        }
        Some((source, line, raw)) => {
            let what = input_name(source);
            r = r.label(format!("failed on line {line} of {what}"));
            if !inside {
                r = r.secondary(within, format!("in stage `{stage}`"));
            }
            r.help(format!(
                "stage `{stage}` failed on line {line} of {what}: {}\n{errors_help}",
                crate::textdef::shorten(raw)
            ))
        }
        None => r.label(format!("failed before stage `{stage}` could start")),
    }
}

/// The help of a fatal record failure in a program without an errors stream.
pub const ERRORS_HELP: &str = "to send failing records to a file and keep going, add `sink errors -> jsonl(\"errors.jsonl\")`";

/// For a failure in a program that has an errors stream: a row read from it, or released
/// once it has ended (docs/run.md, "Record errors").
pub const ERRORS_LOOP_HELP: &str = "this failure cannot go to the errors stream (the row comes from it, or the stream has ended), so it stops the run";

fn input_name(source: &str) -> String {
    if source == "-" { "standard input".to_string() } else { source.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    #[test]
    fn an_agents_cpu_cores_caps_the_threads_inside_it() {
        for cap in [1, 2] {
            let (inside, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let (i, m) = (inside.clone(), most.clone());
            let f: AgentFn = Arc::new(move |_: &[f32], _: &mut [f32], _: usize| {
                let now = i.fetch_add(1, SeqCst) + 1;
                m.fetch_max(now, SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                i.fetch_sub(1, SeqCst);
                true
            });
            let f = limit_threads(f, Some(cap));
            let barrier = Arc::new(std::sync::Barrier::new(4));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (f, b) = (f.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        b.wait();
                        f(&[], &mut [], 0)
                    })
                })
                .collect();
            assert!(threads.into_iter().all(|t| t.join().unwrap()));
            let most = most.load(SeqCst);
            assert!((1..=cap as usize).contains(&most), "cap {cap}: {most} at once");
        }
    }
}
