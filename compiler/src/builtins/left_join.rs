//! `left_join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R? }>`
//!
//! Left join: every left element with each matching right element, or with `right: null` when none matches. The right side is materialized; output follows left order, then right order.
//!
//! Examples:
//! - `[1, 2] |> left_join([2], l => l, r => r)` → `[{"left":1,"right":null},{"left":2,"right":2}]`

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;

pub static BUILTIN: Builtin = Builtin {
    name: "left_join",
    id: super::BuiltinId::LeftJoin,
    signature: "left_join(left: stream<L> | [L], right: stream<R> | [R], left_key: L -> K, right_key: R -> K) -> stream<{ left: L, right: R? }>",
    doc: "Left join: every left element with each matching right element, or with `right: null` when none matches. The right side is materialized; output follows left order, then right order.",
    examples: &[(
        r#"[1, 2] |> left_join([2], l => l, r => r)"#,
        r#"[{"left":1,"right":null},{"left":2,"right":2}]"#,
    )],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    super::join::relational(cx, site, "left_join", true)
}
