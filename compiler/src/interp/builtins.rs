//! The builtin functions of LANGUAGE.md §1.7 on values. Functions that take a lambda or
//! work on whole lists (`map`, `group_by`, `join` ...) are in [`super::lists`].
//!
//! Vector builtins use the runtime's definitions (`kiln_runtime::vecfn`), which compiled
//! code calls too: reductions are exact (products of two f32 are exact in f64, and `dot`,
//! `sum`, `norm`, `mean` add them in f64 from the first element to the last); `sigmoid`,
//! `tanh` and `softmax` compute in f64 and round each result to f32.

use super::eval::Interp;
use super::text::{self, NumErr};
use super::value::{Value, compare, equal, to_text};
use super::{EvalError, R};
use crate::builtins::BuiltinId as B;
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::diag::codes;
use crate::source::Span;
use kiln_runtime::exec::fail;
use kiln_runtime::fsum::FSum;
use kiln_runtime::vecfn::{self, sigmoid, sum64};
use std::rc::Rc;

/// Evaluates the call `e` of builtin `name`.
pub fn call(
    cx: &mut Interp,
    id: B,
    args: &[TExpr],
    named: &[(Rc<str>, TExpr)],
    e: &TExpr,
) -> R<Value> {
    if let Some(v) = super::lists::call(cx, id, args, named, e)? {
        return Ok(v);
    }
    let span = e.span;
    if id == B::Complete {
        return super::models::complete(cx, args, named, e);
    }
    let vals = cx.eval_all(args)?;
    if id == B::Str {
        let ty = args.first().map(|a| a.ty.clone()).unwrap_or(Ty::Error);
        return Ok(Value::str(&to_text(vals.first().unwrap_or(&Value::Null), &ty)));
    }
    if let (Some(Value::List(xs)), Some(a)) = (vals.first(), args.first())
        && id == B::Sum
        && a.ty == Ty::list(Ty::Float)
    {
        return Ok(Value::Float(FSum::of(xs.iter().map(f))));
    }
    scalar(id, &vals, span)
}

