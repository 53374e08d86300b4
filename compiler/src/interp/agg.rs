//! Aggregates of `group_by` and `aggregate` (streams and lists share this). Sums run in
//! input order (ints checked, floats in f64); `mean` sums in f64 and divides by the count;
//! `min`/`max` use the total order of [`super::value::compare`] and keep the first of
//! equal values.

use super::value::{Value, compare};
use super::{EvalError, R};
use crate::check::hir::{LocalId, TExpr, TExprKind};
use crate::check::types::Ty;
use crate::ir::{Agg, AggKind};
use crate::source::Span;
use std::cmp::Ordering;

/// An aggregate to compute: its kind, the function over the element and the output type.
#[derive(Clone, Copy)]
pub struct Spec<'a> {
    pub kind: AggKind,
    pub arg: Option<(LocalId, &'a TExpr)>,
    pub ty: &'a Ty,
    pub span: Span,
}

impl<'a> Spec<'a> {
    pub fn of_agg(a: &'a Agg) -> Spec<'a> {
        let span = a.arg.as_ref().map(|f| f.body.span).unwrap_or_default();
        Spec { kind: a.kind, arg: a.arg.as_ref().map(|f| (f.param, &f.body)), ty: &a.ty, span }
    }

    /// From a checked aggregate call (`sum(x => ...)`) inside a list-level call.
    pub fn of_call(call: &'a TExpr) -> Option<Spec<'a>> {
        let TExprKind::Call { callee: crate::check::hir::Callee::Aggregate(a), args, .. } =
            &call.kind
        else {
            return None;
        };
        let kind = match a.name {
            "count" => AggKind::Count,
            "sum" => AggKind::Sum,
            "mean" => AggKind::Mean,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "first" => AggKind::First,
            "last" => AggKind::Last,
            _ => AggKind::Collect,
        };
        let arg = match args.first().map(|f| &f.kind) {
            Some(TExprKind::Lambda(p, body)) => Some((*p, &**body)),
            _ => None,
        };
        Some(Spec { kind, arg, ty: &call.ty, span: call.span })
    }
}

#[derive(Clone, Debug)]
pub enum State {
    Count(i64),
    SumInt(i64),
    SumFloat(f64),
    Mean { sum: f64, n: i64 },
    Min(Option<Value>),
    Max(Option<Value>),
    First(Option<Value>),
    Last(Option<Value>),
    Collect(Vec<Value>),
}

impl State {
    pub fn new(spec: &Spec) -> State {
        match spec.kind {
            AggKind::Count => State::Count(0),
            AggKind::Sum if *spec.ty.strip_optional() == Ty::Float => State::SumFloat(0.0),
            AggKind::Sum => State::SumInt(0),
            AggKind::Mean => State::Mean { sum: 0.0, n: 0 },
            AggKind::Min => State::Min(None),
            AggKind::Max => State::Max(None),
            AggKind::First => State::First(None),
            AggKind::Last => State::Last(None),
            AggKind::Collect => State::Collect(Vec::new()),
        }
    }

    /// Whether adding `v` would fail (an int sum overflowing), checked before any state
    /// of a group changes so a failing element leaves every aggregate untouched.
    pub fn check(&self, v: &Value, span: Span) -> R<()> {
        if let (State::SumInt(s), Value::Int(x)) = (self, v)
            && s.checked_add(*x).is_none()
        {
            return Err(EvalError::overflow(span, format!("sum {s} + {x}")));
        }
        Ok(())
    }

    pub fn add(&mut self, v: Value) {
        match self {
            State::Count(n) => *n = n.saturating_add(1),
            State::SumInt(s) => {
                if let Value::Int(x) = v {
                    *s = s.saturating_add(x);
                }
            }
            State::SumFloat(s) => *s += v.as_f64().unwrap_or(f64::NAN),
            State::Mean { sum, n } => {
                *sum += v.as_f64().unwrap_or(f64::NAN);
                *n += 1;
            }
            // `min` and `max` skip nulls (as SQL does): the result is null only when
            // every value is.
            State::Min(_) | State::Max(_) if v.is_null() => {}
            State::Min(m) => {
                if m.as_ref().is_none_or(|cur| compare(&v, cur) == Ordering::Less) {
                    *m = Some(v);
                }
            }
            State::Max(m) => {
                if m.as_ref().is_none_or(|cur| compare(&v, cur) == Ordering::Greater) {
                    *m = Some(v);
                }
            }
            State::First(f) => {
                if f.is_none() {
                    *f = Some(v);
                }
            }
            State::Last(l) => *l = Some(v),
            State::Collect(xs) => xs.push(v),
        }
    }

    pub fn finish(self) -> Value {
        match self {
            State::Count(n) | State::SumInt(n) => Value::Int(n),
            State::SumFloat(s) => Value::Float(s),
            State::Mean { n: 0, .. } => Value::Null,
            State::Mean { sum, n } => Value::Float(sum / n as f64),
            State::Min(v) | State::Max(v) | State::First(v) | State::Last(v) => {
                v.unwrap_or(Value::Null)
            }
            State::Collect(xs) => Value::list(xs),
        }
    }
}

/// The running aggregates of one group (or of a whole `aggregate`).
pub struct Group {
    pub states: Vec<State>,
}

impl Group {
    pub fn new(specs: &[Spec]) -> Group {
        Group { states: specs.iter().map(State::new).collect() }
    }

    /// Adds one element: evaluates every aggregate's function, checks, then commits.
    pub fn add(&mut self, cx: &mut super::Interp, specs: &[Spec], elem: &Value) -> R<()> {
        let mut vals = Vec::with_capacity(specs.len());
        for (spec, st) in specs.iter().zip(&self.states) {
            let v = match spec.arg {
                Some((p, body)) => cx.apply(p, body, elem.clone())?,
                None => Value::Null,
            };
            st.check(&v, spec.span)?;
            vals.push(v);
        }
        for (st, v) in self.states.iter_mut().zip(vals) {
            st.add(v);
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<Value> {
        self.states.into_iter().map(State::finish).collect()
    }
}
