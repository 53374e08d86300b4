//! `sort_by(xs: stream<T> | [T], key: T -> K, desc: bool = false) -> stream<T> | [T]`
//!
//! A stable sort by key (materializes the stream). With `desc: true` the order is descending, equal keys keeping input order.
//!
//! Examples:
//! - `[3, 1, 2] |> sort_by(x => x, desc: true)` → `[3,2,1]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::diag::{Diagnostic, codes};

pub static BUILTIN: Builtin = Builtin {
    name: "sort_by",
    id: super::BuiltinId::SortBy,
    signature: "sort_by(xs: stream<T> | [T], key: T -> K, desc: bool = false) -> stream<T> | [T]",
    doc: "A stable sort by key (materializes the stream). With `desc: true` the order is descending, equal keys keeping input order.",
    examples: &[(r#"[3, 1, 2] |> sort_by(x => x, desc: true)"#, r#"[3,2,1]"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args_named(site, "sort_by", 2, 2, &["desc"]) {
        return Typed::error();
    }
    let (xs, elem, _) = cx.collection(site.args[0], "sort_by");
    let key = cx.func_arg(site.args[1], &elem, None);
    let kt = Checker::func_ret(&key);
    if kt.is_error() {
        return Typed::error();
    }
    if !kt.is_ordered() {
        cx.report(
            Diagnostic::new(
                codes::E0206,
                site.args[1].span,
                format!("`sort_by` needs a key that can be ordered, found `{kt}`"),
            )
            .label("not orderable")
            .help("keys are numbers, strings, bools, or lists and records of them"),
        );
        return Typed::error();
    }
    let named = cx.named_bool(site, "desc").into_iter().collect();
    let ty = xs.ty.clone();
    Typed { args: vec![xs, key], named, ty }
}
