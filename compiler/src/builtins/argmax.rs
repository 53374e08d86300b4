//! `argmax(v: vec[N]) -> int`
//!
//! The index of the greatest element (the first one on ties).
//!
//! Examples:
//! - `argmax(vec[3]([1, 5, 5]))` → `1`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "argmax",
    id: super::BuiltinId::Argmax,
    signature: "argmax(v: vec[N]) -> int",
    doc: "The index of the greatest element (the first one on ties).",
    examples: &[(r#"argmax(vec[3]([1, 5, 5]))"#, r#"1"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "argmax", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    let Ty::Vec(_n) = a.ty else {
        cx.bad_arg("argmax", &a, "a vector");
        return Typed::error();
    };
    let ty = Ty::Int;
    Typed::new(vec![a], ty)
}
