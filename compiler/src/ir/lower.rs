//! Checked program → dataflow graph. Stream expressions become nodes: a source, the
//! `errors` stream, or a stage holding the chain of operators applied to its input. An
//! operator applied to an anonymous chain extends it; named stages always get their own
//! node (the optimizer fuses single-consumer stages into their consumer).

use super::*;
use crate::check::hir::{Callee, Global, Program, SourceDef, TExprKind};
use std::collections::HashMap;

/// Lowers a program with no errors: every source, stage and sink becomes a node. Stages
/// that feed no sink are lowered too; the `dead` pass (`crate::passes`) removes them
/// (they never run; the checker warned about them, W0001).
pub fn lower(program: &Program) -> Pipeline {
    let mut l = Lowerer {
        p: program,
        out: Pipeline::default(),
        stage_nodes: HashMap::new(),
        errors: None,
        anonymous: Vec::new(),
    };
    l.out.consts = program.consts.clone();
    l.out.params = program.params.clone();
    l.out.fns = program.fns.clone();
    l.out.agents = program.agents.clone();
    l.out.prompts = program.prompts.clone();
    l.out.locals = program.locals;
    for s in &program.sources {
        let n = l.source_node(s);
        l.out.sources.push(n);
    }
    for sink in &program.sinks {
        let input = l.stream(&sink.input);
        let elem = l.out.graph[input].elem.clone();
        let node = l.out.graph.add_node(Node {
            name: Rc::from(format!("sink {}@{}", sink_name(sink.format), sink.span.start)),
            kind: NodeKind::Sink { input, format: sink.format, path: sink.path.clone() },
            elem,
            span: sink.span,
            parts: Vec::new(),
        });
        l.out.graph.add_edge(input, node, 0);
    }
    for j in 0..program.stages.len() {
        l.stage_node(j);
    }
    l.out
}

fn sink_name(f: SinkFormat) -> &'static str {
    match f {
        SinkFormat::Jsonl => "jsonl",
        SinkFormat::Csv => "csv",
        SinkFormat::Lines => "lines",
        SinkFormat::Stdout => "stdout",
        SinkFormat::Discard => "discard",
    }
}

struct Lowerer<'p> {
    p: &'p Program,
    out: Pipeline,
    stage_nodes: HashMap<usize, NodeIndex>,
    errors: Option<NodeIndex>,
    /// Stage nodes created for unnamed stream expressions (their chains may be extended).
    anonymous: Vec<NodeIndex>,
}

