//! `int(x: int | float | bool) -> int`
//!
//! Converts to `int`, truncating toward zero; NaN or a float out of range is a record error. To read text use `parse_int`.
//!
//! Examples:
//! - `int(3.9)` → `3`
//! - `int(-3.9)` → `-3`
//! - `int(true)` → `1`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "int",
    id: super::BuiltinId::Int,
    signature: "int(x: int | float | bool) -> int",
    doc: "Converts to `int`, truncating toward zero; NaN or a float out of range is a record error. To read text use `parse_int`.",
    examples: &[(r#"int(3.9)"#, r#"3"#), (r#"int(-3.9)"#, r#"-3"#), (r#"int(true)"#, r#"1"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "int", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty {
        Ty::Int | Ty::Float | Ty::Bool => Typed::new(vec![a], Ty::Int),
        Ty::Str => {
            cx.report(
                Diagnostic::new(
                    codes::E0200,
                    a.span,
                    "`int` converts numbers; to read text use `parse_int`",
                )
                .label("this is `str`")
                .help("write `parse_int(s)`"),
            );
            Typed::error()
        }
        _ => {
            cx.bad_arg("int", &a, "a number or a bool");
            Typed::error()
        }
    }
}
