//! `aggregate(xs: stream<T> | [T], name: aggregate, ...) -> stream<{ name: ..., ... }> | { ... }`
//!
//! One record over the whole input. Over an empty input `count` and `sum` are 0 and the other aggregates are null, so `mean/min/max/first/last` have optional types. On a stream the result is a stream of that one record.
//!
//! Examples:
//! - `[1, 2, 3] |> aggregate(n: count(), top: max(x => x))` → `{"n":3,"top":3}`

use super::Container;
use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use std::rc::Rc;

pub static BUILTIN: Builtin = Builtin {
    name: "aggregate",
    id: super::BuiltinId::Aggregate,
    signature: "aggregate(xs: stream<T> | [T], name: aggregate, ...) -> stream<{ name: ..., ... }> | { ... }",
    doc: "One record over the whole input. Over an empty input `count` and `sum` are 0 and the other aggregates are null, so `mean/min/max/first/last` have optional types. On a stream the result is a stream of that one record.",
    examples: &[(r#"[1, 2, 3] |> aggregate(n: count(), top: max(x => x))"#, r#"{"n":3,"top":3}"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_positional(site, "aggregate", 1) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "aggregate");
    let mut fields: Vec<(Rc<str>, Ty)> = Vec::new();
    let Some(named) = super::aggregates::check_all(cx, site, &elem, false, &mut fields) else {
        return Typed::error();
    };
    let rec = Ty::record(fields);
    let ty = match c {
        Container::Stream => Ty::stream(rec),
        Container::List => rec,
        Container::Unknown => Ty::Error,
    };
    Typed { args: vec![xs], named, ty }
}
