//! `min(a: num, b: num) -> num | min(xs: [T]) -> T | min(v: vec[N]) -> float`
//!
//! The smaller of two numbers, the least element of a non-empty list (an empty list is a record error), or the least element of a vector.
//!
//! Examples:
//! - `min(3, 7.5)` → `3.0`
//! - `min([4, 2, 9])` → `2`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;


pub static BUILTIN: Builtin = Builtin {
    name: "min",
    signature: "min(a: num, b: num) -> num | min(xs: [T]) -> T | min(v: vec[N]) -> float",
    doc: "The smaller of two numbers, the least element of a non-empty list (an empty list is a record error), or the least element of a vector.",
    examples: &[
        (r#"min(3, 7.5)"#, r#"3.0"#),
        (r#"min([4, 2, 9])"#, r#"2"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "min", 1, 2) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    if site.args.len() == 2 {
        let b = cx.arg(site.args[1]);
        return match cx.numeric_join(a.clone(), b.clone()) {
            Some((a, b, ty)) => Typed::new(vec![a, b], ty),
            None => {
                let bad = if a.ty.is_numeric() { b } else { a };
                cx.bad_arg("min", &bad, "numbers");
                Typed::error()
            }
        };
    }
    match a.ty.clone() {
        Ty::List(t) if t.is_ordered() && *t != Ty::Never => Typed::new(vec![a], (*t).clone()),
        Ty::Vec(_) => Typed::new(vec![a], Ty::Float),
        _ => {
            cx.bad_arg("min", &a, "two numbers, a list of ordered values or a vector");
            Typed::error()
        }
    }
}
