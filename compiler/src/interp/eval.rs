//! Evaluation of typed expressions. Locals live in one flat environment indexed by
//! [`LocalId`] (ids are dense and functions cannot recurse); every binding saves and
//! restores the previous value, so inlined lambdas and nested calls stay correct.

use super::value::{Value, compare, equal};
use super::{EvalError, R};
use crate::agent::net::PackedLayer;
use crate::check::hir::{Callee, Global, LocalId, TExpr, TExprKind};
use crate::check::types::Ty;
use crate::diag::codes;
use crate::ir::{Pipeline, RowFn};
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnOp};
use kiln_runtime::arith;
use kiln_runtime::exec::fail::{self, BinSym};
use std::rc::Rc;

pub struct Interp<'p> {
    pub p: &'p Pipeline,
    env: Vec<Value>,
    consts: Vec<Option<Value>>,
    /// Resolved param values, by param index.
    pub params: Vec<Value>,
    /// Loaded agents, by agent index (`None`: not loaded, calling it is an error).
    pub agents: Vec<Option<Rc<Vec<PackedLayer>>>>,
    /// Per param: was its value given on the command line or in the environment? Such
    /// paths are relative to the current folder; paths written in the source are
    /// relative to the file that declares them.
    pub param_given: Vec<bool>,
    /// How many calls of fns and prompts are in progress (at most `MAX_CALL_DEPTH`).
    depth: i64,
    /// The model client of a run that calls `complete`, and the element being processed.
    pub models: Option<super::models::ModelRun>,
}

