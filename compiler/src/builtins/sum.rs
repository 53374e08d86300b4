//! `sum(xs: [int]) -> int | sum(xs: [float]) -> float | sum(v: vec[N]) -> float`
//!
//! The sum of a list of numbers (0 for an empty list) or of a vector's elements.
//!
//! Examples:
//! - `sum([1, 2, 3])` → `6`
//! - `sum([0.5, 1])` → `1.5`
//! - `sum([])` → `0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "sum",
    id: super::BuiltinId::Sum,
    signature: "sum(xs: [int]) -> int | sum(xs: [float]) -> float | sum(v: vec[N]) -> float",
    doc: "The sum of a list of numbers (0 for an empty list) or of a vector's elements.",
    examples: &[
        (r#"sum([1, 2, 3])"#, r#"6"#),
        (r#"sum([0.5, 1])"#, r#"1.5"#),
        (r#"sum([])"#, r#"0"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "sum", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty.clone() {
        Ty::List(t) if *t == Ty::Int || *t == Ty::Never => {
            let a = cx.coerce(a, &Ty::list(Ty::Int));
            Typed::new(vec![a], Ty::Int)
        }
        Ty::List(t) if *t == Ty::Float => Typed::new(vec![a], Ty::Float),
        Ty::Vec(_) => Typed::new(vec![a], Ty::Float),
        _ => {
            cx.bad_arg("sum", &a, "a list of numbers or a vector");
            Typed::error()
        }
    }
}
