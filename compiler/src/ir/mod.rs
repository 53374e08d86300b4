//! The IR: a dataflow graph (petgraph) of sources, stages and sinks. Each stage node holds
//! a chain of operators over one input stream; per-element work is a [`RowFn`] whose body
//! is the checker's typed expression tree ([`TExpr`]: plain data with every conversion
//! explicit). Code generation and the reference interpreter both consume this.
//!
//! Invariants (checked by [`verify`]): the graph is acyclic; every stage and sink has
//! exactly one primary input edge, plus one edge per `join`/`union` operand; element types
//! flow: each operator's input type is the previous output type; sinks' element types
//! match their input; row functions take the element type they are applied to.

pub mod lower;
pub mod print;
pub mod verify;

use crate::check::hir::{
    AgentDef, ConstDef, FnDef, LocalId, ParamDef, PromptDef, SinkFormat, SourceFormat, TExpr,
};
use crate::check::types::Ty;
use crate::source::Span;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use std::rc::Rc;

/// A function applied to one element: `param => body`.
#[derive(Clone, Debug)]
pub struct RowFn {
    pub param: LocalId,
    pub param_ty: Ty,
    pub body: TExpr,
}

impl RowFn {
    pub fn ret(&self) -> &Ty {
        &self.body.ty
    }
}

/// One aggregate of `group_by` / `aggregate`.
#[derive(Clone, Debug)]
pub struct Agg {
    pub name: Rc<str>,
    pub kind: AggKind,
    /// The value aggregated (`None` for `count`).
    pub arg: Option<RowFn>,
    /// The output field's type.
    pub ty: Ty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
    Collect,
}

#[derive(Clone, Debug)]
pub enum Op {
    Map(RowFn),
    Filter(RowFn),
    FlatMap(RowFn),
    /// `take(n)` / `skip(n)` / `batch(n)`: `n` is evaluated once, before the stream runs.
    Take(TExpr),
    Skip(TExpr),
    Batch(TExpr),
    Enumerate,
    Distinct(RowFn),
    SortBy {
        key: RowFn,
        desc: Option<TExpr>,
    },
    GroupBy {
        key: RowFn,
        aggs: Vec<Agg>,
    },
    Aggregate {
        aggs: Vec<Agg>,
    },
    /// The right side is the node's input edge with the same index in `Node::inputs`.
    Join {
        right: NodeIndex,
        left_key: RowFn,
        right_key: RowFn,
        outer: bool,
    },
    Union {
        other: NodeIndex,
    },
    /// Added by the `batch` pass (never by lowering): field `field` of each record, a
    /// `vec[inputs]`, is replaced by agent `agent`'s output for it, a `vec[outputs]`. The
    /// compiled executor runs it over many rows at once.
    Agent {
        agent: usize,
        field: usize,
        inputs: u32,
        outputs: u32,
    },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Map(_) => "map",
            Op::Filter(_) => "filter",
            Op::FlatMap(_) => "flat_map",
            Op::Take(_) => "take",
            Op::Skip(_) => "skip",
            Op::Batch(_) => "batch",
            Op::Enumerate => "enumerate",
            Op::Distinct(_) => "distinct",
            Op::SortBy { .. } => "sort_by",
            Op::GroupBy { .. } => "group_by",
            Op::Aggregate { .. } => "aggregate",
            Op::Join { outer: false, .. } => "join",
            Op::Join { outer: true, .. } => "left_join",
            Op::Union { .. } => "union",
            Op::Agent { .. } => "agent",
        }
    }
    /// Stateless operators work element by element and fuse into one loop.
    pub fn is_stateless(&self) -> bool {
        matches!(self, Op::Map(_) | Op::Filter(_) | Op::FlatMap(_))
    }
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Source {
        format: SourceFormat,
        args: Vec<TExpr>,
        /// Top-level fields of a record element that nothing reads (the `pushdown` pass):
        /// decoded and checked, not stored.
        unread: Vec<usize>,
    },
    /// The records that failed (LANGUAGE.md §1.6).
    Errors,
    /// `input |> op |> op ...`; `input` is the primary input node.
    Stage {
        input: NodeIndex,
        ops: Vec<Op>,
    },
    Sink {
        input: NodeIndex,
        format: SinkFormat,
        path: Option<TExpr>,
    },
}

#[derive(Clone, Debug)]
pub struct Node {
    /// The declared name, or a generated one (`map@12:5`) for anonymous stages.
    pub name: Rc<str>,
    pub kind: NodeKind,
    /// The element type this node produces (sinks: the type they consume).
    pub elem: Ty,
    pub span: Span,
    /// A stage made of several declared stages by the `fuse` pass: where each one's
    /// operators start, in order (empty: every operator is this node's own).
    pub parts: Vec<Part>,
}

