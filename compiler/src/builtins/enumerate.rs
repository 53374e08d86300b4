//! `enumerate(xs: stream<T> | [T]) -> stream<{ index: int, item: T }> | [...]`
//!
//! Pairs each element with its position, from 0.
//!
//! Examples:
//! - `["a", "b"] |> enumerate()` → `[{"index":0,"item":"a"},{"index":1,"item":"b"}]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "enumerate",
    id: super::BuiltinId::Enumerate,
    signature: "enumerate(xs: stream<T> | [T]) -> stream<{ index: int, item: T }> | [...]",
    doc: "Pairs each element with its position, from 0.",
    examples: &[(
        r#"["a", "b"] |> enumerate()"#,
        r#"[{"index":0,"item":"a"},{"index":1,"item":"b"}]"#,
    )],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "enumerate", 1, 1) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "enumerate");
    let rec = Ty::record(vec![("index", Ty::Int), ("item", elem)]);
    Typed::new(vec![xs], c.wrap(rec))
}
