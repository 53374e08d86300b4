//! `flat_map(xs: stream<T> | [T], f: T -> [U]) -> stream<U> | [U]`
//!
//! Applies `f` and concatenates the lists it returns.
//!
//! Examples:
//! - `[1, 2] |> flat_map(x => [x, x])` → `[1,1,2,2]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "flat_map",
    id: super::BuiltinId::FlatMap,
    signature: "flat_map(xs: stream<T> | [T], f: T -> [U]) -> stream<U> | [U]",
    doc: "Applies `f` and concatenates the lists it returns.",
    examples: &[(r#"[1, 2] |> flat_map(x => [x, x])"#, r#"[1,1,2,2]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "flat_map", 2, 2) {
        return Typed::error();
    }
    let (xs, elem, c) = cx.collection(site.args[0], "flat_map");
    let f = cx.func_arg(site.args[1], &elem, None);
    match Checker::func_ret(&f) {
        Ty::List(u) => Typed::new(vec![xs, f], c.wrap((*u).clone())),
        Ty::Error => Typed::error(),
        other => {
            cx.report(
                Diagnostic::new(codes::E0200, site.args[1].span, format!("`flat_map` needs a function returning a list, found one returning `{other}`"))
                    .label("must return a list")
                    .help("use `map` to produce one element per element"),
            );
            Typed::error()
        }
    }
}
