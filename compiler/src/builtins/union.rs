//! `union(a: stream<T> | [T], b: stream<T> | [T]) -> stream<T> | [T]`
//!
//! The elements of `a`, then those of `b`.
//!
//! Examples:
//! - `union([1], [2, 3])` → `[1,2,3]`

use super::{Builtin, CallSite, Container, Typed};
use crate::check::Checker;
use crate::check::types::join;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "union",
    id: super::BuiltinId::Union,
    signature: "union(a: stream<T> | [T], b: stream<T> | [T]) -> stream<T> | [T]",
    doc: "The elements of `a`, then those of `b`.",
    examples: &[(r#"union([1], [2, 3])"#, r#"[1,2,3]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "union", 2, 2) {
        return Typed::error();
    }
    let (a, ea, ca) = cx.collection(site.args[0], "union");
    let (b, eb, cb) = cx.collection(site.args[1], "union");
    if ca == Container::Unknown || cb == Container::Unknown {
        return Typed::error();
    }
    if ca != cb {
        cx.report(
            Diagnostic::new(
                codes::E0200,
                b.span,
                format!("`union` needs two streams or two lists, found `{}` and `{}`", a.ty, b.ty),
            )
            .label("a different kind of collection"),
        );
        return Typed::error();
    }
    match join(&ea, &eb) {
        Some(j) => {
            let (a, b) = (cx.coerce(a, &ca.wrap(j.clone())), cx.coerce(b, &ca.wrap(j.clone())));
            Typed::new(vec![a, b], ca.wrap(j))
        }
        None => {
            cx.report(
                Diagnostic::new(
                    codes::E0200,
                    b.span,
                    format!("`union` needs elements of one type, found `{ea}` and `{eb}`"),
                )
                .label(format!("elements are `{eb}`"))
                .secondary(a.span, format!("elements are `{ea}`")),
            );
            Typed::error()
        }
    }
}
