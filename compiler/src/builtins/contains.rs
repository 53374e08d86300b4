//! `contains(s: str, part: str) -> bool | contains(xs: [T], x: T) -> bool`
//!
//! Whether a string contains a substring, or a list contains an element (structural equality).
//!
//! Examples:
//! - `contains("kiln", "il")` → `true`
//! - `contains([1, 2], 3)` → `false`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use crate::check::types::join;

pub static BUILTIN: Builtin = Builtin {
    name: "contains",
    id: super::BuiltinId::Contains,
    signature: "contains(s: str, part: str) -> bool | contains(xs: [T], x: T) -> bool",
    doc: "Whether a string contains a substring, or a list contains an element (structural equality).",
    examples: &[(r#"contains("kiln", "il")"#, r#"true"#), (r#"contains([1, 2], 3)"#, r#"false"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "contains", 2, 2) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty.clone() {
        Ty::Str => {
            let p = cx.arg_as(site.args[1], &Ty::Str);
            Typed::new(vec![a, p], Ty::Bool)
        }
        Ty::List(t) => {
            let x = cx.arg(site.args[1]);
            match join(&t, &x.ty) {
                Some(j) if j.is_equatable() => {
                    let a = cx.coerce(a, &Ty::list(j.clone()));
                    let x = cx.coerce(x, &j);
                    Typed::new(vec![a, x], Ty::Bool)
                }
                _ => {
                    cx.bad_arg("contains", &x, &format!("an element of type `{t}`"));
                    Typed::error()
                }
            }
        }
        _ => {
            cx.bad_arg("contains", &a, "a string or a list");
            Typed::error()
        }
    }
}
