//! Aggregates of `group_by` and `aggregate` (streams and lists share this), with the
//! runtime's exact sums (LANGUAGE.md §1.5): an int `sum` is exact (`i128`) and fails only
//! when its final total does not fit in `int`; float sums are correctly rounded
//! ([`kiln_runtime::fsum::FSum`]); an int `mean` is the exact total divided by the count,
//! rounded once; a float `mean` is the correctly rounded sum divided by the count;
//! `min`/`max` use the total order of [`super::value::compare`] and keep the first of
//! equal values.

use super::value::{Value, compare};
use super::{EvalError, R};
use crate::check::hir::{LocalId, TExpr, TExprKind};
use crate::check::types::Ty;
use crate::diag::codes;
use crate::ir::{Agg, AggKind};
use crate::source::Span;
use kiln_runtime::fsum::{FSum, ratio};
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
        let kind = a.kind;
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
    SumInt(i128),
    SumFloat(FSum),
    MeanInt { sum: i128, n: i64 },
    Mean { sum: FSum, n: i64 },
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
            AggKind::Sum if *spec.ty.strip_optional() == Ty::Float => State::SumFloat(FSum::new()),
            AggKind::Sum => State::SumInt(0),
            AggKind::Mean if spec.arg.is_some_and(|(_, body)| body.ty == Ty::Int) => {
                State::MeanInt { sum: 0, n: 0 }
            }
            AggKind::Mean => State::Mean { sum: FSum::new(), n: 0 },
            AggKind::Min => State::Min(None),
            AggKind::Max => State::Max(None),
            AggKind::First => State::First(None),
            AggKind::Last => State::Last(None),
            AggKind::Collect => State::Collect(Vec::new()),
        }
    }

    pub fn add(&mut self, v: Value) {
        match self {
            State::Count(n) => *n = n.saturating_add(1),
            State::SumInt(s) => {
                if let Value::Int(x) = v {
                    *s += i128::from(x);
                }
            }
            State::SumFloat(s) => s.add(v.as_f64().unwrap_or(f64::NAN)),
            State::MeanInt { sum, n } => {
                if let Value::Int(x) = v {
                    *sum += i128::from(x);
                }
                *n += 1;
            }
            State::Mean { sum, n } => {
                sum.add(v.as_f64().unwrap_or(f64::NAN));
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

    /// The aggregate's value; an int sum beyond `int` is an error (the runtime's message).
    pub fn finish(self, span: Span) -> R<Value> {
        Ok(match self {
            State::Count(n) => Value::Int(n),
            State::SumInt(s) => Value::Int(i64::try_from(s).map_err(|_| {
                EvalError::new(codes::E0600, span, kiln_runtime::exec::agg::sum_overflow(s))
            })?),
            State::SumFloat(s) => Value::Float(s.value()),
            State::MeanInt { n: 0, .. } | State::Mean { n: 0, .. } => Value::Null,
            State::MeanInt { sum, n } => Value::Float(ratio(sum, n)),
            State::Mean { sum, n } => Value::Float(sum.value() / n as f64),
            State::Min(v) | State::Max(v) | State::First(v) | State::Last(v) => {
                v.unwrap_or(Value::Null)
            }
            State::Collect(xs) => Value::list(xs),
        })
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

    /// Adds one element: evaluates every aggregate's function, then commits (a failing
    /// function leaves every aggregate untouched).
    pub fn add(&mut self, cx: &mut super::Interp, specs: &[Spec], elem: &Value) -> R<()> {
        let mut vals = Vec::with_capacity(specs.len());
        for spec in specs {
            let v = match spec.arg {
                Some((p, body)) => cx.apply(p, body, elem.clone())?,
                None => Value::Null,
            };
            vals.push(v);
        }
        for (st, v) in self.states.iter_mut().zip(vals) {
            st.add(v);
        }
        Ok(())
    }

    /// The aggregates' values, or the failure of the first int sum beyond `int`.
    pub fn finish(self, specs: &[Spec]) -> R<Vec<Value>> {
        self.states.into_iter().zip(specs).map(|(st, spec)| st.finish(spec.span)).collect()
    }
}