impl Lowerer<'_> {
    fn source_node(&mut self, s: &SourceDef) -> NodeIndex {
        self.out.graph.add_node(Node {
            name: s.name.clone(),
            kind: NodeKind::Source { format: s.format, args: s.args.clone(), unread: Vec::new() },
            elem: s.elem.clone(),
            span: s.span,
            parts: Vec::new(),
        })
    }

    fn stage_node(&mut self, j: usize) -> NodeIndex {
        if let Some(&n) = self.stage_nodes.get(&j) {
            return n;
        }
        let def = &self.p.stages[j];
        let inner = self.stream(&def.expr);
        let n = match self.anonymous.iter().position(|&a| a == inner) {
            Some(pos) => {
                // The chain built for this stage's expression becomes the named stage.
                self.anonymous.remove(pos);
                self.out.graph[inner].name = def.name.clone();
                self.out.graph[inner].span = def.span;
                inner
            }
            None => {
                let elem = self.out.graph[inner].elem.clone();
                let n = self.out.graph.add_node(Node {
                    name: def.name.clone(),
                    kind: NodeKind::Stage { input: inner, ops: Vec::new() },
                    elem,
                    span: def.span,
                    parts: Vec::new(),
                });
                self.out.graph.add_edge(inner, n, 0);
                n
            }
        };
        self.stage_nodes.insert(j, n);
        n
    }

    /// The node producing a stream-typed expression.
    fn stream(&mut self, e: &TExpr) -> NodeIndex {
        match &e.kind {
            TExprKind::Global(Global::Source(i)) => self.out.sources[*i],
            TExprKind::Global(Global::Stage(j)) => self.stage_node(*j),
            TExprKind::Global(Global::Errors) => *self.errors.get_or_insert_with(|| {
                self.out.graph.add_node(Node {
                    name: Rc::from("errors"),
                    kind: NodeKind::Errors,
                    elem: crate::check::errors_record(),
                    span: e.span,
                    parts: Vec::new(),
                })
            }),
            TExprKind::Call { callee: Callee::Builtin(b), args, named } => {
                let elem = e.ty.element().cloned().unwrap_or(Ty::Error);
                if b.name == "range" {
                    return self.out.graph.add_node(Node {
                        name: Rc::from(format!("range@{}", e.span.start)),
                        kind: NodeKind::Source {
                            format: SourceFormat::Range,
                            args: args.clone(),
                            unread: Vec::new(),
                        },
                        elem,
                        span: e.span,
                        parts: Vec::new(),
                    });
                }
                let input = self.stream(&args[0]);
                let (op, extra) = self.op(b.name, args, named);
                self.push_op(input, op, extra, elem, e.span)
            }
            other => unreachable!("not a stream expression after checking: {other:?}"),
        }
    }

    /// Appends `op` to `input`'s chain when that chain is anonymous, else starts a new one.
    fn push_op(
        &mut self,
        input: NodeIndex,
        op: Op,
        extra: Option<NodeIndex>,
        elem: Ty,
        span: Span,
    ) -> NodeIndex {
        let node = if self.anonymous.contains(&input) {
            if let NodeKind::Stage { ops, .. } = &mut self.out.graph[input].kind {
                ops.push(op);
            }
            self.out.graph[input].elem = elem;
            self.out.graph[input].span = span;
            input
        } else {
            let name = Rc::from(format!("{}@{}", op.name(), span.start));
            let n = self.out.graph.add_node(Node {
                name,
                kind: NodeKind::Stage { input, ops: vec![op] },
                elem,
                span,
                parts: Vec::new(),
            });
            self.out.graph.add_edge(input, n, 0);
            self.anonymous.push(n);
            n
        };
        if let Some(x) = extra {
            let k = self.out.graph.edges_directed(node, petgraph::Direction::Incoming).count();
            self.out.graph.add_edge(x, node, k);
        }
        node
    }

    fn op(
        &mut self,
        name: &str,
        args: &[TExpr],
        named: &[(Rc<str>, TExpr)],
    ) -> (Op, Option<NodeIndex>) {
        let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
        let op = match name {
            "map" => Op::Map(row_fn(&arg(1))),
            "filter" => Op::Filter(row_fn(&arg(1))),
            "flat_map" => Op::FlatMap(row_fn(&arg(1))),
            "take" => Op::Take(arg(1)),
            "skip" => Op::Skip(arg(1)),
            "batch" => Op::Batch(arg(1)),
            "enumerate" => Op::Enumerate,
            "distinct" => Op::Distinct(row_fn(&arg(1))),
            "sort_by" => Op::SortBy {
                key: row_fn(&arg(1)),
                desc: named.iter().find(|(n, _)| &**n == "desc").map(|(_, e)| e.clone()),
            },
            "group_by" => Op::GroupBy { key: row_fn(&arg(1)), aggs: aggs(named) },
            "aggregate" => Op::Aggregate { aggs: aggs(named) },
            "join" | "left_join" => {
                let right = self.stream(&arg(1));
                let op = Op::Join {
                    right,
                    left_key: row_fn(&arg(2)),
                    right_key: row_fn(&arg(3)),
                    outer: name == "left_join",
                };
                return (op, Some(right));
            }
            "union" => {
                let other = self.stream(&arg(1));
                return (Op::Union { other }, Some(other));
            }
            other => unreachable!("`{other}` does not produce a stream"),
        };
        (op, None)
    }
}

/// A checked lambda `(p) => body` as a row function.
pub fn row_fn(e: &TExpr) -> RowFn {
    match (&e.kind, &e.ty) {
        (TExprKind::Lambda(param, body), Ty::Fn(ps, _)) => RowFn {
            param: *param,
            param_ty: ps.first().cloned().unwrap_or(Ty::Error),
            body: (**body).clone(),
        },
        _ => unreachable!("a row function is a checked lambda"),
    }
}

fn aggs(named: &[(Rc<str>, TExpr)]) -> Vec<Agg> {
    named
        .iter()
        .map(|(name, call)| {
            let TExprKind::Call { callee: Callee::Aggregate(a), args, .. } = &call.kind else {
                unreachable!("aggregates are checked calls")
            };
            let kind = a.kind;
            Agg { name: name.clone(), kind, arg: args.first().map(row_fn), ty: call.ty.clone() }
        })
        .collect()
}
