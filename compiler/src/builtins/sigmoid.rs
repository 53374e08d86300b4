//! `sigmoid(v: vec[N]) -> vec[N] | sigmoid(x: float) -> float`
//!
//! 1 / (1 + exp(-x)), elementwise on vectors.
//!
//! Examples:
//! - `sigmoid(0.0)` → `0.5`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;


pub static BUILTIN: Builtin = Builtin {
    name: "sigmoid",
    signature: "sigmoid(v: vec[N]) -> vec[N] | sigmoid(x: float) -> float",
    doc: "1 / (1 + exp(-x)), elementwise on vectors.",
    examples: &[
        (r#"sigmoid(0.0)"#, r#"0.5"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "sigmoid", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty {
        Ty::Vec(_) => {
            let ty = a.ty.clone();
            Typed::new(vec![a], ty)
        }
        Ty::Int | Ty::Float => {
            let a = cx.coerce(a, &Ty::Float);
            Typed::new(vec![a], Ty::Float)
        }
        _ => {
            cx.bad_arg("sigmoid", &a, "a vector or a number");
            Typed::error()
        }
    }
}
