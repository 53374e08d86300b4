//! The IR graph to the runtime's plan: every stage's operator chain is cut at its
//! stateful operators into fused stateless runs (one compiled stage function each),
//! aggregation nodes (`group_by` / `aggregate`, one compiled projection each) and
//! order-dependent nodes (`take`, `skip`, `enumerate`, `batch`, `distinct`, `sort_by`,
//! `join`, `left_join`, `union`; compiled key functions). Graphs with values the compiled
//! executor cannot hold in a stream are refused, and `kiln run` uses the interpreter for
//! them (docs/run.md).

use super::args::{Arg, PathArg};
use super::layout::desc;
use super::module::Shared;
use super::stage::{define_proj, define_stage};
use crate::check::hir::{SinkFormat, SourceFormat};
use crate::check::types::{Field, Ty};
use crate::ir::{Agg, AggKind, NodeKind, Op, Pipeline, RowFn};
use crate::source::SourceMap;
use cranelift_module::{FuncId, Module};
use kiln_runtime::exec as rt;
use kiln_runtime::exec::arg::ArgValue;
use petgraph::stable_graph::NodeIndex;
use std::collections::HashMap;
use std::rc::Rc;

/// A plan node whose functions are still Cranelift ids (resolved after finalizing) and
/// whose arguments are computed when the program runs ([`Arg`]).
pub enum Pending {
    Ready(rt::PNode),
    Source {
        kind: SrcKind,
        unread: Vec<usize>,
        /// Absent for `range`.
        path: Option<PathArg>,
        ty: kiln_runtime::layout::TypeDesc,
        name: String,
    },
    Sink {
        input: usize,
        format: rt::SinkFormat,
        /// Absent for `stdout()` and `discard()`.
        path: Option<PathArg>,
        ty: kiln_runtime::layout::TypeDesc,
        name: String,
    },
    Stage {
        input: usize,
        name: String,
        f: FuncId,
        out: kiln_runtime::layout::TypeDesc,
        /// `(first operator of the function, stage name)` when it runs several stages'.
        parts: Vec<(u32, String)>,
    },
    Group {
        input: usize,
        name: String,
        proj: FuncId,
        proj_ty: kiln_runtime::layout::TypeDesc,
        aggs: Vec<rt::AggSpec>,
        out: kiln_runtime::layout::TypeDesc,
        keyed: bool,
        /// The first of the node's failure sites, one per aggregate (an int `sum` whose
        /// total does not fit in `int`).
        site: u32,
        any_arg: bool,
    },
    Seq {
        input: usize,
        name: String,
        kind: SeqKind,
        /// Key functions (`{key: K}` projections) and each key's type `K`.
        keys: Vec<(FuncId, kiln_runtime::layout::TypeDesc)>,
        ty: kiln_runtime::layout::TypeDesc,
        out: kiln_runtime::layout::TypeDesc,
    },
}

/// A source's kind; `range` bounds are arguments.
pub enum SrcKind {
    Jsonl,
    Csv,
    Lines,
    Range(Arg, Arg),
}

/// An order-dependent operator whose key functions are not compiled yet.
pub enum SeqKind {
    Take(Arg),
    Skip(Arg),
    Enumerate,
    /// The size, and its span (a size below 1 fails the run before the stage starts).
    Batch(Arg, crate::source::Span),
    Distinct,
    Sort {
        desc: Option<Arg>,
    },
    Join {
        right: usize,
        outer: bool,
        right_ty: kiln_runtime::layout::TypeDesc,
    },
    Union {
        other: usize,
    },
}

impl SeqKind {
    /// The runtime operator, given the compiled key functions (in the order `build`
    /// listed them) and the values of its arguments (`value`); `None`: a key function
    /// is missing.
    pub fn finish<E>(
        self,
        keys: Vec<rt::KeyFn>,
        value: &mut dyn FnMut(&Arg) -> Result<ArgValue, E>,
        batch_size: &mut dyn FnMut(i64, crate::source::Span) -> Result<usize, E>,
    ) -> Result<Option<rt::SeqOp>, E> {
        let int = |v: ArgValue| if let ArgValue::Int(n) = v { n } else { 0 };
        let mut keys = keys.into_iter();
        Ok(Some(match self {
            SeqKind::Take(n) => rt::SeqOp::Take(int(value(&n)?)),
            SeqKind::Skip(n) => rt::SeqOp::Skip(int(value(&n)?)),
            SeqKind::Enumerate => rt::SeqOp::Enumerate,
            SeqKind::Batch(n, span) => rt::SeqOp::Batch(batch_size(int(value(&n)?), span)?),
            SeqKind::Distinct => {
                let Some(k) = keys.next() else { return Ok(None) };
                rt::SeqOp::Distinct(k)
            }
            SeqKind::Sort { desc } => {
                let desc = match desc {
                    Some(d) => value(&d)? == ArgValue::Bool(true),
                    None => false,
                };
                let Some(key) = keys.next() else { return Ok(None) };
                rt::SeqOp::Sort { key, desc }
            }
            SeqKind::Join { right, outer, right_ty } => {
                let (Some(left_key), Some(right_key)) = (keys.next(), keys.next()) else {
                    return Ok(None);
                };
                rt::SeqOp::Join { right, left_key, right_key, outer, right_ty }
            }
            SeqKind::Union { other } => rt::SeqOp::Union { other },
        }))
    }
}

