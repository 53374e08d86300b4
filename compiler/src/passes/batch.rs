//! Batching of agent calls (the vmap idea), an optimization pass: the user writes per-row
//! code, `map(r => { ..r, p: model(r.x) })`, and the pass splits the `map` so the agent
//! runs on a whole batch of rows through the GEMM kernels:
//!
//! ```text
//! map(r => body)   ⇒   map(r => { r: r, x0: <arg 0>, ... })
//!                      |> agent(x0 := model_0(x0)) ...   (Op::Agent: every row at once)
//!                      |> map(t => let r = t.r in body[call_i := t.x_i])
//! ```
//!
//! Only calls that every evaluation of the body makes are hoisted (not inside an `if`
//! branch, the right side of `and` / `or` / `??`, or a lambda), and only when their
//! argument reads nothing but the row: evaluating them ahead for every row is then exactly
//! what the per-row code does. Agents are pure and cannot fail, and the batched kernels
//! give a row the same bits whatever else is in its batch
//! ([`crate::agent::net::forward_rows`]), so results are those of the interpreter.

use super::Pass;
use crate::check::hir::{Callee, LocalId, TExpr, TExprKind, visit};
use crate::check::types::Ty;
use crate::ir::{NodeKind, Op, Pipeline, RowFn};
use crate::syntax::ast::BinOp;
use std::rc::Rc;

pub static PASS: Pass = Pass {
    name: "batch",
    doc: "run per-row agent calls of a `map` batched over many rows",
    required: false,
    run,
};

fn run(p: &mut Pipeline) -> bool {
    let mut changed = false;
    let nodes: Vec<_> = p.graph.node_indices().collect();
    for n in nodes {
        let NodeKind::Stage { ops, .. } = &p.graph[n].kind else { continue };
        let mut out: Vec<Op> = Vec::with_capacity(ops.len());
        // Where each operator now starts (a split `map` becomes several operators).
        let mut starts: Vec<usize> = Vec::with_capacity(ops.len());
        let mut next_local = p.locals;
        for op in ops {
            starts.push(out.len());
            let sp = match op {
                Op::Map(f) => split(f, crate::check::hir::LocalId(next_local)),
                _ => None,
            };
            let Some(sp) = sp else {
                out.push(op.clone());
                continue;
            };
            next_local += 1;
            out.push(Op::Map(sp.pre));
            for (i, c) in sp.calls.iter().enumerate() {
                out.push(Op::Agent {
                    agent: c.agent,
                    field: i + 1,
                    inputs: c.inputs,
                    outputs: c.outputs,
                });
            }
            out.push(Op::Map(sp.post));
        }
        if next_local != p.locals {
            p.locals = next_local;
            let node = &mut p.graph[n];
            for part in &mut node.parts {
                part.first_op = starts.get(part.first_op).copied().unwrap_or(out.len());
            }
            if let NodeKind::Stage { ops, .. } = &mut node.kind {
                *ops = out;
            }
            changed = true;
        }
    }
    changed
}

/// One hoisted call: the agent, and its vector sizes.
pub struct Call {
    pub agent: usize,
    pub inputs: u32,
    pub outputs: u32,
}

/// A `map` split around its agent calls.
pub struct Split {
    /// `r => { r: r, x0: arg0, ... }`.
    pub pre: RowFn,
    pub calls: Vec<Call>,
    /// `t => let r = t.r in body'`, over `{ r, x0: vec[out0], ... }`.
    pub post: RowFn,
}

fn is_agent_call(e: &TExpr) -> bool {
    matches!(e.kind, TExprKind::Call { callee: Callee::Agent(_), .. })
}

fn contains_agent_call(e: &TExpr) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= is_agent_call(x));
    found
}

/// Whether `e` reads no local but `param`.
fn reads_only(e: &TExpr, param: LocalId) -> bool {
    let mut ok = true;
    visit(e, &mut |x| match x.kind {
        TExprKind::Local(id) if id != param => ok = false,
        TExprKind::Let(..) | TExprKind::Lambda(..) | TExprKind::ConvertEach { .. } => ok = false,
        _ => {}
    });
    ok
}