fn bad(span: Span, name: &str) -> EvalError {
    EvalError::internal(span, format!("`{name}` called with unexpected values"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn map_f32(xs: &[f32], g: impl Fn(f64) -> f64) -> Value {
    Value::Vec(vecfn::map64(xs, g).into())
}

/// Builtins over plain values.
pub fn scalar(id: B, a: &[Value], span: Span) -> R<Value> {
    use Value as V;
    let a0 = a.first().unwrap_or(&V::Null);
    let a1 = a.get(1).unwrap_or(&V::Null);
    let a2 = a.get(2).unwrap_or(&V::Null);
    let s0 = || match a0 {
        V::Str(s) => Ok(s.clone()),
        _ => Err(bad(span, id.name())),
    };
    let s1 = || match a1 {
        V::Str(s) => Ok(s.clone()),
        _ => Err(bad(span, id.name())),
    };
    let int = |v: &Value| match v {
        V::Int(n) => Ok(*n),
        _ => Err(bad(span, id.name())),
    };
    Ok(match id {
        B::Abs => match a0 {
            V::Int(n) => V::Int(
                n.checked_abs().ok_or_else(|| EvalError::overflow(span, format!("abs({n})")))?,
            ),
            V::Float(x) => V::Float(x.abs()),
            V::Vec(xs) => V::Vec(xs.iter().map(|x| x.abs()).collect()),
            _ => return Err(bad(span, id.name())),
        },
        B::Floor => V::Float(f(a0).floor()),
        B::Ceil => V::Float(f(a0).ceil()),
        // f64::round rounds half away from zero.
        B::Round => V::Float(f(a0).round()),
        B::Sqrt => V::Float(f(a0).sqrt()),
        B::Exp => V::Float(f(a0).exp()),
        B::Log => V::Float(f(a0).ln()),
        B::Pow => V::Float(f(a0).powf(f(a1))),
        B::Clamp => match (a0, a1, a2) {
            (V::Int(x), V::Int(lo), V::Int(hi)) => V::Int(*(x.min(hi)).max(lo)),
            _ => V::Float(f(a0).min(f(a2)).max(f(a1))),
        },
        B::Min | B::Max if a.len() == 2 => {
            let want =
                if id == B::Min { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
            match (a0, a1) {
                (V::Int(x), V::Int(y)) => V::Int(if x.cmp(y) == want { *x } else { *y }),
                _ if id == B::Min => V::Float(f(a0).min(f(a1))),
                _ => V::Float(f(a0).max(f(a1))),
            }
        }
        B::Min | B::Max => match a0 {
            V::Vec(xs) => V::Float(vecfn::extreme(xs, id == B::Max)),
            V::List(xs) => {
                let want = if id == B::Min {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                };
                if xs.is_empty() {
                    return Err(EvalError::new(codes::E0605, span, fail::empty_list(id.name())));
                }
                // Nulls are skipped (as the `min`/`max` aggregates do): null only when
                // every element is null.
                let mut best: Option<&Value> = None;
                for x in xs.iter().filter(|x| !x.is_null()) {
                    if best.is_none_or(|b| compare(x, b) == want) {
                        best = Some(x);
                    }
                }
                best.cloned().unwrap_or(Value::Null)
            }
            _ => return Err(bad(span, id.name())),
        },
        B::Mean => match a0 {
            V::Vec(xs) => V::Float(vecfn::mean64(xs)),
            V::List(xs) if xs.is_empty() => {
                return Err(EvalError::new(codes::E0605, span, fail::empty_list("mean")));
            }
            // Exact (LANGUAGE.md §1.5): ints as the exact total over the count, rounded
            // once; floats as the correctly rounded sum over the count.
            V::List(xs) if xs.iter().all(|x| matches!(x, V::Int(_))) => {
                let total: i128 = xs.iter().map(|x| i128::from(int(x).unwrap_or(0))).sum();
                V::Float(kiln_runtime::fsum::ratio(total, xs.len() as i64))
            }
            V::List(xs) => V::Float(FSum::of(xs.iter().map(f)) / xs.len() as f64),
            _ => return Err(bad(span, id.name())),
        },
        B::Sum => match a0 {
            V::Vec(xs) => V::Float(sum64(xs)),
            V::List(xs) => {
                if xs.iter().any(|x| matches!(x, V::Float(_))) {
                    V::Float(FSum::of(xs.iter().map(f)))
                } else {
                    // Exact; only the total must fit in `int`.
                    let mut s: i128 = 0;
                    for x in xs.iter() {
                        s += i128::from(int(x)?);
                    }
                    V::Int(i64::try_from(s).map_err(|_| {
                        EvalError::new(codes::E0600, span, kiln_runtime::exec::agg::sum_overflow(s))
                    })?)
                }
            }
            _ => return Err(bad(span, id.name())),
        },
        B::Dot => match (a0, a1) {
            (V::Vec(x), V::Vec(y)) => V::Float(vecfn::dot64(x, y)),
            _ => return Err(bad(span, id.name())),
        },
        B::Norm => match a0 {
            V::Vec(xs) => V::Float(vecfn::norm64(xs)),
            _ => return Err(bad(span, id.name())),
        },
        B::Argmax => match a0 {
            V::Vec(xs) => V::Int(vecfn::argmax(xs)),
            _ => return Err(bad(span, id.name())),
        },
        B::Softmax => match a0 {
            V::Vec(xs) => V::Vec(vecfn::softmax(xs).into()),
            _ => return Err(bad(span, id.name())),
        },
        B::Relu => match a0 {
            V::Vec(xs) => V::Vec(xs.iter().map(|x| vecfn::relu(*x)).collect()),
            _ => V::Float(if f(a0) > 0.0 || f(a0).is_nan() { f(a0) } else { 0.0 }),
        },
        B::Sigmoid => match a0 {
            V::Vec(xs) => map_f32(xs, sigmoid),
            _ => V::Float(sigmoid(f(a0))),
        },
        B::Tanh => match a0 {
            V::Vec(xs) => map_f32(xs, f64::tanh),
            _ => V::Float(f(a0).tanh()),
        },
        B::ToList => match a0 {
            V::Vec(xs) => V::list(xs.iter().map(|x| V::Float(f64::from(*x))).collect()),
            _ => return Err(bad(span, id.name())),
        },
        B::Float => match a0 {
            V::Bool(b) => V::Float(if *b { 1.0 } else { 0.0 }),
            _ => V::Float(f(a0)),
        },
        B::Int => match a0 {
            V::Int(n) => V::Int(*n),
            V::Bool(b) => V::Int(i64::from(*b)),
            V::Float(x) => {
                let t = x.trunc();
                if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
                    return Err(EvalError::new(codes::E0603, span, fail::int_of_float(*x)));
                }
                V::Int(t as i64)
            }
            _ => return Err(bad(span, id.name())),
        },
        B::ParseInt => {
            let s = s0()?;
            V::Int(text::parse_int(&s).map_err(|e| parse_error(span, "an integer", &s, e))?)
        }
        B::ParseFloat => {
            let s = s0()?;
            V::Float(text::parse_float(&s).map_err(|e| parse_error(span, "a number", &s, e))?)
        }
        B::Len => match a0 {
            V::Str(s) => V::Int(s.chars().count() as i64),
            V::List(xs) => V::Int(xs.len() as i64),
            V::Vec(xs) => V::Int(xs.len() as i64),
            _ => return Err(bad(span, id.name())),
        },
        B::Lower => V::str(&s0()?.to_lowercase()),
        B::Upper => V::str(&s0()?.to_uppercase()),
        B::Trim => V::str(s0()?.trim()),
        B::Contains => match a0 {
            V::Str(s) => V::Bool(s.contains(&*s1()?)),
            V::List(xs) => V::Bool(xs.iter().any(|x| equal(x, a1))),
            _ => return Err(bad(span, id.name())),
        },
        B::StartsWith => V::Bool(s0()?.starts_with(&*s1()?)),
        B::EndsWith => V::Bool(s0()?.ends_with(&*s1()?)),
        B::Replace => {
            let to = match a2 {
                V::Str(s) => s.clone(),
                _ => return Err(bad(span, id.name())),
            };
            V::str(&s0()?.replace(&*s1()?, &to))
        }
        B::Split => {
            let (s, sep) = (s0()?, s1()?);
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| V::str(c.encode_utf8(&mut [0; 4]))).collect()
            } else {
                s.split(&*sep).map(V::str).collect()
            };
            V::list(parts)
        }
        B::Join => match a0 {
            V::List(xs) => {
                let sep = s1()?;
                let parts: Vec<&str> = xs
                    .iter()
                    .map(|x| match x {
                        V::Str(s) => &**s,
                        _ => "",
                    })
                    .collect();
                V::str(&parts.join(&sep))
            }
            _ => return Err(bad(span, id.name())),
        },
        B::Substr => {
            let s = s0()?;
            let start = usize::try_from(int(a1)?.max(0)).unwrap_or(usize::MAX);
            let n = usize::try_from(int(a2)?.max(0)).unwrap_or(usize::MAX);
            V::str(&s.chars().skip(start).take(n).collect::<String>())
        }
        B::Truncate => {
            let s = s0()?;
            let n = usize::try_from(int(a1)?.max(0)).unwrap_or(usize::MAX);
            V::str(&s.chars().take(n).collect::<String>())
        }
        B::Tokens => V::list(text::tokens(&s0()?).iter().map(|t| V::str(t)).collect()),
        B::HashEmbed => {
            let n = usize::try_from(int(a1)?).map_err(|_| bad(span, id.name()))?;
            V::Vec(text::hash_embed(&s0()?, n).into())
        }
        B::Reverse => match a0 {
            V::Str(s) => V::str(&s.chars().rev().collect::<String>()),
            V::List(xs) => V::list(xs.iter().rev().cloned().collect()),
            _ => return Err(bad(span, id.name())),
        },
        B::Sort => match a0 {
            V::List(xs) => {
                let mut v: Vec<Value> = xs.to_vec();
                v.sort_by(compare);
                V::list(v)
            }
            _ => return Err(bad(span, id.name())),
        },
        B::Range => {
            let (lo, hi) = (int(a0)?, int(a1)?);
            let n = hi.saturating_sub(lo).max(0);
            if n > MAX_RANGE_LIST {
                return Err(EvalError::new(codes::E0606, span, fail::range_size(lo, hi)));
            }
            V::list((lo..hi).map(V::Int).collect())
        }
        _ => return Err(EvalError::unsupported(span, format!("the builtin `{id}`"))),
    })
}

/// The longest list `range(a, b)` may build inside an expression.
pub use kiln_runtime::listany::MAX_RANGE_LIST;

fn parse_error(span: Span, what: &str, s: &str, e: NumErr) -> EvalError {
    EvalError::new(codes::E0604, span, fail::parse(s, what, &e))
}