/// What the plan builder produced, besides the nodes.
pub struct Built {
    pub nodes: Vec<Pending>,
    /// The IR node behind each plan node name (for reporting failures).
    pub names: HashMap<String, NodeIndex>,
}

fn unsupported(op: &Op) -> String {
    format!("the compiled executor does not run this `{}` yet", op.name())
}

/// Checks that every node and operator of `p` is one the compiled executor runs.
pub fn supported(p: &Pipeline) -> Result<(), String> {
    for n in p.graph.node_indices() {
        if let NodeKind::Stage { ops, input } = &p.graph[n].kind {
            let mut elem = p.graph[*input].elem.clone();
            for op in ops {
                let ok = match op {
                    Op::Map(f) | Op::Filter(f) => {
                        desc(f.ret()).is_some() || matches!(op, Op::Filter(_))
                    }
                    Op::FlatMap(f) => matches!(f.ret(), Ty::List(t) if desc(t).is_some()),
                    Op::GroupBy { key, aggs } => desc(key.ret()).is_some() && aggs_ok(aggs),
                    Op::Aggregate { aggs } => aggs_ok(aggs),
                    Op::Distinct(k) | Op::SortBy { key: k, .. } => desc(k.ret()).is_some(),
                    Op::Join { left_key, right_key, .. } => {
                        desc(left_key.ret()).is_some() && desc(right_key.ret()).is_some()
                    }
                    // Both streams must have one layout (no conversion of the second).
                    Op::Union { other } => desc(&p.graph[*other].elem) == desc(&elem),
                    Op::Take(_) | Op::Skip(_) | Op::Batch(_) | Op::Enumerate => true,
                    Op::Agent { .. } => true,
                };
                if !ok {
                    return Err(unsupported(op));
                }
                elem = crate::ir::verify::op_output(p, op, &elem)?;
            }
        }
        if desc(&p.graph[n].elem).is_none() && !matches!(p.graph[n].kind, NodeKind::Errors) {
            return Err(format!("values of type `{}` in a stream", p.graph[n].elem));
        }
    }
    Ok(())
}

fn aggs_ok(aggs: &[Agg]) -> bool {
    aggs.iter()
        .all(|a| desc(&a.ty).is_some() && a.arg.as_ref().is_none_or(|f| desc(f.ret()).is_some()))
}

/// A fused run's input type is the element type where the run starts.
fn start_run(run: &[(usize, Op)], run_ty: &mut Ty, ty: &Ty) {
    if run.is_empty() {
        *run_ty = ty.clone();
    }
}

fn agg_kind(k: AggKind) -> rt::AggKind {
    match k {
        AggKind::Count => rt::AggKind::Count,
        AggKind::Sum => rt::AggKind::Sum,
        AggKind::Mean => rt::AggKind::Mean,
        AggKind::Min => rt::AggKind::Min,
        AggKind::Max => rt::AggKind::Max,
        AggKind::First => rt::AggKind::First,
        AggKind::Last => rt::AggKind::Last,
        AggKind::Collect => rt::AggKind::Collect,
    }
}

fn td(ty: &Ty) -> kiln_runtime::layout::TypeDesc {
    desc(ty).unwrap_or(kiln_runtime::layout::TypeDesc::Int)
}