impl<'p> Interp<'p> {
    pub fn new(p: &'p Pipeline, params: Vec<Value>) -> Interp<'p> {
        Interp {
            param_given: Vec::new(),
            p,
            env: vec![Value::Null; p.locals as usize],
            consts: vec![None; p.consts.len()],
            params,
            agents: vec![None; p.agents.len()],
            depth: 0,
            models: None,
        }
    }

    pub(super) fn bind(&mut self, id: LocalId, v: Value) -> Value {
        let i = id.0 as usize;
        if i >= self.env.len() {
            self.env.resize(i + 1, Value::Null);
        }
        std::mem::replace(&mut self.env[i], v)
    }

    pub(super) fn restore(&mut self, id: LocalId, old: Value) {
        if let Some(slot) = self.env.get_mut(id.0 as usize) {
            *slot = old;
        }
    }

    /// `body` with `param` bound to `arg`.
    pub fn apply(&mut self, param: LocalId, body: &TExpr, arg: Value) -> R<Value> {
        let old = self.bind(param, arg);
        let r = self.eval(body);
        self.restore(param, old);
        r
    }

    /// `e` with the given locals bound.
    pub fn eval_with(&mut self, binds: &[(LocalId, Value)], e: &TExpr) -> R<Value> {
        let olds: Vec<(LocalId, Value)> =
            binds.iter().map(|(id, v)| (*id, self.bind(*id, v.clone()))).collect();
        let r = self.eval(e);
        for (id, old) in olds.into_iter().rev() {
            self.restore(id, old);
        }
        r
    }

    pub fn apply_row(&mut self, f: &RowFn, arg: Value) -> R<Value> {
        self.apply(f.param, &f.body, arg)
    }

    /// Applies a checked lambda expression (a builtin's function argument).
    pub fn apply_lambda(&mut self, f: &TExpr, arg: Value) -> R<Value> {
        match &f.kind {
            TExprKind::Lambda(param, body) => self.apply(*param, body, arg),
            _ => Err(EvalError::internal(f.span, "expected a lambda")),
        }
    }

    /// Agent `i` applied to the vector `x`.
    pub fn agent(&self, i: usize, x: Value, span: Span) -> R<Value> {
        let Some(Some(layers)) = self.agents.get(i).cloned() else {
            return Err(EvalError::unsupported(span, "calling this agent"));
        };
        let Value::Vec(x) = x else {
            return Err(EvalError::internal(span, "agent input is not a vector"));
        };
        let out = crate::agent::net::forward_rows(&layers, &x, 1);
        Ok(Value::Vec(out.into()))
    }

    pub fn eval(&mut self, e: &TExpr) -> R<Value> {
        Ok(match &e.kind {
            TExprKind::Int(n) => Value::Int(*n),
            TExprKind::Float(f) => Value::Float(*f),
            TExprKind::Str(s) => Value::Str(s.clone()),
            TExprKind::Bool(b) => Value::Bool(*b),
            TExprKind::Null => Value::Null,
            TExprKind::List(xs) => Value::list(self.eval_all(xs)?),
            TExprKind::Record(xs) => Value::record(self.eval_all(xs)?),
            TExprKind::Local(id) => self.env.get(id.0 as usize).cloned().unwrap_or(Value::Null),
            TExprKind::Global(g) => self.global(*g, e.span)?,
            TExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                unary(*op, v, e.span)?
            }
            TExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span)?,
            TExprKind::Widen(x) => match self.eval(x)? {
                Value::Int(n) => Value::Float(n as f64),
                other => other,
            },
            TExprKind::WrapOptional(x) => self.eval(x)?,
            TExprKind::Unwrap(x) => match self.eval(x)? {
                Value::Null => return Err(EvalError::internal(e.span, "unwrapped a null value")),
                v => v,
            },
            TExprKind::ConvertEach { value, binder, body } => match self.eval(value)? {
                Value::Null => Value::Null,
                Value::List(xs) => {
                    let mut out = Vec::with_capacity(xs.len());
                    for x in xs.iter() {
                        out.push(self.apply(*binder, body, x.clone())?);
                    }
                    Value::list(out)
                }
                v => self.apply(*binder, body, v)?,
            },
            TExprKind::Call { callee, args, named } => self.call(callee, args, named, e)?,
            TExprKind::Field(x, i) => match self.eval(x)? {
                Value::Record(fs) => fs.get(*i).cloned().unwrap_or(Value::Null),
                Value::Null => Value::Null,
                _ => return Err(EvalError::internal(e.span, "field access on a non-record")),
            },
            TExprKind::Index(x, i) => {
                let xs = self.eval(x)?;
                let i = self.eval(i)?;
                index(&xs, &i, e.span)?
            }
            TExprKind::If(c, t, f) => match self.eval(c)? {
                Value::Bool(true) => self.eval(t)?,
                _ => self.eval(f)?,
            },
            TExprKind::Let(id, v, body) => {
                let v = self.eval(v)?;
                self.apply(*id, body, v)?
            }
            TExprKind::Lambda(..) => {
                return Err(EvalError::internal(e.span, "a function used as a value"));
            }
            TExprKind::Error => return Err(EvalError::internal(e.span, "an unchecked expression")),
        })
    }

    pub fn eval_all(&mut self, xs: &[TExpr]) -> R<Vec<Value>> {
        xs.iter().map(|x| self.eval(x)).collect()
    }

    fn global(&mut self, g: Global, span: Span) -> R<Value> {
        match g {
            Global::Const(i) => {
                if let Some(Some(v)) = self.consts.get(i) {
                    return Ok(v.clone());
                }
                let p = self.p;
                let c = p.consts.get(i).ok_or_else(|| EvalError::internal(span, "no const"))?;
                let v = self.eval(&c.value)?;
                if let Some(slot) = self.consts.get_mut(i) {
                    *slot = Some(v.clone());
                }
                Ok(v)
            }
            Global::Param(i) => Ok(self.params.get(i).cloned().unwrap_or(Value::Null)),
            _ => Err(EvalError::internal(span, "a stream or function used as a value")),
        }
    }

    /// One more call in progress, unless that would nest deeper than `MAX_CALL_DEPTH`.
    fn enter(&mut self, span: Span) -> R<()> {
        if self.depth >= fail::MAX_CALL_DEPTH {
            return Err(EvalError::new(codes::E0613, span, fail::call_depth()));
        }
        self.depth += 1;
        Ok(())
    }

    fn call(
        &mut self,
        callee: &Callee,
        args: &[TExpr],
        named: &[(Rc<str>, TExpr)],
        e: &TExpr,
    ) -> R<Value> {
        match callee {
            Callee::Fn(i) => {
                let p = self.p;
                let f = p.fns.get(*i).ok_or_else(|| EvalError::internal(e.span, "no fn"))?;
                let vals = self.eval_all(args)?;
                self.enter(e.span)?;
                let olds: Vec<(LocalId, Value)> = f
                    .params
                    .iter()
                    .zip(vals)
                    .map(|((id, _, _), v)| (*id, self.bind(*id, v)))
                    .collect();
                let r = self.eval(&f.body);
                self.depth -= 1;
                for (id, old) in olds.into_iter().rev() {
                    self.restore(id, old);
                }
                r
            }
            Callee::Builtin(b) => super::builtins::call(self, b.id, args, named, e),
            Callee::VecFromList(n) => {
                let v =
                    self.eval(args.first().ok_or_else(|| EvalError::internal(e.span, "arity"))?)?;
                vec_from(&v, *n, e.span)
            }
            Callee::Agent(i) => {
                let x =
                    self.eval(args.first().ok_or_else(|| EvalError::internal(e.span, "arity"))?)?;
                self.agent(*i, x, e.span)
            }
            Callee::Prompt(i) => {
                let vals = self.eval_all(args)?;
                self.enter(e.span)?;
                let r = self.render_prompt(*i, vals, e.span);
                self.depth -= 1;
                // A typed prompt: the rendered text goes to its model.
                r.and_then(|v| super::models::typed_answer(self, *i, v, e))
            }
            Callee::Aggregate(a) => Err(EvalError::internal(
                e.span,
                format!("aggregate `{}` outside group_by/aggregate", a.name),
            )),
        }
    }

    fn binary(&mut self, op: BinOp, a: &TExpr, b: &TExpr, span: Span) -> R<Value> {
        match op {
            BinOp::And => {
                if !matches!(self.eval(a)?, Value::Bool(true)) {
                    return Ok(Value::Bool(false));
                }
                return self.eval(b);
            }
            BinOp::Or => {
                if matches!(self.eval(a)?, Value::Bool(true)) {
                    return Ok(Value::Bool(true));
                }
                return self.eval(b);
            }
            BinOp::Coalesce => {
                let l = self.eval(a)?;
                return if l.is_null() { self.eval(b) } else { Ok(l) };
            }
            _ => {}
        }
        let l = self.eval(a)?;
        let r = self.eval(b)?;
        binop(op, l, r, span)
    }
}

