//! `to_list(v: vec[N]) -> [float]`
//!
//! The elements as a list of floats.
//!
//! Examples:
//! - `to_list(vec[2]([1.5, 2]))` → `[1.5,2.0]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "to_list",
    id: super::BuiltinId::ToList,
    signature: "to_list(v: vec[N]) -> [float]",
    doc: "The elements as a list of floats.",
    examples: &[(r#"to_list(vec[2]([1.5, 2]))"#, r#"[1.5,2.0]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "to_list", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    let Ty::Vec(_n) = a.ty else {
        cx.bad_arg("to_list", &a, "a vector");
        return Typed::error();
    };
    let ty = Ty::list(Ty::Float);
    Typed::new(vec![a], ty)
}
