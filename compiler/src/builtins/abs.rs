//! `abs(x: int | float | vec[N]) -> same`
//!
//! Absolute value (elementwise on vectors). `abs` of the smallest int is an overflow error.
//!
//! Examples:
//! - `abs(-3)` → `3`
//! - `abs(-2.5)` → `2.5`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "abs",
    id: super::BuiltinId::Abs,
    signature: "abs(x: int | float | vec[N]) -> same",
    doc: "Absolute value (elementwise on vectors). `abs` of the smallest int is an overflow error.",
    examples: &[(r#"abs(-3)"#, r#"3"#), (r#"abs(-2.5)"#, r#"2.5"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "abs", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    if !(a.ty.is_numeric() || matches!(a.ty, Ty::Vec(_))) {
        cx.bad_arg("abs", &a, "a number or a vector");
        return Typed::error();
    }
    let ty = a.ty.clone();
    Typed::new(vec![a], ty)
}
