//! `group_by(xs: stream<T> | [T], key: T -> K, name: aggregate, ...) -> stream<{ key: K, name: ..., ... }>`
//!
//! One record per distinct key, in order of the key's first appearance, with one field per named aggregate (`count()`, `sum(f)`, `mean(f)`, `min(f)`, `max(f)`, `first(f)`, `last(f)`, `collect(f)`); every group is non-empty, so aggregates are never null.
//!
//! Examples:
//! - `[1, 2, 3, 4] |> group_by(x => x % 2, n: count(), total: sum(x => x))` → `[{"key":1,"n":2,"total":4},{"key":0,"n":2,"total":6}]`

use super::key_ok;
use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use std::rc::Rc;

pub static BUILTIN: Builtin = Builtin {
    name: "group_by",
    id: super::BuiltinId::GroupBy,
    signature: "group_by(xs: stream<T> | [T], key: T -> K, name: aggregate, ...) -> stream<{ key: K, name: ..., ... }>",
    doc: "One record per distinct key, in order of the key's first appearance, with one field per named aggregate (`count()`, `sum(f)`, `mean(f)`, `min(f)`, `max(f)`, `first(f)`, `last(f)`, `collect(f)`); every group is non-empty, so aggregates are never null.",
    examples: &[(
        r#"[1, 2, 3, 4] |> group_by(x => x % 2, n: count(), total: sum(x => x))"#,
        r#"[{"key":1,"n":2,"total":4},{"key":0,"n":2,"total":6}]"#,
    )],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_positional(site, "group_by", 2) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "group_by");
    let key = cx.func_arg(site.args[1], &elem, None);
    let key_is_ok = key_ok(cx, &key, site.args[1].span, "group_by");
    // The aggregates are checked even when the key is wrong (each reports its own problems).
    let mut fields = vec![(Rc::from("key"), Checker::func_ret(&key))];
    let Some(named) = super::aggregates::check_all(cx, site, &elem, true, &mut fields) else {
        return Typed::error();
    };
    if !key_is_ok {
        return Typed::error();
    }
    Typed { args: vec![xs, key], named, ty: c.wrap(Ty::record(fields)) }
}
