//! `min(a: num, b: num) -> num | min(xs: [T]) -> T | min(v: vec[N]) -> float`
//!
//! The smaller of two numbers, the least element of a non-empty list (an empty list is a record error), or the least element of a vector.
//!
//! Examples:
//! - `min(3, 7.5)` → `3.0`
//! - `min([4, 2, 9])` → `2`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "min",
    id: super::BuiltinId::Min,
    signature: "min(a: num, b: num) -> num | min(xs: [T]) -> T | min(v: vec[N]) -> float",
    doc: "The smaller of two numbers, the least element of a non-empty list (an empty list is a record error), or the least element of a vector.",
    examples: &[(r#"min(3, 7.5)"#, r#"3.0"#), (r#"min([4, 2, 9])"#, r#"2"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.min_max(site, "min")
}