/// Walks `e` mutably; `f(node, conditional)` replaces a node (returning true) or lets the
/// walk descend. `conditional`: the node is not evaluated on every evaluation of the root.
fn walk(e: &mut TExpr, cond: bool, f: &mut impl FnMut(&mut TExpr, bool) -> bool) {
    if f(e, cond) {
        return;
    }
    match &mut e.kind {
        TExprKind::List(xs) | TExprKind::Record(xs) => xs.iter_mut().for_each(|x| walk(x, cond, f)),
        TExprKind::Unary(_, x)
        | TExprKind::Widen(x)
        | TExprKind::WrapOptional(x)
        | TExprKind::Unwrap(x)
        | TExprKind::Field(x, _) => walk(x, cond, f),
        TExprKind::Lambda(_, x) => walk(x, true, f),
        TExprKind::Binary(op, a, b) => {
            walk(a, cond, f);
            let lazy = matches!(op, BinOp::And | BinOp::Or | BinOp::Coalesce);
            walk(b, cond || lazy, f);
        }
        TExprKind::Index(a, b) | TExprKind::Let(_, a, b) => {
            walk(a, cond, f);
            walk(b, cond, f);
        }
        TExprKind::ConvertEach { value, body, .. } => {
            walk(value, cond, f);
            walk(body, true, f);
        }
        TExprKind::If(c, t, e2) => {
            walk(c, cond, f);
            walk(t, true, f);
            walk(e2, true, f);
        }
        TExprKind::Call { args, named, .. } => {
            args.iter_mut().for_each(|x| walk(x, cond, f));
            named.iter_mut().for_each(|(_, x)| walk(x, cond, f));
        }
        _ => {}
    }
}

/// Splits `f` around its hoistable agent calls; `None` when it has none.
/// `t` is a local no expression of the program uses.
pub fn split(f: &RowFn, t: LocalId) -> Option<Split> {
    if !contains_agent_call(&f.body) {
        return None;
    }
    let span = f.body.span;
    let mut body = f.body.clone();
    let mut args: Vec<TExpr> = Vec::new();
    let mut calls: Vec<Call> = Vec::new();
    let mut outs: Vec<Ty> = Vec::new();
    walk(&mut body, false, &mut |node, cond| {
        if cond || !is_agent_call(node) {
            return false;
        }
        let TExprKind::Call { callee: Callee::Agent(agent), args: a, named } = &node.kind else {
            return false;
        };
        let (Some(arg), true) = (a.first(), named.is_empty()) else { return false };
        let (Ty::Vec(inputs), Ty::Vec(outputs)) = (&arg.ty, &node.ty) else { return false };
        if contains_agent_call(arg) || !reads_only(arg, f.param) {
            return false;
        }
        let i = calls.len();
        calls.push(Call { agent: *agent, inputs: *inputs, outputs: *outputs });
        args.push(arg.clone());
        outs.push(node.ty.clone());
        let mid = TExpr::new(TExprKind::Local(t), Ty::Error, span);
        *node = TExpr::new(TExprKind::Field(Box::new(mid), i + 1), node.ty.clone(), node.span);
        true
    });
    if calls.is_empty() {
        return None;
    }
    let name = |i: usize| format!("x{i}");
    let mut pre_fields = vec![("r".to_string(), f.param_ty.clone())];
    pre_fields.extend(args.iter().enumerate().map(|(i, a)| (name(i), a.ty.clone())));
    let mut mid_fields = vec![("r".to_string(), f.param_ty.clone())];
    mid_fields.extend(outs.iter().enumerate().map(|(i, t)| (name(i), t.clone())));
    let record = |fields: &[(String, Ty)]| {
        Ty::record(fields.iter().map(|(n, t)| (Rc::from(n.as_str()), t.clone())).collect())
    };
    let (pre_ty, mid_ty) = (record(&pre_fields), record(&mid_fields));
    let mut items = vec![TExpr::new(TExprKind::Local(f.param), f.param_ty.clone(), span)];
    items.extend(args);
    let pre = RowFn {
        param: f.param,
        param_ty: f.param_ty.clone(),
        body: TExpr::new(TExprKind::Record(items), pre_ty, span),
    };
    // The placeholders read `t`, whose type is now known.
    visit_locals_mut(&mut body, t, &mid_ty);
    let t_expr = TExpr::new(TExprKind::Local(t), mid_ty.clone(), span);
    let row = TExpr::new(TExprKind::Field(Box::new(t_expr), 0), f.param_ty.clone(), span);
    let ty = body.ty.clone();
    let post = RowFn {
        param: t,
        param_ty: mid_ty,
        body: TExpr::new(TExprKind::Let(f.param, Box::new(row), Box::new(body)), ty, span),
    };
    Some(Split { pre, calls, post })
}

/// Gives every `Local(t)` in `e` the type `ty`.
fn visit_locals_mut(e: &mut TExpr, t: LocalId, ty: &Ty) {
    walk(e, false, &mut |x, _| {
        if matches!(x.kind, TExprKind::Local(id) if id == t) {
            x.ty = ty.clone();
            return true;
        }
        false
    });
}
