//! Dead-stage elimination (required): a stage that feeds no sink never runs (LANGUAGE.md
//! §1.5; the checker warns, W0001), and neither does an `errors` stream read only by such
//! stages. Lowering keeps every declaration; this pass removes the nodes from which no
//! sink can be reached. Sources stay: reading one has effects (its unreadable lines are
//! record errors) whatever reads it.

use super::Pass;
use crate::ir::{NodeKind, Pipeline};
use petgraph::Direction;
use std::collections::HashSet;

pub static PASS: Pass = Pass {
    name: "dead",
    doc: "remove the stages (and errors streams) that feed no sink",
    required: true,
    run,
};

fn run(p: &mut Pipeline) -> bool {
    let mut live: HashSet<_> = p.sinks().collect();
    let mut todo: Vec<_> = live.iter().copied().collect();
    while let Some(n) = todo.pop() {
        for m in p.graph.neighbors_directed(n, Direction::Incoming) {
            if live.insert(m) {
                todo.push(m);
            }
        }
    }
    let dead: Vec<_> = p
        .graph
        .node_indices()
        .filter(|n| !live.contains(n))
        .filter(|&n| matches!(p.graph[n].kind, NodeKind::Stage { .. } | NodeKind::Errors))
        .collect();
    for &n in &dead {
        p.graph.remove_node(n);
    }
    !dead.is_empty()
}
