//! Fusion of stateless chains across stage boundaries: a stage `a` whose operators are all
//! stateless (`map`, `filter`, `flat_map`) and whose only reader is stage `b` (as `b`'s
//! input) is merged into `b`, so code generation runs `a`'s and `b`'s operators in one
//! compiled loop with no row handed between them.
//!
//! Nothing a user sees changes: the merged node records where each stage's operators
//! start (`ir::Part`), so a failure is still reported as the stage's whose operator
//! failed (its name in error records, its span in diagnostics). Only stages next to each
//! other in the plan order are merged, so the order in which one record's failures are
//! reported (docs/run.md, "Order of failures") stays that of the unfused graph.

use super::Pass;
use crate::ir::{NodeKind, Part, Pipeline};
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;

pub static PASS: Pass = Pass {
    name: "fuse",
    doc: "merge a stateless stage into the one stage that reads it",
    required: false,
    run,
};

fn run(p: &mut Pipeline) -> bool {
    let mut changed = false;
    while let Some((a, b)) = candidate(p) {
        merge(p, a, b);
        changed = true;
    }
    changed
}

/// A pair `(a, b)`: `a` is fused into `b`.
fn candidate(p: &Pipeline) -> Option<(NodeIndex, NodeIndex)> {
    let order = p.plan_order();
    order.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        let NodeKind::Stage { ops, .. } = &p.graph[a].kind else { return None };
        if ops.is_empty() || !ops.iter().all(|o| o.is_stateless()) {
            return None;
        }
        let NodeKind::Stage { input, .. } = &p.graph[b].kind else { return None };
        let mut out = p.graph.edges_directed(a, Direction::Outgoing);
        let only = out.next()?;
        let single = out.next().is_none() && only.target() == b && *only.weight() == 0;
        (single && *input == a).then_some((a, b))
    })
}

fn merge(p: &mut Pipeline, a: NodeIndex, b: NodeIndex) {
    let NodeKind::Stage { input: a_input, ops: a_ops } = p.graph[a].kind.clone() else { return };
    let a_node = &p.graph[a];
    let mut parts = if a_node.parts.is_empty() {
        vec![Part { first_op: 0, name: a_node.name.clone(), span: a_node.span }]
    } else {
        a_node.parts.clone()
    };
    let shift = a_ops.len();
    let b_node = &p.graph[b];
    if b_node.parts.is_empty() {
        parts.push(Part { first_op: shift, name: b_node.name.clone(), span: b_node.span });
    } else {
        parts.extend(
            b_node.parts.iter().map(|q| Part { first_op: q.first_op + shift, ..q.clone() }),
        );
    }
    p.graph.remove_node(a);
    p.graph.add_edge(a_input, b, 0);
    let node = &mut p.graph[b];
    node.parts = parts;
    if let NodeKind::Stage { input, ops } = &mut node.kind {
        *input = a_input;
        let mut all = a_ops;
        all.append(ops);
        *ops = all;
    }
}
