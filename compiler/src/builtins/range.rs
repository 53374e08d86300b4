//! `range(a: int, b: int) -> stream<int> | [int]`
//!
//! The integers `a <= i < b`. In a `source`, `stage` or `sink` expression it is a stream;
//! elsewhere (inside functions and lambdas) it is a list.
//!
//! Examples:
//! - `range(0, 4)` → `[0,1,2,3]`
//! - `range(3, 1)` → `[]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "range",
    id: super::BuiltinId::Range,
    signature: "range(a: int, b: int) -> stream<int> | [int]",
    doc: "The integers `a <= i < b`: a stream in source, stage and sink expressions, a list elsewhere.",
    examples: &[(r#"range(0, 4)"#, r#"[0,1,2,3]"#), (r#"range(3, 1)"#, r#"[]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    let ty = if cx.in_stream_context() { Ty::stream(Ty::Int) } else { Ty::list(Ty::Int) };
    cx.simple(site, "range", &[Ty::Int, Ty::Int], ty)
}
