//! `mean(xs: [num]) -> float | mean(v: vec[N]) -> float`
//!
//! The arithmetic mean of a non-empty list of numbers (an empty list is a record error) or of a vector.
//!
//! Examples:
//! - `mean([1, 2, 4])` → `2.3333333333333335`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "mean",
    id: super::BuiltinId::Mean,
    signature: "mean(xs: [num]) -> float | mean(v: vec[N]) -> float",
    doc: "The arithmetic mean of a non-empty list of numbers (an empty list is a record error) or of a vector.",
    examples: &[(r#"mean([1, 2, 4])"#, r#"2.3333333333333335"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "mean", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty.clone() {
        Ty::List(t) if t.is_numeric() => {
            let a = cx.coerce(a, &Ty::list(Ty::Float));
            Typed::new(vec![a], Ty::Float)
        }
        Ty::Vec(_) => Typed::new(vec![a], Ty::Float),
        _ => {
            cx.bad_arg("mean", &a, "a list of numbers or a vector");
            Typed::error()
        }
    }
}
