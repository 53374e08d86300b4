//! `hash_embed(s: str, N) -> vec[N]`
//!
//! A hashed bag of `tokens(s)` in N dimensions, L2-normalized; identical across runs, threads and platforms. N must be a compile-time integer.
//!
//! Examples:
//! - `len(hash_embed("a b", 8))` → `8`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::hir::{TExpr, TExprKind};
use crate::check::types::Ty;

pub static BUILTIN: Builtin = Builtin {
    name: "hash_embed",
    id: super::BuiltinId::HashEmbed,
    signature: "hash_embed(s: str, N) -> vec[N]",
    doc: "A hashed bag of `tokens(s)` in N dimensions, L2-normalized; identical across runs, threads and platforms. N must be a compile-time integer.",
    examples: &[(r#"len(hash_embed("a b", 8))"#, r#"8"#)],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args(site, "hash_embed", 2, 2) {
        return Typed::error();
    }
    let s = cx.arg_as(site.args[0], &Ty::Str);
    let Some(n) = cx.const_size(site.args[1]) else { return Typed::error() };
    let dim = TExpr::new(TExprKind::Int(i64::from(n)), Ty::Int, site.args[1].span);
    Typed::new(vec![s, dim], Ty::Vec(n))
}
