//! Constant folding: every use of a `const` and every *closed* expression (one that reads
//! no row, param, agent, prompt or model) whose type is `int`, `float`, `bool` or `str`
//! is computed once, at compile time, and replaced by a literal with the same span.
//!
//! The value is computed by the reference interpreter's evaluator, so a folded expression
//! means exactly what it meant. An expression whose evaluation fails (say `1 / 0` in a
//! stage) is left as it is: it fails at run time, on each record, as the language says.
//! Folding never evaluates what could be large (a list `range`) or a user function call
//! (which may be expensive and might never run); their closed scalar arguments are still
//! folded.

use super::Pass;
use crate::check::hir::{
    Callee, Global, LocalId, TExpr, TExprKind, children_mut, pieces_mut, visit,
};
use crate::check::types::Ty;
use crate::interp::{Interp, Value};
use crate::ir::{NodeKind, Op, Pipeline};
use std::collections::HashSet;

pub static PASS: Pass = Pass {
    name: "fold",
    doc: "replace constants and closed scalar expressions by their values",
    required: false,
    run,
};

fn run(p: &mut Pipeline) -> bool {
    // The evaluator reads the pipeline (const definitions) while this pass rewrites it.
    let snapshot = p.clone();
    let mut f = Folder { cx: Interp::new(&snapshot, Vec::new()), changed: false };
    for c in &mut p.consts {
        f.fold(&mut c.value);
    }
    for d in &mut p.fns {
        f.fold(&mut d.body);
    }
    for d in &mut p.prompts {
        pieces_mut(&mut d.body, &mut |e| f.fold(e));
    }
    let nodes: Vec<_> = p.graph.node_indices().collect();
    for n in nodes {
        match &mut p.graph[n].kind {
            NodeKind::Source { args, .. } => args.iter_mut().for_each(|e| f.fold(e)),
            NodeKind::Sink { path: Some(e), .. } => f.fold(e),
            NodeKind::Stage { ops, .. } => ops.iter_mut().for_each(|op| f.op(op)),
            _ => {}
        }
    }
    f.changed
}

struct Folder<'p> {
    cx: Interp<'p>,
    changed: bool,
}

impl Folder<'_> {
    fn op(&mut self, op: &mut Op) {
        match op {
            Op::Map(r) | Op::Filter(r) | Op::FlatMap(r) | Op::Distinct(r) => self.fold(&mut r.body),
            Op::Take(e) | Op::Skip(e) | Op::Batch(e) => self.fold(e),
            Op::SortBy { key, desc } => {
                self.fold(&mut key.body);
                if let Some(d) = desc {
                    self.fold(d);
                }
            }
            Op::GroupBy { key, aggs } => {
                self.fold(&mut key.body);
                aggs.iter_mut().filter_map(|a| a.arg.as_mut()).for_each(|r| self.fold(&mut r.body));
            }
            Op::Aggregate { aggs } => {
                aggs.iter_mut().filter_map(|a| a.arg.as_mut()).for_each(|r| self.fold(&mut r.body))
            }
            Op::Join { left_key, right_key, .. } => {
                self.fold(&mut left_key.body);
                self.fold(&mut right_key.body);
            }
            Op::Agent { .. } | Op::Enumerate | Op::Union { .. } => {}
        }
    }

    /// Folds the largest closed subexpressions of `e`.
    fn fold(&mut self, e: &mut TExpr) {
        if is_literal(e) {
            return;
        }
        if scalar(&e.ty)
            && closed(e)
            && let Ok(v) = self.cx.eval(e)
            && let Some(kind) = literal(v, &e.ty)
        {
            e.kind = kind;
            self.changed = true;
            return;
        }
        children_mut(e, &mut |c| self.fold(c));
    }
}

fn is_literal(e: &TExpr) -> bool {
    matches!(
        e.kind,
        TExprKind::Int(_) | TExprKind::Float(_) | TExprKind::Bool(_) | TExprKind::Str(_)
    )
}

fn scalar(t: &Ty) -> bool {
    matches!(t, Ty::Int | Ty::Float | Ty::Bool | Ty::Str)
}

fn literal(v: Value, t: &Ty) -> Option<TExprKind> {
    Some(match (v, t) {
        (Value::Int(n), Ty::Int) => TExprKind::Int(n),
        (Value::Float(x), Ty::Float) => TExprKind::Float(x),
        (Value::Bool(b), Ty::Bool) => TExprKind::Bool(b),
        (Value::Str(s), Ty::Str) => TExprKind::Str(s),
        _ => return None,
    })
}

/// Reads nothing the run provides, and is cheap and safe to compute ahead.
fn closed(e: &TExpr) -> bool {
    let mut ok = true;
    let mut bound: HashSet<LocalId> = HashSet::new();
    let mut used: Vec<LocalId> = Vec::new();
    visit(e, &mut |x| match &x.kind {
        TExprKind::Local(id) => used.push(*id),
        TExprKind::Let(id, ..) | TExprKind::Lambda(id, _) => {
            bound.insert(*id);
        }
        TExprKind::ConvertEach { binder, .. } => {
            bound.insert(*binder);
        }
        TExprKind::Global(g) => ok &= matches!(g, Global::Const(_)),
        TExprKind::Call { callee, .. } => {
            ok &= match callee {
                Callee::Builtin(b) => !matches!(b.name, "complete" | "range"),
                Callee::VecFromList(_) => true,
                Callee::Fn(_) | Callee::Agent(_) | Callee::Prompt(_) | Callee::Aggregate(_) => {
                    false
                }
            }
        }
        TExprKind::Error => ok = false,
        _ => {}
    });
    ok && used.iter().all(|id| bound.contains(id))
}
