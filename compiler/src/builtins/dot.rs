//! `dot(a: vec[N], b: vec[N]) -> float`
//!
//! The dot product of two vectors of the same size.
//!
//! Examples:
//! - `dot(vec[2]([1, 2]), vec[2]([3, 4]))` → `11.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "dot",
    id: super::BuiltinId::Dot,
    signature: "dot(a: vec[N], b: vec[N]) -> float",
    doc: "The dot product of two vectors of the same size.",
    examples: &[(r#"dot(vec[2]([1, 2]), vec[2]([3, 4]))"#, r#"11.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "dot", 2, 2) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    let Ty::Vec(n) = a.ty else {
        cx.bad_arg("dot", &a, "a vector");
        return Typed::error();
    };
    let b = cx.arg_as(site.args[1], &Ty::Vec(n));
    Typed::new(vec![a, b], Ty::Float)
}