/// Builds the plan nodes of `p`, compiling their functions into `sh`.
pub fn build<M: Module>(
    p: &Pipeline,
    map: &SourceMap,
    sh: &mut Shared<'_, '_, M>,
) -> Result<Built, Box<crate::diag::Diagnostic>> {
    let order = p.plan_order();
    let mut nodes: Vec<Pending> = Vec::new();
    let mut names = HashMap::new();
    // The plan index of each IR node's output.
    let mut out_of: HashMap<NodeIndex, usize> = HashMap::new();
    for n in order {
        let node = &p.graph[n];
        let name = crate::failure::stage_name(p, map, n);
        names.insert(name.clone(), n);
        for part in &node.parts {
            names.insert(crate::failure::shown_name(map, &part.name, part.span), n);
        }
        let ice = |e: String| {
            Box::new(crate::diag::Diagnostic::new(crate::diag::codes::E0611, node.span, e))
        };
        let id = nodes.len();
        match &node.kind {
            NodeKind::Source { format, args, unread } => {
                let mut arg = |i: usize| {
                    let e =
                        args.get(i).ok_or_else(|| ice("a source argument is missing".into()))?;
                    super::args::arg(sh, &format!("arg{id}_{i}"), e).map_err(ice)
                };
                let kind = match format {
                    SourceFormat::Jsonl => SrcKind::Jsonl,
                    SourceFormat::Csv => SrcKind::Csv,
                    SourceFormat::Lines => SrcKind::Lines,
                    SourceFormat::Range => SrcKind::Range(arg(0)?, arg(1)?),
                };
                let path = match (format, args.first()) {
                    (SourceFormat::Range, _) | (_, None) => None,
                    (_, Some(e)) => {
                        Some(super::args::path(sh, map, &format!("path{id}"), e).map_err(ice)?)
                    }
                };
                let unread = unread.clone();
                nodes.push(Pending::Source { kind, unread, path, ty: td(&node.elem), name });
            }
            NodeKind::Errors => nodes.push(Pending::Ready(rt::PNode::Errors)),
            NodeKind::Sink { input, format, path } => {
                let Some(&input) = out_of.get(input) else { continue };
                let format = match format {
                    SinkFormat::Jsonl => rt::SinkFormat::Jsonl,
                    SinkFormat::Csv => rt::SinkFormat::Csv,
                    SinkFormat::Lines => rt::SinkFormat::Lines,
                    SinkFormat::Stdout => rt::SinkFormat::Stdout,
                    SinkFormat::Discard => rt::SinkFormat::Discard,
                };
                let path = match (format, path) {
                    (rt::SinkFormat::Stdout | rt::SinkFormat::Discard, _) | (_, None) => None,
                    (_, Some(e)) => {
                        Some(super::args::path(sh, map, &format!("path{id}"), e).map_err(ice)?)
                    }
                };
                nodes.push(Pending::Sink { input, format, path, ty: td(&node.elem), name });
            }
            NodeKind::Stage { input, ops } => {
                let Some(&start) = out_of.get(input) else { continue };
                let mut cur = start;
                let mut ty = p.graph[*input].elem.clone();
                // The run of stateless operators being gathered, each with its index in
                // the node's chain (which tells the stage it came from, see `fuse`).
                let mut run: Vec<(usize, Op)> = Vec::new();
                let mut run_ty = ty.clone();
                let flush = |run: &mut Vec<(usize, Op)>,
                             run_ty: &Ty,
                             ty: &Ty,
                             cur: &mut usize,
                             nodes: &mut Vec<Pending>,
                             sh: &mut Shared<'_, '_, M>|
                 -> Result<(), Box<crate::diag::Diagnostic>> {
                    if run.is_empty() {
                        return Ok(());
                    }
                    let chain: Vec<Op> = run.iter().map(|(_, o)| o.clone()).collect();
                    let f = define_stage(sh, &format!("stage{}", nodes.len()), run_ty, &chain)
                        .map_err(ice)?;
                    let mut parts: Vec<(u32, String)> = Vec::new();
                    if !node.parts.is_empty() {
                        for (j, (k, _)) in run.iter().enumerate() {
                            let (part, span) = node.part_of(*k);
                            let shown = crate::failure::shown_name(map, part, span);
                            if parts.last().is_none_or(|(_, s)| *s != shown) {
                                parts.push((j as u32, shown));
                            }
                        }
                    }
                    let (input, name, out) = (*cur, name.clone(), td(ty));
                    nodes.push(Pending::Stage { input, name, f, out, parts });
                    *cur = nodes.len() - 1;
                    run.clear();
                    Ok(())
                };
                for (k, op) in ops.iter().enumerate() {
                    match op {
                        Op::Agent { agent, field, inputs, outputs } => {
                            // An agent over many rows at once (the `batch` pass).
                            flush(&mut run, &run_ty, &ty, &mut cur, &mut nodes, sh)?;
                            let next = crate::ir::verify::op_output(p, op, &ty).map_err(ice)?;
                            let offset = td(&ty).field_offsets()[*field];
                            let layers = sh
                                .agent_layers(*agent)
                                .ok_or_else(|| ice(format!("agent {agent} is not loaded")))?;
                            let forward: rt::AgentFn =
                                std::sync::Arc::new(move |x: &[f32], y: &mut [f32], n: usize| {
                                    let out = crate::agent::net::forward_rows(&layers, x, n);
                                    let ok = out.len() == y.len();
                                    if ok {
                                        y.copy_from_slice(&out);
                                    }
                                    ok
                                });
                            let threads = p.agents.get(*agent).and_then(|a| a.threads);
                            nodes.push(Pending::Ready(rt::PNode::Agent {
                                input: cur,
                                name: name.clone(),
                                field: offset,
                                k: *inputs as usize,
                                m: *outputs as usize,
                                forward: limit_threads(forward, threads),
                                out: td(&next),
                            }));
                            cur = nodes.len() - 1;
                            ty = next;
                        }
                        Op::Map(f) => {
                            start_run(&run, &mut run_ty, &ty);
                            run.push((k, op.clone()));
                            ty = f.ret().clone();
                        }
                        Op::Filter(_) => {
                            start_run(&run, &mut run_ty, &ty);
                            run.push((k, op.clone()));
                        }
                        Op::FlatMap(f) => {
                            start_run(&run, &mut run_ty, &ty);
                            run.push((k, op.clone()));
                            if let Ty::List(t) = f.ret() {
                                ty = (**t).clone();
                            }
                        }
                        Op::GroupBy { aggs, .. } | Op::Aggregate { aggs } => {
                            flush(&mut run, &run_ty, &ty, &mut cur, &mut nodes, sh)?;
                            let keyf =
                                if let Op::GroupBy { key, .. } = op { Some(key) } else { None };
                            let mut fns: Vec<&RowFn> = Vec::new();
                            let mut pfields = Vec::new();
                            let mut ofields = Vec::new();
                            if let Some(k) = keyf {
                                fns.push(k);
                                pfields.push(Field { name: Rc::from("key"), ty: k.ret().clone() });
                                ofields.push(Field { name: Rc::from("key"), ty: k.ret().clone() });
                            }
                            let mut specs = Vec::new();
                            for a in aggs {
                                let field = a.arg.as_ref().map(|f| {
                                    fns.push(f);
                                    pfields.push(Field {
                                        name: Rc::from(format!("a{}", pfields.len())),
                                        ty: f.ret().clone(),
                                    });
                                    pfields.len() - 1
                                });
                                specs.push(rt::AggSpec {
                                    kind: agg_kind(a.kind),
                                    field,
                                    out: td(&a.ty),
                                });
                                ofields.push(Field { name: a.name.clone(), ty: a.ty.clone() });
                            }
                            let proj_ty = Ty::Record(Rc::from(pfields));
                            let out_ty = Ty::Record(Rc::from(ofields));
                            let any_arg = !fns.is_empty();
                            let proj = define_proj(
                                sh,
                                &format!("proj{}", nodes.len()),
                                &ty,
                                &fns,
                                &proj_ty,
                            )
                            .map_err(ice)?;
                            // One failure site per aggregate, registered back to back.
                            let mut site = u32::MAX;
                            for a in aggs {
                                let span = a.arg.as_ref().map_or(p.graph[n].span, |f| f.body.span);
                                let id = sh.cx.site(crate::codegen::context::FailSite {
                                    code: crate::diag::codes::E0600,
                                    span,
                                    message: String::new(),
                                    located: false,
                                });
                                site = site.min(id);
                            }
                            nodes.push(Pending::Group {
                                input: cur,
                                name: name.clone(),
                                proj,
                                proj_ty: td(&proj_ty),
                                aggs: specs,
                                out: td(&out_ty),
                                keyed: keyf.is_some(),
                                any_arg,
                                site,
                            });
                            cur = nodes.len() - 1;
                            ty = out_ty;
                        }
                        other => {
                            flush(&mut run, &run_ty, &ty, &mut cur, &mut nodes, sh)?;
                            let (kind, keys, out_ty) =
                                seq_node(p, n, nodes.len(), other, &ty, &out_of, sh)?;
                            nodes.push(Pending::Seq {
                                input: cur,
                                name: name.clone(),
                                kind,
                                keys,
                                ty: td(&ty),
                                out: td(&out_ty),
                            });
                            cur = nodes.len() - 1;
                            ty = out_ty;
                        }
                    }
                }
                flush(&mut run, &run_ty, &ty, &mut cur, &mut nodes, sh)?;
                out_of.insert(n, cur);
                continue;
            }
        }
        out_of.insert(n, nodes.len() - 1);
    }
    Ok(Built { nodes, names })
}