/// A binary operator on evaluated operands (not `and`, `or`, `??`).
pub fn binop(op: BinOp, l: Value, r: Value, span: Span) -> R<Value> {
    use std::cmp::Ordering::*;
    let ord = |l: &Value, r: &Value| -> Option<std::cmp::Ordering> {
        match (l, r) {
            // `null` orders before every value (as in `sort_by`), NaN included.
            (Value::Null, _) | (_, Value::Null) => Some(compare(l, r)),
            // IEEE comparisons for numbers: anything against NaN is false.
            (Value::Float(_), _) | (_, Value::Float(_)) => l.as_f64()?.partial_cmp(&r.as_f64()?),
            _ => Some(compare(l, r)),
        }
    };
    Ok(match op {
        BinOp::Eq => Value::Bool(equal(&l, &r)),
        BinOp::Ne => Value::Bool(!equal(&l, &r)),
        BinOp::Lt => Value::Bool(ord(&l, &r) == Some(Less)),
        BinOp::Le => Value::Bool(matches!(ord(&l, &r), Some(Less | Equal))),
        BinOp::Gt => Value::Bool(ord(&l, &r) == Some(Greater)),
        BinOp::Ge => Value::Bool(matches!(ord(&l, &r), Some(Greater | Equal))),
        _ => arith_op(op, l, r, span)?,
    })
}

