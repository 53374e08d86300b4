//! `max(a: num, b: num) -> num | max(xs: [T]) -> T | max(v: vec[N]) -> float`
//!
//! The larger of two numbers, the greatest element of a non-empty list (an empty list is a record error), or the greatest element of a vector.
//!
//! Examples:
//! - `max(3, 7.5)` → `7.5`
//! - `max([4, 2, 9])` → `9`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "max",
    id: super::BuiltinId::Max,
    signature: "max(a: num, b: num) -> num | max(xs: [T]) -> T | max(v: vec[N]) -> float",
    doc: "The larger of two numbers, the greatest element of a non-empty list (an empty list is a record error), or the greatest element of a vector.",
    examples: &[(r#"max(3, 7.5)"#, r#"7.5"#), (r#"max([4, 2, 9])"#, r#"9"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    cx.min_max(site, "max")
}
