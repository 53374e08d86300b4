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
    name: &str,
    args: &[TExpr],
    named: &[(Rc<str>, TExpr)],
    e: &TExpr,
) -> R<Value> {
    if let Some(v) = super::lists::call(cx, name, args, named, e)? {
        return Ok(v);
    }
    let span = e.span;
    if name == "complete" {
        return super::models::complete(cx, args, named, e);
    }
    let vals = cx.eval_all(args)?;
    if name == "str" {
        let ty = args.first().map(|a| a.ty.clone()).unwrap_or(Ty::Error);
        return Ok(Value::str(&to_text(vals.first().unwrap_or(&Value::Null), &ty)));
    }
    if let (Some(Value::List(xs)), Some(a)) = (vals.first(), args.first())
        && name == "sum"
        && a.ty == Ty::list(Ty::Float)
    {
        return Ok(Value::Float(FSum::of(xs.iter().map(f))));
    }
    scalar(name, &vals, span)
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
pub fn scalar(name: &str, a: &[Value], span: Span) -> R<Value> {
    use Value as V;
    let a0 = a.first().unwrap_or(&V::Null);
    let a1 = a.get(1).unwrap_or(&V::Null);
    let a2 = a.get(2).unwrap_or(&V::Null);
    let s0 = || match a0 {
        V::Str(s) => Ok(s.clone()),
        _ => Err(bad(span, name)),
    };
    let s1 = || match a1 {
        V::Str(s) => Ok(s.clone()),
        _ => Err(bad(span, name)),
    };
    let int = |v: &Value| match v {
        V::Int(n) => Ok(*n),
        _ => Err(bad(span, name)),
    };
    Ok(match name {
        "abs" => match a0 {
            V::Int(n) => V::Int(
                n.checked_abs().ok_or_else(|| EvalError::overflow(span, format!("abs({n})")))?,
            ),
            V::Float(x) => V::Float(x.abs()),
            V::Vec(xs) => V::Vec(xs.iter().map(|x| x.abs()).collect()),
            _ => return Err(bad(span, name)),
        },
        "floor" => V::Float(f(a0).floor()),
        "ceil" => V::Float(f(a0).ceil()),
        // f64::round rounds half away from zero.
        "round" => V::Float(f(a0).round()),
        "sqrt" => V::Float(f(a0).sqrt()),
        "exp" => V::Float(f(a0).exp()),
        "log" => V::Float(f(a0).ln()),
        "pow" => V::Float(f(a0).powf(f(a1))),
        "clamp" => match (a0, a1, a2) {
            (V::Int(x), V::Int(lo), V::Int(hi)) => V::Int(*(x.min(hi)).max(lo)),
            _ => V::Float(f(a0).min(f(a2)).max(f(a1))),
        },
        "min" | "max" if a.len() == 2 => {
            let want =
                if name == "min" { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
            match (a0, a1) {
                (V::Int(x), V::Int(y)) => V::Int(if x.cmp(y) == want { *x } else { *y }),
                _ if name == "min" => V::Float(f(a0).min(f(a1))),
                _ => V::Float(f(a0).max(f(a1))),
            }
        }
        "min" | "max" => match a0 {
            V::Vec(xs) => V::Float(vecfn::extreme(xs, name == "max")),
            V::List(xs) => {
                let want = if name == "min" {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                };
                if xs.is_empty() {
                    return Err(EvalError::new(codes::E0605, span, fail::empty_list(name)));
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
            _ => return Err(bad(span, name)),
        },
        "mean" => match a0 {
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
            _ => return Err(bad(span, name)),
        },
        "sum" => match a0 {
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
            _ => return Err(bad(span, name)),
        },
        "dot" => match (a0, a1) {
            (V::Vec(x), V::Vec(y)) => V::Float(vecfn::dot64(x, y)),
            _ => return Err(bad(span, name)),
        },
        "norm" => match a0 {
            V::Vec(xs) => V::Float(vecfn::norm64(xs)),
            _ => return Err(bad(span, name)),
        },
        "argmax" => match a0 {
            V::Vec(xs) => V::Int(vecfn::argmax(xs)),
            _ => return Err(bad(span, name)),
        },
        "softmax" => match a0 {
            V::Vec(xs) => V::Vec(vecfn::softmax(xs).into()),
            _ => return Err(bad(span, name)),
        },
        "relu" => match a0 {
            V::Vec(xs) => V::Vec(xs.iter().map(|x| vecfn::relu(*x)).collect()),
            _ => V::Float(if f(a0) > 0.0 || f(a0).is_nan() { f(a0) } else { 0.0 }),
        },
        "sigmoid" => match a0 {
            V::Vec(xs) => map_f32(xs, sigmoid),
            _ => V::Float(sigmoid(f(a0))),
        },
        "tanh" => match a0 {
            V::Vec(xs) => map_f32(xs, f64::tanh),
            _ => V::Float(f(a0).tanh()),
        },
        "to_list" => match a0 {
            V::Vec(xs) => V::list(xs.iter().map(|x| V::Float(f64::from(*x))).collect()),
            _ => return Err(bad(span, name)),
        },
        "float" => match a0 {
            V::Bool(b) => V::Float(if *b { 1.0 } else { 0.0 }),
            _ => V::Float(f(a0)),
        },
        "int" => match a0 {
            V::Int(n) => V::Int(*n),
            V::Bool(b) => V::Int(i64::from(*b)),
            V::Float(x) => {
                let t = x.trunc();
                if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
                    return Err(EvalError::new(codes::E0603, span, fail::int_of_float(*x)));
                }
                V::Int(t as i64)
            }
            _ => return Err(bad(span, name)),
        },
        "parse_int" => {
            let s = s0()?;
            V::Int(text::parse_int(&s).map_err(|e| parse_error(span, "an integer", &s, e))?)
        }
        "parse_float" => {
            let s = s0()?;
            V::Float(text::parse_float(&s).map_err(|e| parse_error(span, "a number", &s, e))?)
        }
        "len" => match a0 {
            V::Str(s) => V::Int(s.chars().count() as i64),
            V::List(xs) => V::Int(xs.len() as i64),
            V::Vec(xs) => V::Int(xs.len() as i64),
            _ => return Err(bad(span, name)),
        },
        "lower" => V::str(&s0()?.to_lowercase()),
        "upper" => V::str(&s0()?.to_uppercase()),
        "trim" => V::str(s0()?.trim()),
        "contains" => match a0 {
            V::Str(s) => V::Bool(s.contains(&*s1()?)),
            V::List(xs) => V::Bool(xs.iter().any(|x| equal(x, a1))),
            _ => return Err(bad(span, name)),
        },
        "starts_with" => V::Bool(s0()?.starts_with(&*s1()?)),
        "ends_with" => V::Bool(s0()?.ends_with(&*s1()?)),
        "replace" => {
            let to = match a2 {
                V::Str(s) => s.clone(),
                _ => return Err(bad(span, name)),
            };
            V::str(&s0()?.replace(&*s1()?, &to))
        }
        "split" => {
            let (s, sep) = (s0()?, s1()?);
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| V::str(c.encode_utf8(&mut [0; 4]))).collect()
            } else {
                s.split(&*sep).map(V::str).collect()
            };
            V::list(parts)
        }
        "join" => match a0 {
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
            _ => return Err(bad(span, name)),
        },
        "substr" => {
            let s = s0()?;
            let start = usize::try_from(int(a1)?.max(0)).unwrap_or(usize::MAX);
            let n = usize::try_from(int(a2)?.max(0)).unwrap_or(usize::MAX);
            V::str(&s.chars().skip(start).take(n).collect::<String>())
        }
        "truncate" => {
            let s = s0()?;
            let n = usize::try_from(int(a1)?.max(0)).unwrap_or(usize::MAX);
            V::str(&s.chars().take(n).collect::<String>())
        }
        "tokens" => V::list(text::tokens(&s0()?).iter().map(|t| V::str(t)).collect()),
        "hash_embed" => {
            let n = usize::try_from(int(a1)?).map_err(|_| bad(span, name))?;
            V::Vec(text::hash_embed(&s0()?, n).into())
        }
        "reverse" => match a0 {
            V::Str(s) => V::str(&s.chars().rev().collect::<String>()),
            V::List(xs) => V::list(xs.iter().rev().cloned().collect()),
            _ => return Err(bad(span, name)),
        },
        "sort" => match a0 {
            V::List(xs) => {
                let mut v: Vec<Value> = xs.to_vec();
                v.sort_by(compare);
                V::list(v)
            }
            _ => return Err(bad(span, name)),
        },
        "range" => {
            let (lo, hi) = (int(a0)?, int(a1)?);
            let n = hi.saturating_sub(lo).max(0);
            if n > MAX_RANGE_LIST {
                return Err(EvalError::new(codes::E0606, span, fail::range_size(lo, hi)));
            }
            V::list((lo..hi).map(V::Int).collect())
        }
        _ => return Err(EvalError::unsupported(span, format!("the builtin `{name}`"))),
    })
}

/// The longest list `range(a, b)` may build inside an expression.
pub use kiln_runtime::listany::MAX_RANGE_LIST;

fn parse_error(span: Span, what: &str, s: &str, e: NumErr) -> EvalError {
    EvalError::new(codes::E0604, span, fail::parse(s, what, &e))
}
