//! The IR verifier: runs after lowering and after every optimizer pass. A failure is a
//! compiler bug, reported as an internal error naming the broken invariant.

use super::*;
use petgraph::Direction;
use petgraph::algo::is_cyclic_directed;

/// Checks the invariants listed in the module documentation of [`crate::ir`].
pub fn verify(p: &Pipeline) -> Result<(), String> {
    if is_cyclic_directed(&p.graph) {
        return Err("the dataflow graph has a cycle".into());
    }
    for n in p.graph.node_indices() {
        let node = &p.graph[n];
        let inputs: Vec<(NodeIndex, usize)> = p
            .graph
            .edges_directed(n, Direction::Incoming)
            .map(|e| (petgraph::visit::EdgeRef::source(&e), *e.weight()))
            .collect();
        let primary: Vec<NodeIndex> =
            inputs.iter().filter(|(_, w)| *w == 0).map(|(s, _)| *s).collect();
        let here = || format!("node `{}`", node.name);
        match &node.kind {
            NodeKind::Source { .. } | NodeKind::Errors => {
                if !inputs.is_empty() {
                    return Err(format!("{} is a source but has inputs", here()));
                }
            }
            NodeKind::Stage { input, ops } => {
                let firsts: Vec<usize> = node.parts.iter().map(|q| q.first_op).collect();
                if !firsts.is_empty()
                    && (firsts[0] != 0
                        || firsts.windows(2).any(|w| w[0] >= w[1])
                        || firsts.iter().any(|&f| f >= ops.len()))
                {
                    return Err(format!("{}: its parts do not cut its operators", here()));
                }
                if primary != [*input] {
                    return Err(format!(
                        "{}: primary input edge does not match its `input`",
                        here()
                    ));
                }
                let mut elem = p.graph[*input].elem.clone();
                let extra =
                    ops.iter().filter(|o| matches!(o, Op::Join { .. } | Op::Union { .. })).count();
                if inputs.len() != 1 + extra {
                    return Err(format!(
                        "{}: {} input edges for {} join/union operands",
                        here(),
                        inputs.len(),
                        extra
                    ));
                }
                for op in ops {
                    elem = op_output(p, op, &elem)
                        .map_err(|e| format!("{}: `{}`: {e}", here(), op.name()))?;
                }
                if !crate::check::types::assignable(&elem, &node.elem) {
                    return Err(format!(
                        "{}: chain produces `{elem}` but the node says `{}`",
                        here(),
                        node.elem
                    ));
                }
            }
            NodeKind::Sink { input, .. } => {
                if primary != [*input] || inputs.len() != 1 {
                    return Err(format!("{}: a sink needs exactly its one input", here()));
                }
                if p.graph[*input].elem != node.elem {
                    return Err(format!(
                        "{}: consumes `{}` but its input produces `{}`",
                        here(),
                        node.elem,
                        p.graph[*input].elem
                    ));
                }
            }
        }
    }
    Ok(())
}

fn takes(f: &RowFn, elem: &Ty) -> Result<(), String> {
    if f.param_ty == *elem {
        Ok(())
    } else {
        Err(format!("row function takes `{}` but elements are `{elem}`", f.param_ty))
    }
}

/// The element type after `op`, checking its row functions.
pub(crate) fn op_output(p: &Pipeline, op: &Op, elem: &Ty) -> Result<Ty, String> {
    Ok(match op {
        Op::Map(f) => {
            takes(f, elem)?;
            f.ret().clone()
        }
        Op::Filter(f) => {
            takes(f, elem)?;
            if *f.ret() != Ty::Bool {
                return Err("predicate does not return bool".into());
            }
            elem.clone()
        }
        Op::FlatMap(f) => {
            takes(f, elem)?;
            f.ret().element().cloned().ok_or("flat_map function does not return a list")?
        }
        Op::Take(_) | Op::Skip(_) => elem.clone(),
        Op::Batch(_) => Ty::list(elem.clone()),
        Op::Enumerate => Ty::record(vec![("index", Ty::Int), ("item", elem.clone())]),
        Op::Distinct(f) | Op::SortBy { key: f, .. } => {
            takes(f, elem)?;
            elem.clone()
        }
        Op::GroupBy { key, aggs } => {
            takes(key, elem)?;
            let mut fields = vec![(Rc::from("key"), key.ret().clone())];
            fields.extend(aggs.iter().map(|a| (a.name.clone(), a.ty.clone())));
            Ty::record(fields)
        }
        Op::Aggregate { aggs } => {
            Ty::record(aggs.iter().map(|a| (a.name.clone(), a.ty.clone())).collect())
        }
        Op::Join { right, left_key, right_key, outer } => {
            takes(left_key, elem)?;
            let r = p.graph[*right].elem.clone();
            takes(right_key, &r)?;
            let r = if *outer { Ty::optional(r) } else { r };
            Ty::record(vec![("left", elem.clone()), ("right", r)])
        }
        Op::Agent { agent, field, inputs, outputs } => {
            let Some(a) = p.agents.get(*agent) else { return Err("unknown agent".into()) };
            if (a.input, a.output) != (*inputs, *outputs) {
                return Err(format!("agent `{}` does not have the sizes of its op", a.name));
            }
            let Ty::Record(fields) = elem else {
                return Err("an agent op over elements that are not records".into());
            };
            match fields.get(*field) {
                Some(f) if f.ty == Ty::Vec(*inputs) => {}
                _ => return Err(format!("field {field} of `{elem}` is not a `vec[{inputs}]`")),
            }
            let mut fields = fields.to_vec();
            fields[*field].ty = Ty::Vec(*outputs);
            Ty::Record(Rc::from(fields))
        }
        Op::Union { other } => {
            if !crate::check::types::assignable(&p.graph[*other].elem, elem) {
                return Err(format!("union of `{elem}` and `{}`", p.graph[*other].elem));
            }
            elem.clone()
        }
    })
}