fn arith_op(op: BinOp, l: Value, r: Value, span: Span) -> R<Value> {
    let sym = op.as_str();
    Ok(match (l, r) {
        (Value::Int(a), Value::Int(b)) => {
            let res = match op {
                BinOp::Add => a.checked_add(b),
                BinOp::Sub => a.checked_sub(b),
                BinOp::Mul => a.checked_mul(b),
                BinOp::Div => return Ok(Value::Float(a as f64 / b as f64)),
                BinOp::FloorDiv | BinOp::Mod if b == 0 => {
                    let sym = if op == BinOp::Mod { BinSym::Mod } else { BinSym::FloorDiv };
                    return Err(EvalError::new(codes::E0601, span, fail::div_zero(a, sym)));
                }
                BinOp::FloorDiv => arith::floor_div(a, b),
                BinOp::Mod => arith::floor_mod(a, b),
                _ => None,
            };
            Value::Int(res.ok_or_else(|| EvalError::overflow(span, format!("{a} {sym} {b}")))?)
        }
        (Value::Str(a), Value::Str(b)) if op == BinOp::Add => {
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(&a);
            s.push_str(&b);
            Value::Str(s.into())
        }
        (Value::List(a), Value::List(b)) if op == BinOp::Add => {
            let mut v = Vec::with_capacity(a.len() + b.len());
            v.extend(a.iter().cloned());
            v.extend(b.iter().cloned());
            Value::list(v)
        }
        (Value::Vec(a), Value::Vec(b)) => {
            if a.len() != b.len() {
                return Err(EvalError::internal(span, "vector sizes differ"));
            }
            Value::Vec(a.iter().zip(b.iter()).map(|(x, y)| f32_op(op, *x, *y)).collect())
        }
        (Value::Vec(a), s) => {
            let s = s.as_f64().unwrap_or(f64::NAN) as f32;
            Value::Vec(a.iter().map(|x| f32_op(op, *x, s)).collect())
        }
        (s, Value::Vec(b)) => {
            let s = s.as_f64().unwrap_or(f64::NAN) as f32;
            Value::Vec(b.iter().map(|y| f32_op(op, s, *y)).collect())
        }
        (l, r) => {
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return Err(EvalError::internal(span, format!("`{sym}` on unsupported values")));
            };
            Value::Float(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::FloorDiv => arith::floor_div_f64(a, b),
                BinOp::Mod => arith::floor_mod_f64(a, b),
                _ => return Err(EvalError::internal(span, "not an arithmetic operator")),
            })
        }
    })
}

fn f32_op(op: BinOp, a: f32, b: f32) -> f32 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        _ => a / b,
    }
}

fn unary(op: UnOp, v: Value, span: Span) -> R<Value> {
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::Int(n)) => {
            Value::Int(n.checked_neg().ok_or_else(|| EvalError::overflow(span, format!("-({n})")))?)
        }
        (UnOp::Neg, Value::Float(f)) => Value::Float(-f),
        (UnOp::Neg, Value::Vec(xs)) => Value::Vec(xs.iter().map(|x| -x).collect()),
        _ => return Err(EvalError::internal(span, "unary operator on an unsupported value")),
    })
}

/// `xs[i]` on a list or a vector; out of range (negative included) is an error.
pub fn index(xs: &Value, i: &Value, span: Span) -> R<Value> {
    let Value::Int(i) = *i else {
        return Err(EvalError::internal(span, "index is not an int"));
    };
    let (len, what) = match xs {
        Value::List(v) => (v.len(), "list"),
        Value::Vec(v) => (v.len(), "vector"),
        _ => return Err(EvalError::internal(span, "indexing a value that is not a list")),
    };
    let out_of_range =
        || EvalError::new(codes::E0602, span, fail::index(i, len as u64, what == "vector"));
    let k = usize::try_from(i).map_err(|_| out_of_range())?;
    match xs {
        Value::List(v) => v.get(k).cloned().ok_or_else(out_of_range),
        Value::Vec(v) => v.get(k).map(|x| Value::Float(f64::from(*x))).ok_or_else(out_of_range),
        _ => Err(out_of_range()),
    }
}

/// `vec[N](xs)`: a list of numbers to a vector of exactly N `f32`s.
pub fn vec_from(v: &Value, n: u32, span: Span) -> R<Value> {
    match v {
        Value::Vec(x) if x.len() == n as usize => Ok(v.clone()),
        Value::List(xs) => {
            if xs.len() != n as usize {
                let m = fail::vec_len(u64::from(n), xs.len() as u64);
                return Err(EvalError::new(codes::E0603, span, m));
            }
            Ok(Value::Vec(xs.iter().map(|x| x.as_f64().unwrap_or(f64::NAN) as f32).collect()))
        }
        _ => Err(EvalError::internal(span, "vec[N] of a value that is not a list")),
    }
}

/// The type of a lambda's result (`Ty::Error` when not a lambda).
pub fn lambda_ret(f: &TExpr) -> Ty {
    match &f.ty {
        Ty::Fn(_, r) => (**r).clone(),
        _ => Ty::Error,
    }
}