/// The operators of a fused stage from `first_op` on (up to the next part) are those of
/// stage `name`, declared at `span`: their failures are reported as that stage's.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub first_op: usize,
    pub name: Rc<str>,
    pub span: Span,
}

impl Node {
    /// The stage operator `op` of this node belongs to: (name, span).
    pub fn part_of(&self, op: usize) -> (&Rc<str>, Span) {
        match self.parts.iter().rev().find(|p| p.first_op <= op) {
            Some(p) => (&p.name, p.span),
            None => (&self.name, self.span),
        }
    }
}

/// Edge weight: which input of the consumer this is (0 = primary).
pub type Edge = usize;

#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    pub graph: StableDiGraph<Node, Edge>,
    pub consts: Vec<ConstDef>,
    pub params: Vec<ParamDef>,
    pub fns: Vec<FnDef>,
    pub agents: Vec<AgentDef>,
    pub prompts: Vec<PromptDef>,
    /// The source declarations' nodes, by source index in the checked program.
    pub sources: Vec<NodeIndex>,
    pub locals: u32,
}

impl Pipeline {
    pub fn sinks(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.node_indices().filter(|&n| matches!(self.graph[n].kind, NodeKind::Sink { .. }))
    }

    /// The *plan order* both engines follow wherever one event reaches several nodes
    /// (docs/run.md, "Order of failures"): sources first, in the order they are read in
    /// ([`Self::read_order`]); then a topological order that always takes, among the
    /// nodes whose inputs are all placed, the one written first in the file (a stream
    /// expression written inside a stage or sink declaration belongs to it, after its
    /// start). So stages come in declaration order, except that a stage reading a stage
    /// declared after it comes after that one.
    pub fn plan_order(&self) -> Vec<NodeIndex> {
        use std::cmp::Reverse;
        use std::collections::{BinaryHeap, HashMap};
        let g = &self.graph;
        let is_source = |n: NodeIndex| matches!(g[n].kind, NodeKind::Source { .. });
        let key = |n: NodeIndex| (g[n].span.file.0, g[n].span.start, n.index());
        let mut order: Vec<NodeIndex> = self.read_order();
        let mut missing: HashMap<NodeIndex, usize> = HashMap::new();
        let mut ready = BinaryHeap::new();
        for n in g.node_indices() {
            let k = g.edges_directed(n, petgraph::Direction::Incoming).count();
            missing.insert(n, k);
            if k == 0 && !is_source(n) {
                ready.push(Reverse(key(n)));
            }
        }
        let mut place = |n: NodeIndex, ready: &mut BinaryHeap<_>| {
            for e in g.edges_directed(n, petgraph::Direction::Outgoing) {
                let t = petgraph::visit::EdgeRef::target(&e);
                if let Some(k) = missing.get_mut(&t) {
                    *k = k.saturating_sub(1);
                    if *k == 0 {
                        ready.push(Reverse(key(t)));
                    }
                }
            }
        };
        for &s in &order {
            place(s, &mut ready);
        }
        while let Some(Reverse((_, _, i))) = ready.pop() {
            let n = NodeIndex::new(i);
            order.push(n);
            place(n, &mut ready);
        }
        order
    }

    /// The order sources are read in: the sources a join reads as its right side first
    /// (a source behind more nested right sides before one behind fewer), then the others;
    /// within each rank in declaration order. A join holds its right side and streams its
    /// left one, so reading the right side first means no left row has to wait for it
    /// (the join's memory depends only on its right side, whatever the declaration order).
    pub fn read_order(&self) -> Vec<NodeIndex> {
        let g = &self.graph;
        // rank(n): the most join right sides crossed on a path from `n` downstream.
        let mut rank: std::collections::HashMap<NodeIndex, usize> = Default::default();
        let topo = petgraph::algo::toposort(g, None).unwrap_or_default();
        for &n in topo.iter().rev() {
            let mut r = 0;
            for e in g.edges_directed(n, petgraph::Direction::Outgoing) {
                let t = petgraph::visit::EdgeRef::target(&e);
                let right = *e.weight() > 0
                    && matches!(&g[t].kind, NodeKind::Stage { ops, .. }
                        if ops.iter().any(|op| matches!(op, Op::Join { right, .. } if *right == n)));
                r = r.max(rank.get(&t).copied().unwrap_or(0) + usize::from(right));
            }
            rank.insert(n, r);
        }
        let mut sources: Vec<NodeIndex> =
            g.node_indices().filter(|&n| matches!(g[n].kind, NodeKind::Source { .. })).collect();
        sources.sort_by_key(|n| std::cmp::Reverse(rank.get(n).copied().unwrap_or(0)));
        sources
    }
}
