//! `relu(v: vec[N]) -> vec[N] | relu(x: float) -> float`
//!
//! max(0, x), elementwise on vectors.
//!
//! Examples:
//! - `relu(-2.0)` → `0.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;


pub static BUILTIN: Builtin = Builtin {
    name: "relu",
    signature: "relu(v: vec[N]) -> vec[N] | relu(x: float) -> float",
    doc: "max(0, x), elementwise on vectors.",
    examples: &[
        (r#"relu(-2.0)"#, r#"0.0"#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "relu", 1, 1) {
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
            cx.bad_arg("relu", &a, "a vector or a number");
            Typed::error()
        }
    }
}
