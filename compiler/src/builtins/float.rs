//! `float(x: int | float | bool) -> float`
//!
//! Converts to `float` (`true` is 1.0). To read text use `parse_float`.
//!
//! Examples:
//! - `float(3)` → `3.0`
//! - `float(true)` → `1.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "float",
    id: super::BuiltinId::Float,
    signature: "float(x: int | float | bool) -> float",
    doc: "Converts to `float` (`true` is 1.0). To read text use `parse_float`.",
    examples: &[(r#"float(3)"#, r#"3.0"#), (r#"float(true)"#, r#"1.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "float", 1, 1) {
        return Typed::error();
    }
    let a = cx.arg(site.args[0]);
    match a.ty {
        Ty::Int | Ty::Float | Ty::Bool => Typed::new(vec![a], Ty::Float),
        Ty::Str => {
            cx.report(
                Diagnostic::new(
                    codes::E0200,
                    a.span,
                    "`float` converts numbers; to read text use `parse_float`",
                )
                .label("this is `str`")
                .help("write `parse_float(s)`"),
            );
            Typed::error()
        }
        _ => {
            cx.bad_arg("float", &a, "a number or a bool");
            Typed::error()
        }
    }
}
