//! `max(a: num, b: num) -> num | max(xs: [T]) -> T | max(v: vec[N]) -> float`
//!
//! The larger of two numbers, the greatest element of a non-empty list (an empty list is a record error), or the greatest element of a vector.
//!
//! Examples:
//! - `max(3, 7.5)` → `7.5`
//! - `max([4, 2, 9])` → `9`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;


pub static BUILTIN: Builtin = Builtin {
    name: "max",
    signature: "max(a: num, b: num) -> num | max(xs: [T]) -> T | max(v: vec[N]) -> float",
    doc: "The larger of two numbers, the greatest element of a non-empty list (an empty list is a record error), or the greatest element of a vector.",
    examples: &[
        (r#"max(3, 7.5)"#, r#"7.5"#),
        (r#"max([4, 2, 9])"#, r#"9"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "max", 1, 2) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    if site.args.len() == 2 {
        let b = cx.arg(site.args[1]);
        return match cx.numeric_join(a.clone(), b.clone()) {
            Some((a, b, ty)) => Typed::new(vec![a, b], ty),
            None => {
                let bad = if a.ty.is_numeric() { b } else { a };
                cx.bad_arg("max", &bad, "numbers");
                Typed::error()
            }
        };
    }
    match a.ty.clone() {
        Ty::List(t) if t.is_ordered() && *t != Ty::Never => Typed::new(vec![a], (*t).clone()),
        Ty::Vec(_) => Typed::new(vec![a], Ty::Float),
        _ => {
            cx.bad_arg("max", &a, "two numbers, a list of ordered values or a vector");
            Typed::error()
        }
    }
}
