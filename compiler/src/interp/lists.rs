//! Stream operators applied to lists inside expressions (`xs |> map(f)`, `group_by` on a
//! list, ...), with the same semantics as on streams (see [`super::exec`]).

use super::agg::{Group, Spec};
use super::eval::Interp;
use super::value::{Value, compare, key_of};
use super::{EvalError, R};
use crate::builtins::BuiltinId as B;
use crate::check::hir::TExpr;
use crate::diag::codes;
use crate::source::Span;
use std::collections::HashMap;
use std::rc::Rc;

/// `Some(result)` when `name` is a list operator, `None` otherwise.
pub fn call(
    cx: &mut Interp,
    id: B,
    args: &[TExpr],
    named: &[(Rc<str>, TExpr)],
    e: &TExpr,
) -> R<Option<Value>> {
    let span = e.span;
    let is_op = matches!(
        id,
        B::Map
            | B::Filter
            | B::FlatMap
            | B::Take
            | B::Skip
            | B::Batch
            | B::Enumerate
            | B::Distinct
            | B::SortBy
            | B::GroupBy
            | B::Aggregate
            | B::LeftJoin
            | B::Union
    ) || (id == B::Join && args.len() == 4);
    if !is_op {
        return Ok(None);
    }
    let list = |v: Value| match v {
        Value::List(xs) => Ok(xs),
        _ => Err(EvalError::internal(span, format!("`{id}` on a value that is not a list"))),
    };
    let xs = list(cx.eval(arg(args, 0, span)?)?)?;
    let f = args.get(1);
    let mut out: Vec<Value> = Vec::new();
    match id {
        B::Map => {
            let f = arg(args, 1, span)?;
            for x in xs.iter() {
                out.push(cx.apply_lambda(f, x.clone())?);
            }
        }
        B::Filter => {
            let f = arg(args, 1, span)?;
            for x in xs.iter() {
                if matches!(cx.apply_lambda(f, x.clone())?, Value::Bool(true)) {
                    out.push(x.clone());
                }
            }
        }
        B::FlatMap => {
            let f = arg(args, 1, span)?;
            for x in xs.iter() {
                if let Value::List(ys) = cx.apply_lambda(f, x.clone())? {
                    out.extend(ys.iter().cloned());
                }
            }
        }
        B::Take | B::Skip | B::Batch => {
            let n = match cx.eval(arg(args, 1, span)?)? {
                Value::Int(n) => n,
                _ => return Err(EvalError::internal(span, "count is not an int")),
            };
            let k = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            match id {
                B::Take => out.extend(xs.iter().take(k).cloned()),
                B::Skip => out.extend(xs.iter().skip(k).cloned()),
                _ => {
                    check_batch(n, span)?;
                    out.extend(xs.chunks(k).map(|c| Value::list(c.to_vec())));
                }
            }
        }
        B::Enumerate => {
            for (i, x) in xs.iter().enumerate() {
                out.push(Value::record(vec![Value::Int(i as i64), x.clone()]));
            }
        }
        B::Distinct => {
            let f = arg(args, 1, span)?;
            let mut seen = std::collections::HashSet::new();
            for x in xs.iter() {
                if seen.insert(key_of(&cx.apply_lambda(f, x.clone())?)) {
                    out.push(x.clone());
                }
            }
        }
        B::SortBy => {
            let f = arg(args, 1, span)?;
            let desc = match named.iter().find(|(n, _)| &**n == "desc") {
                Some((_, d)) => matches!(cx.eval(d)?, Value::Bool(true)),
                None => false,
            };
            let mut keyed = Vec::with_capacity(xs.len());
            for x in xs.iter() {
                keyed.push((cx.apply_lambda(f, x.clone())?, x.clone()));
            }
            sort_keyed(&mut keyed, desc);
            out.extend(keyed.into_iter().map(|(_, x)| x));
        }
        B::GroupBy | B::Aggregate => {
            let specs: Vec<Spec> = named
                .iter()
                .map(|(_, c)| {
                    Spec::of_call(c).ok_or_else(|| EvalError::internal(span, "aggregate"))
                })
                .collect::<R<_>>()?;
            if id == B::Aggregate {
                let mut g = Group::new(&specs);
                for x in xs.iter() {
                    g.add(cx, &specs, x)?;
                }
                return Ok(Some(Value::record(g.finish(&specs)?)));
            }
            let f = arg(args, 1, span)?;
            let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
            let mut groups: Vec<(Value, Group)> = Vec::new();
            for x in xs.iter() {
                let k = cx.apply_lambda(f, x.clone())?;
                match index.get(&key_of(&k)) {
                    Some(&i) => groups[i].1.add(cx, &specs, x)?,
                    None => {
                        let mut g = Group::new(&specs);
                        g.add(cx, &specs, x)?;
                        index.insert(key_of(&k), groups.len());
                        groups.push((k, g));
                    }
                }
            }
            for (k, g) in groups {
                let mut fields = vec![k];
                fields.extend(g.finish(&specs)?);
                out.push(Value::record(fields));
            }
        }
        B::Join | B::LeftJoin => {
            let right = list(cx.eval(arg(args, 1, span)?)?)?;
            let (lk, rk) = (arg(args, 2, span)?, arg(args, 3, span)?);
            let mut table: HashMap<Vec<u8>, Vec<Value>> = HashMap::new();
            for r in right.iter() {
                let k = cx.apply_lambda(rk, r.clone())?;
                table.entry(key_of(&k)).or_default().push(r.clone());
            }
            for l in xs.iter() {
                let k = cx.apply_lambda(lk, l.clone())?;
                match table.get(&key_of(&k)) {
                    Some(rs) => {
                        out.extend(rs.iter().map(|r| Value::record(vec![l.clone(), r.clone()])))
                    }
                    None if id == B::LeftJoin => {
                        out.push(Value::record(vec![l.clone(), Value::Null]))
                    }
                    None => {}
                }
            }
        }
        B::Union => {
            let other = list(cx.eval(arg(args, 1, span)?)?)?;
            out.extend(xs.iter().cloned());
            out.extend(other.iter().cloned());
        }
        _ => {
            let _ = f;
            return Ok(None);
        }
    }
    Ok(Some(Value::list(out)))
}

fn arg(args: &[TExpr], i: usize, span: Span) -> R<&TExpr> {
    args.get(i).ok_or_else(|| EvalError::internal(span, "missing argument"))
}

/// `batch(n)` needs `n >= 1`.
pub fn check_batch(n: i64, span: Span) -> R<()> {
    if n < 1 {
        let m = kiln_runtime::exec::fail::batch_size(n);
        return Err(EvalError::new(codes::E0606, span, m));
    }
    Ok(())
}

/// Stable sort of `(key, element)` pairs by key; descending keeps equal keys in input order.
pub fn sort_keyed<T>(v: &mut [(Value, T)], desc: bool) {
    if desc {
        v.sort_by(|a, b| compare(&b.0, &a.0));
    } else {
        v.sort_by(|a, b| compare(&a.0, &b.0));
    }
}
