//! The IR graph to the runtime's plan: every stage's operator chain is cut at its
//! stateful operators into fused stateless runs (one compiled stage function each),
//! aggregation nodes (`group_by` / `aggregate`, one compiled projection each) and
//! order-dependent nodes (`take`, `skip`, `enumerate`, `batch`, `distinct`, `sort_by`,
//! `join`, `left_join`, `union`; compiled key functions). Graphs with values the compiled
//! executor cannot hold in a stream are refused, and `kiln run` uses the interpreter for
//! them (docs/run.md).

use super::layout::desc;
use super::module::Shared;
use super::stage::{define_proj, define_stage};
use crate::check::hir::{SinkFormat, SourceFormat};
use crate::check::types::{Field, Ty};
use crate::diag::render::human::span;
use crate::ir::{Agg, AggKind, NodeKind, Op, Pipeline, RowFn};
use crate::source::SourceMap;
use cranelift_module::Module;
use kiln_runtime::exec as rt;
use kiln_runtime::program::{NodeSpec, SeqSpec, SourceSpec};
use petgraph::stable_graph::NodeIndex;
use std::collections::HashMap;
use std::rc::Rc;

/// What the plan builder produced.
pub struct Built {
    pub nodes: Vec<NodeSpec>,
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
    let mut nodes: Vec<NodeSpec> = Vec::new();
    // The plan index of each IR node's output.
    let mut out_of: HashMap<NodeIndex, usize> = HashMap::new();
    for n in order {
        let node = &p.graph[n];
        let name = crate::failure::stage_name(p, map, n);
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
                    SourceFormat::Jsonl => SourceSpec::Jsonl,
                    SourceFormat::Csv => SourceSpec::Csv,
                    SourceFormat::Lines => SourceSpec::Lines,
                    SourceFormat::Range => SourceSpec::Range(arg(0)?, arg(1)?),
                };
                let path = match (format, args.first()) {
                    (SourceFormat::Range, _) | (_, None) => None,
                    (_, Some(e)) => {
                        Some(super::args::path(sh, map, &format!("path{id}"), e).map_err(ice)?)
                    }
                };
                let unread = unread.clone();
                nodes.push(NodeSpec::Source { kind, unread, path, ty: td(&node.elem), name });
            }
            NodeKind::Errors => nodes.push(NodeSpec::Errors),
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
                nodes.push(NodeSpec::Sink { input, format, path, ty: td(&node.elem), name });
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
                             nodes: &mut Vec<NodeSpec>,
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
                    let f = sh.fn_ref(f);
                    nodes.push(NodeSpec::Stage { input, name, f, out, parts });
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
                            if !sh.agent_loaded(*agent) {
                                return Err(ice(format!("agent {agent} is not loaded")));
                            }
                            nodes.push(NodeSpec::Agent {
                                input: cur,
                                name: name.clone(),
                                field: offset,
                                k: *inputs as usize,
                                m: *outputs as usize,
                                agent: *agent,
                                out: td(&next),
                            });
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
                            let proj = sh.fn_ref(proj);
                            nodes.push(NodeSpec::Group {
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
                            nodes.push(NodeSpec::Seq {
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
    Ok(Built { nodes })
}

type SeqParts = (SeqSpec, Vec<(u32, kiln_runtime::layout::TypeDesc)>, Ty);

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
        let id = sh.fn_ref(id);
        keys.push((id, td(f.ret())));
        Ok::<(), Box<crate::diag::Diagnostic>>(())
    };
    let (kind, out) = match op {
        Op::Take(e) => (SeqSpec::Take(arg(sh, e)?), ty.clone()),
        Op::Skip(e) => (SeqSpec::Skip(arg(sh, e)?), ty.clone()),
        Op::Batch(e) => (SeqSpec::Batch(arg(sh, e)?, span(e.span)), Ty::list(ty.clone())),
        Op::Enumerate => {
            (SeqSpec::Enumerate, Ty::record(vec![("index", Ty::Int), ("item", ty.clone())]))
        }
        Op::Distinct(k) => {
            key(sh, k, ty)?;
            (SeqSpec::Distinct, ty.clone())
        }
        Op::SortBy { key: k, desc } => {
            let desc = match desc {
                Some(d) => Some(arg(sh, d)?),
                None => None,
            };
            key(sh, k, ty)?;
            (SeqSpec::Sort { desc }, ty.clone())
        }
        Op::Join { right, left_key, right_key, outer } => {
            let Some(&r) = out_of.get(right) else {
                return Err(ice("the right side of a join is not built".into()));
            };
            let rty = p.graph[*right].elem.clone();
            key(sh, left_key, ty)?;
            key(sh, right_key, &rty)?;
            let right_out = if *outer { Ty::optional(rty.clone()) } else { rty.clone() };
            let kind = SeqSpec::Join { right: r, outer: *outer, right_ty: td(&rty) };
            (kind, Ty::record(vec![("left", ty.clone()), ("right", right_out)]))
        }
        Op::Union { other } => {
            let Some(&o) = out_of.get(other) else {
                return Err(ice("the other side of a union is not built".into()));
            };
            (SeqSpec::Union { other: o }, ty.clone())
        }
        other => return Err(ice(unsupported(other))),
    };
    Ok((kind, keys, out))
}
