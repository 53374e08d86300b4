//! `norm(v: vec[N]) -> float`
//!
//! The Euclidean (L2) norm.
//!
//! Examples:
//! - `norm(vec[2]([3, 4]))` → `5.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "norm",
    id: super::BuiltinId::Norm,
    signature: "norm(v: vec[N]) -> float",
    doc: "The Euclidean (L2) norm.",
    examples: &[(r#"norm(vec[2]([3, 4]))"#, r#"5.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "norm", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    let Ty::Vec(_n) = a.ty else {
        cx.bad_arg("norm", &a, "a vector");
        return Typed::error();
    };
    let ty = Ty::Float;
    Typed::new(vec![a], ty)
}
