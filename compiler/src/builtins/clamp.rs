//! `clamp(x: num, lo: num, hi: num) -> num`
//!
//! `x` limited to `lo..=hi`; `int` when all three are ints, else `float`.
//!
//! Examples:
//! - `clamp(15, 0, 10)` → `10`
//! - `clamp(-0.5, 0, 1)` → `0.0`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "clamp",
    id: super::BuiltinId::Clamp,
    signature: "clamp(x: num, lo: num, hi: num) -> num",
    doc: "`x` limited to `lo..=hi`; `int` when all three are ints, else `float`.",
    examples: &[(r#"clamp(15, 0, 10)"#, r#"10"#), (r#"clamp(-0.5, 0, 1)"#, r#"0.0"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "clamp", 3, 3) {
        return Typed::error();
    }
    let args: Vec<TExpr> = site.args.iter().map(|a| cx.arg(a)).collect();
    if let Some(bad) = args.iter().find(|a| !a.ty.is_numeric()) {
        let bad = bad.clone();
        cx.bad_arg("clamp", &bad, "numbers");
        return Typed::error();
    }
    let ty = if args.iter().all(|a| a.ty == Ty::Int) { Ty::Int } else { Ty::Float };
    let args = args.into_iter().map(|a| cx.coerce(a, &ty)).collect();
    Typed::new(args, ty)
}