type SeqParts = (SeqKind, Vec<(FuncId, kiln_runtime::layout::TypeDesc)>, Ty);

/// An order-dependent operator of stage `n` over elements of `ty`: its kind, compiled key
/// functions and output element type. `id` (the index the node gets in the plan) names
/// its key functions, so several keyed operators of one stage get distinct names.
fn seq_node<M: Module>(
    p: &Pipeline,
    n: NodeIndex,
    id: usize,
    op: &Op,
    ty: &Ty,
    out_of: &HashMap<NodeIndex, usize>,
    sh: &mut Shared<'_, '_, M>,
) -> Result<SeqParts, Box<crate::diag::Diagnostic>> {
    let node = &p.graph[n];
    let ice =
        |e: String| Box::new(crate::diag::Diagnostic::new(crate::diag::codes::E0611, node.span, e));
    let arg = |sh: &mut Shared<'_, '_, M>, e: &crate::check::hir::TExpr| {
        super::args::arg(sh, &format!("arg{id}"), e).map_err(ice)
    };
    let mut keys = Vec::new();
    let mut key = |sh: &mut Shared<'_, '_, M>, f: &RowFn, elem: &Ty| {
        let kty = Ty::Record(Rc::from(vec![Field { name: Rc::from("key"), ty: f.ret().clone() }]));
        let name = format!("key{id}_{}", keys.len());
        let id = define_proj(sh, &name, elem, &[f], &kty).map_err(&ice)?;
        keys.push((id, td(f.ret())));
        Ok::<(), Box<crate::diag::Diagnostic>>(())
    };
    let (kind, out) = match op {
        Op::Take(e) => (SeqKind::Take(arg(sh, e)?), ty.clone()),
        Op::Skip(e) => (SeqKind::Skip(arg(sh, e)?), ty.clone()),
        Op::Batch(e) => (SeqKind::Batch(arg(sh, e)?, e.span), Ty::list(ty.clone())),
        Op::Enumerate => {
            (SeqKind::Enumerate, Ty::record(vec![("index", Ty::Int), ("item", ty.clone())]))
        }
        Op::Distinct(k) => {
            key(sh, k, ty)?;
            (SeqKind::Distinct, ty.clone())
        }
        Op::SortBy { key: k, desc } => {
            let desc = match desc {
                Some(d) => Some(arg(sh, d)?),
                None => None,
            };
            key(sh, k, ty)?;
            (SeqKind::Sort { desc }, ty.clone())
        }
        Op::Join { right, left_key, right_key, outer } => {
            let Some(&r) = out_of.get(right) else {
                return Err(ice("the right side of a join is not built".into()));
            };
            let rty = p.graph[*right].elem.clone();
            key(sh, left_key, ty)?;
            key(sh, right_key, &rty)?;
            let right_out = if *outer { Ty::optional(rty.clone()) } else { rty.clone() };
            let kind = SeqKind::Join { right: r, outer: *outer, right_ty: td(&rty) };
            (kind, Ty::record(vec![("left", ty.clone()), ("right", right_out)]))
        }
        Op::Union { other } => {
            let Some(&o) = out_of.get(other) else {
                return Err(ice("the other side of a union is not built".into()));
            };
            (SeqKind::Union { other: o }, ty.clone())
        }
        other => return Err(ice(unsupported(other))),
    };
    Ok((kind, keys, out))
}

/// `f`, run by at most `n` threads at once: an agent's `resources.limits.cpu_cores` (whole
/// cores, at least one) caps the workers running its batches together.
pub(super) fn limit_threads(f: rt::AgentFn, n: Option<u32>) -> rt::AgentFn {
    use std::sync::{Arc, Condvar, Mutex};
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    #[test]
    fn an_agents_cpu_cores_caps_the_threads_inside_it() {
        for cap in [1, 2] {
            let (inside, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let (i, m) = (inside.clone(), most.clone());
            let f: rt::AgentFn = Arc::new(move |_: &[f32], _: &mut [f32], _: usize| {
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
