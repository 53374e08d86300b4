//! `reverse(xs: [T]) -> [T] | reverse(s: str) -> str`
//!
//! The list (or the string's characters) in reverse order.
//!
//! Examples:
//! - `reverse([1, 2, 3])` → `[3,2,1]`
//! - `reverse("abc")` → `"cba"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "reverse",
    id: super::BuiltinId::Reverse,
    signature: "reverse(xs: [T]) -> [T] | reverse(s: str) -> str",
    doc: "The list (or the string's characters) in reverse order.",
    examples: &[(r#"reverse([1, 2, 3])"#, r#"[3,2,1]"#), (r#"reverse("abc")"#, r#""cba""#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "reverse", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty {
        Ty::List(_) | Ty::Str => {
            let ty = a.ty.clone();
            Typed::new(vec![a], ty)
        }
        _ => {
            cx.bad_arg("reverse", &a, "a list or a string");
            Typed::error()
        }
    }
}
