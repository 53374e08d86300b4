//! The built-in functions of LANGUAGE.md §1.5 and §1.7, one file each. A file carries the
//! builtin's signature, documentation, examples (run as tests) and its typing rule; the
//! typing rule sees the call's syntax so it can give lambdas their parameter types.
//!
//! Sources (`jsonl csv lines range`) and sink targets are declarations, not functions:
//! `check/pipeline.rs` types them. Aggregates (`count sum mean ...` inside `group_by` and
//! `aggregate`) live in [`aggregates`].

pub mod aggregates;
mod api;

use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::source::Span;
use crate::syntax::ast::{Expr, Ident};
use std::rc::Rc;

pub use api::*;

/// Which builtin a call is: engines dispatch on it (an exhaustive `match`, so a builtin
/// without an evaluation or a lowering does not compile), never on the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinId {
    Abs,
    Aggregate,
    Argmax,
    Batch,
    Ceil,
    Clamp,
    Complete,
    Contains,
    Distinct,
    Dot,
    EndsWith,
    Enumerate,
    Exp,
    Filter,
    FlatMap,
    Float,
    Floor,
    GroupBy,
    HashEmbed,
    Int,
    Join,
    LeftJoin,
    Len,
    Log,
    Lower,
    Map,
    Max,
    Mean,
    Min,
    Norm,
    ParseFloat,
    ParseInt,
    Pow,
    Range,
    Relu,
    Replace,
    Reverse,
    Round,
    Sigmoid,
    Skip,
    Softmax,
    Sort,
    SortBy,
    Split,
    Sqrt,
    StartsWith,
    Str,
    Substr,
    Sum,
    Take,
    Tanh,
    ToList,
    Tokens,
    Trim,
    Truncate,
    Union,
    Upper,
}

impl BuiltinId {
    /// The builtin's name, as users write it.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|b| b.id == self).map_or("?", |b| b.name)
    }
}

impl std::fmt::Display for BuiltinId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A builtin function.
pub struct Builtin {
    pub name: &'static str,
    pub id: BuiltinId,
    /// As shown to users: `substr(s: str, start: int, n: int) -> str`.
    pub signature: &'static str,
    pub doc: &'static str,
    /// `(expression, its value as JSON)`; run as tests.
    pub examples: &'static [(&'static str, &'static str)],
    pub check: fn(&mut crate::check::Checker, &CallSite) -> Typed,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "builtin {}", self.name)
    }
}

impl PartialEq for Builtin {
    fn eq(&self, other: &Builtin) -> bool {
        self.id == other.id
    }
}

/// A call as the typing rule sees it: positional arguments (a piped value first) and
/// named ones.
pub struct CallSite<'e> {
    pub span: Span,
    pub name_span: Span,
    pub args: Vec<&'e Expr>,
    pub named: Vec<(&'e Ident, &'e Expr)>,
    /// The type the context expects, if known.
    pub expected: Option<Ty>,
}

/// What a typing rule returns: the typed arguments and the call's type (`Ty::Error` after
/// reporting a problem).
pub struct Typed {
    pub args: Vec<TExpr>,
    pub named: Vec<(Rc<str>, TExpr)>,
    pub ty: Ty,
}

impl Typed {
    pub fn new(args: Vec<TExpr>, ty: Ty) -> Typed {
        Typed { args, named: Vec::new(), ty }
    }
    pub fn error() -> Typed {
        Typed { args: Vec::new(), named: Vec::new(), ty: Ty::Error }
    }
}

// One module per builtin, declared plainly (not through a macro) so that `cargo fmt`
// sees every file.
mod abs;
mod aggregate;
mod argmax;
mod batch;
mod ceil;
mod clamp;
pub mod complete;
mod contains;
mod distinct;
mod dot;
mod ends_with;
mod enumerate;
mod exp;
mod filter;
mod flat_map;
mod float;
mod floor;
mod group_by;
mod hash_embed;
mod int;
mod join;
mod left_join;
mod len;
mod log;
mod lower;
mod map;
mod max;
mod mean;
mod min;
mod norm;
mod parse_float;
mod parse_int;
mod pow;
mod range;
mod relu;
mod replace;
mod reverse;
mod round;
mod sigmoid;
mod skip;
mod softmax;
mod sort;
mod sort_by;
mod split;
mod sqrt;
mod starts_with;
mod str_fn;
mod substr;
mod sum;
mod take;
mod tanh;
mod to_list;
mod tokens;
mod trim;
mod truncate;
mod union;
mod upper;

/// Every builtin function, sorted by name.
pub static ALL: &[&Builtin] = &[
    &abs::BUILTIN,
    &aggregate::BUILTIN,
    &argmax::BUILTIN,
    &batch::BUILTIN,
    &ceil::BUILTIN,
    &clamp::BUILTIN,
    &complete::BUILTIN,
    &contains::BUILTIN,
    &distinct::BUILTIN,
    &dot::BUILTIN,
    &ends_with::BUILTIN,
    &enumerate::BUILTIN,
    &exp::BUILTIN,
    &filter::BUILTIN,
    &flat_map::BUILTIN,
    &float::BUILTIN,
    &floor::BUILTIN,
    &group_by::BUILTIN,
    &hash_embed::BUILTIN,
    &int::BUILTIN,
    &join::BUILTIN,
    &left_join::BUILTIN,
    &len::BUILTIN,
    &log::BUILTIN,
    &lower::BUILTIN,
    &map::BUILTIN,
    &max::BUILTIN,
    &mean::BUILTIN,
    &min::BUILTIN,
    &norm::BUILTIN,
    &parse_float::BUILTIN,
    &parse_int::BUILTIN,
    &pow::BUILTIN,
    &range::BUILTIN,
    &relu::BUILTIN,
    &replace::BUILTIN,
    &reverse::BUILTIN,
    &round::BUILTIN,
    &sigmoid::BUILTIN,
    &skip::BUILTIN,
    &softmax::BUILTIN,
    &sort::BUILTIN,
    &sort_by::BUILTIN,
    &split::BUILTIN,
    &sqrt::BUILTIN,
    &starts_with::BUILTIN,
    &str_fn::BUILTIN,
    &substr::BUILTIN,
    &sum::BUILTIN,
    &take::BUILTIN,
    &tanh::BUILTIN,
    &to_list::BUILTIN,
    &tokens::BUILTIN,
    &trim::BUILTIN,
    &truncate::BUILTIN,
    &union::BUILTIN,
    &upper::BUILTIN,
];

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    ALL.iter().copied().find(|b| b.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|b| b.name)
}

/// A key function's result must support equality (grouping, joins, `distinct`).
pub(crate) fn key_ok(cx: &mut crate::check::Checker, key: &TExpr, span: Span, what: &str) -> bool {
    let kt = crate::check::Checker::func_ret(key);
    if kt.has_error() {
        return false;
    }
    if !kt.is_equatable() || matches!(kt, Ty::Vec(_)) {
        cx.report(
            crate::diag::Diagnostic::new(
                crate::diag::codes::E0206,
                span,
                format!("`{what}` needs a key that can be compared, found `{kt}`"),
            )
            .label("not usable as a key")
            .help("keys are numbers, strings, bools, optionals, or lists and records of them"),
        );
        return false;
    }
    true
}
