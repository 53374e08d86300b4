//! `str(x: T) -> str`
//!
//! Text of any value: a string as is, numbers as in JSON output, lists and records as compact JSON.
//!
//! Examples:
//! - `str(42)` → `"42"`
//! - `str(2.0)` → `"2.0"`
//! - `str([1, 2])` → `"[1,2]"`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "str",
    id: super::BuiltinId::Str,
    signature: "str(x: T) -> str",
    doc: "Text of any value: a string as is, numbers as in JSON output, lists and records as compact JSON.",
    examples: &[
        (r#"str(42)"#, r#""42""#),
        (r#"str(2.0)"#, r#""2.0""#),
        (r#"str([1, 2])"#, r#""[1,2]""#),
    ],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "str", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    if matches!(a.ty, Ty::Stream(_) | Ty::Fn(..)) {
        cx.bad_arg("str", &a, "a value");
        return Typed::error();
    }
    Typed::new(vec![a], Ty::Str)
}
