//! `softmax(v: vec[N]) -> vec[N]`
//!
//! exp of each element over the sum of exps (computed stably).
//!
//! Examples:
//! - `argmax(softmax(vec[3]([1, 3, 2])))` → `1`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "softmax",
    id: super::BuiltinId::Softmax,
    signature: "softmax(v: vec[N]) -> vec[N]",
    doc: "exp of each element over the sum of exps (computed stably).",
    examples: &[(r#"argmax(softmax(vec[3]([1, 3, 2])))"#, r#"1"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "softmax", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    let Ty::Vec(_n) = a.ty else {
        cx.bad_arg("softmax", &a, "a vector");
        return Typed::error();
    };
    let ty = Ty::Vec(_n);
    Typed::new(vec![a], ty)
}
