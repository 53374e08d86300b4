//! Projection pushdown into the decoders: the top-level fields of a `jsonl` source's
//! records that nothing reads are marked `unread` on the source node. The decoder still
//! decodes and checks them (a value of the wrong type is the record's error, as the
//! declared type says), but does not store them: the row holds an empty value, so an
//! operator that keeps rows (`sort_by`, `distinct`, a join's sides, `collect`) copies
//! nothing of them.
//!
//! What counts as reading is decided conservatively: a row function that reads `r.f`
//! reads `f`; one that uses `r` any other way (passes it to a function, compares it,
//! returns it) reads everything, and so does a sink, `enumerate`, `batch`, `union`, a join
//! or an agent that takes the record whole. Operators that pass the record on unchanged
//! (`filter`, `take`, `skip`, `distinct`, `sort_by`) are followed to the stages and sinks
//! downstream.

use super::Pass;
use crate::check::hir::{SourceFormat, TExpr, TExprKind, children};
use crate::check::types::Ty;
use crate::ir::{NodeKind, Op, Pipeline, RowFn};
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;

pub static PASS: Pass = Pass {
    name: "pushdown",
    doc: "decode but do not store the source fields nothing reads",
    required: false,
    run,
};

fn run(p: &mut Pipeline) -> bool {
    let mut changed = false;
    let sources: Vec<NodeIndex> = p.graph.node_indices().collect();
    for s in sources {
        let node = &p.graph[s];
        let (NodeKind::Source { format: SourceFormat::Jsonl, .. }, Ty::Record(fields)) =
            (&node.kind, &node.elem)
        else {
            continue;
        };
        let mut used = vec![false; fields.len()];
        downstream(p, s, &mut used);
        let unread: Vec<usize> = (0..used.len()).filter(|&i| !used[i]).collect();
        if let NodeKind::Source { unread: u, .. } = &mut p.graph[s].kind
            && *u != unread
        {
            *u = unread;
            changed = true;
        }
    }
    changed
}

/// The record leaves node `n` unchanged: mark what its readers read.
fn downstream(p: &Pipeline, n: NodeIndex, used: &mut [bool]) {
    let readers: Vec<(NodeIndex, usize)> =
        p.graph.edges_directed(n, Direction::Outgoing).map(|e| (e.target(), *e.weight())).collect();
    for (t, weight) in readers {
        match &p.graph[t].kind {
            NodeKind::Stage { ops, .. } if weight == 0 => chain(p, t, ops, used),
            // A sink, or the second stream of a join or union: the whole record.
            _ => used.fill(true),
        }
    }
}

/// The record enters the operators `ops` of stage `n`.
fn chain(p: &Pipeline, n: NodeIndex, ops: &[Op], used: &mut [bool]) {
    for op in ops {
        match op {
            Op::Map(f) | Op::FlatMap(f) => return row_fn(f, used),
            Op::Filter(f) | Op::Distinct(f) => row_fn(f, used),
            Op::SortBy { key, .. } => row_fn(key, used),
            Op::Take(_) | Op::Skip(_) => {}
            Op::GroupBy { key, aggs } => {
                row_fn(key, used);
                aggs.iter().filter_map(|a| a.arg.as_ref()).for_each(|f| row_fn(f, used));
                return;
            }
            Op::Aggregate { aggs } => {
                aggs.iter().filter_map(|a| a.arg.as_ref()).for_each(|f| row_fn(f, used));
                return;
            }
            Op::Enumerate
            | Op::Batch(_)
            | Op::Union { .. }
            | Op::Join { .. }
            | Op::Agent { .. } => {
                used.fill(true);
                return;
            }
        }
    }
    downstream(p, n, used);
}

/// What `f` reads of its parameter, a record.
fn row_fn(f: &RowFn, used: &mut [bool]) {
    reads(&f.body, f, used);
}

fn reads(e: &TExpr, f: &RowFn, used: &mut [bool]) {
    match &e.kind {
        TExprKind::Field(inner, i) if matches!(inner.kind, TExprKind::Local(id) if id == f.param) => {
            if let Some(u) = used.get_mut(*i) {
                *u = true;
            }
        }
        TExprKind::Local(id) if *id == f.param => used.fill(true),
        _ => children(e, &mut |c| reads(c, f, used)),
    }
}
