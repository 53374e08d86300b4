//! The typed program the checker produces: names resolved, pipes turned into calls,
//! let-bound lambdas inlined at their calls, spreads expanded, and every implicit
//! conversion (int → float, `T` → `T?`, a narrowed `T?` → `T`) made explicit. IR lowering
//! consumes this; nothing here refers to pest or to unresolved names.

use super::types::Ty;
use crate::builtins::Builtin;
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnOp};
use std::rc::Rc;

/// A local variable: a function parameter, a `let` or a lambda parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Global {
    Const(usize),
    Param(usize),
    Fn(usize),
    Agent(usize),
    Prompt(usize),
    Source(usize),
    Stage(usize),
    /// The built-in stream of record errors (`sink errors -> ...`).
    Errors,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    Fn(usize),
    Builtin(&'static Builtin),
    Agent(usize),
    Prompt(usize),
    /// `vec[N](xs)`.
    VecFromList(u32),
    /// An aggregate inside `group_by` / `aggregate`; its one argument is a lambda over
    /// the element (none for `count`).
    Aggregate(&'static crate::builtins::aggregates::Aggregate),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TExprKind {
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bool(bool),
    Null,
    List(Vec<TExpr>),
    /// Fields in the record type's order.
    Record(Vec<TExpr>),
    Local(LocalId),
    Global(Global),
    Unary(UnOp, Box<TExpr>),
    /// Operand types are those of the children after conversion: both `int`, both
    /// `float`, both `str`, lists, vectors (or a vector and a float scalar), and so on.
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    /// `int` → `float`.
    Widen(Box<TExpr>),
    /// `T` → `T?`.
    WrapOptional(Box<TExpr>),
    /// `T?` → `T` where the checker proved the value is not null (`if x != null`).
    Unwrap(Box<TExpr>),
    /// Converts the elements of a list, or the value inside a non-null optional:
    /// `body` computes the converted element from `binder`. (Record conversions are a
    /// `Let` of the source and a `Record` of converted fields.)
    ConvertEach {
        value: Box<TExpr>,
        binder: LocalId,
        body: Box<TExpr>,
    },
    Call {
        callee: Callee,
        args: Vec<TExpr>,
        named: Vec<(Rc<str>, TExpr)>,
    },
    Field(Box<TExpr>, usize),
    Index(Box<TExpr>, Box<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    Let(LocalId, Box<TExpr>, Box<TExpr>),
    Lambda(LocalId, Box<TExpr>),
    Error,
}

impl Default for TExpr {
    fn default() -> TExpr {
        TExpr::error(Span::default())
    }
}

impl TExpr {
    pub fn new(kind: TExprKind, ty: Ty, span: Span) -> TExpr {
        TExpr { kind, ty, span }
    }
    pub fn error(span: Span) -> TExpr {
        TExpr { kind: TExprKind::Error, ty: Ty::Error, span }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ConstDef {
    pub name: Rc<str>,
    pub ty: Ty,
    pub value: TExpr,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct ParamDef {
    pub name: Rc<str>,
    pub ty: Ty,
    pub default: Option<TExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct FnDef {
    pub name: Rc<str>,
    pub params: Vec<(LocalId, Rc<str>, Ty)>,
    pub ret: Ty,
    pub body: TExpr,
    pub span: Span,
}

/// What an agent declaration resolved to (sizes come from the `.af` file).
#[derive(Clone, Debug, Default)]
pub struct AgentDef {
    pub name: Rc<str>,
    pub path: String,
    pub input: u32,
    pub output: u32,
    /// At most this many threads run the agent at once (`resources.limits.cpu_cores`).
    pub threads: Option<u32>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct PromptDef {
    pub name: Rc<str>,
    pub params: Vec<(Rc<str>, Ty)>,
    /// The local each parameter is bound to while the template renders.
    pub locals: Vec<LocalId>,
    /// The template text (inline, or the body of the `.prompt` file).
    pub template: String,
    /// The checked template, whitespace rules applied (LANGUAGE.md §3).
    pub body: Vec<Piece>,
    pub span: Span,
    /// A typed prompt (LANGUAGE.md §4.1): the type its model's answer is decoded into, and
    /// the model it calls. `None`: the prompt only renders (`-> str`).
    pub typed: Option<(Ty, Rc<str>)>,
    /// A `.prompt` file's `temperature` / `max_tokens`, for its model's request.
    pub settings: kiln_runtime::model::Settings,
    /// A `.prompt` file's `model:` front matter (for an untyped prompt: the model of
    /// `complete(p(...))` when the call names none).
    pub model: Option<Rc<str>>,
}

/// One piece of a checked template. Rendering is concatenation: `Text` as is, `Insert`
/// as `str(value)` renders it (a string as is, numbers as in JSON output, lists and
/// records as compact JSON; never an optional).
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Text(Rc<str>),
    Insert(TExpr),
    /// The first branch whose condition is true, else `otherwise`.
    If(Vec<(TExpr, Vec<Piece>)>, Vec<Piece>),
    /// `body` once per element of `list` (a `[T]`), with `item` bound to the element and
    /// `info` to `{ index: int, first: bool, last: bool }` (the template's `loop`).
    For {
        item: LocalId,
        info: LocalId,
        list: TExpr,
        body: Vec<Piece>,
    },
}

/// Calls `f` on every expression of a template, in order.
pub fn visit_pieces(pieces: &[Piece], f: &mut impl FnMut(&TExpr)) {
    for p in pieces {
        match p {
            Piece::Text(_) => {}
            Piece::Insert(e) => f(e),
            Piece::If(branches, otherwise) => {
                for (c, b) in branches {
                    f(c);
                    visit_pieces(b, f);
                }
                visit_pieces(otherwise, f);
            }
            Piece::For { list, body, .. } => {
                f(list);
                visit_pieces(body, f);
            }
        }
    }
}

/// The record type of a template loop's `loop`.
pub fn loop_info_type() -> Ty {
    Ty::record(vec![("index", Ty::Int), ("first", Ty::Bool), ("last", Ty::Bool)])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SourceFormat {
    #[default]
    Jsonl,
    Csv,
    Lines,
    Range,
}

#[derive(Clone, Debug, Default)]
pub struct SourceDef {
    pub name: Rc<str>,
    pub elem: Ty,
    pub format: SourceFormat,
    /// The path (`jsonl`, `csv`, `lines`) or the bounds (`range`).
    pub args: Vec<TExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct StageDef {
    pub name: Rc<str>,
    /// A `stream<T>`-typed expression.
    pub expr: TExpr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkFormat {
    Jsonl,
    Csv,
    Lines,
    Stdout,
    Discard,
}

#[derive(Clone, Debug)]
pub struct SinkDef {
    pub input: TExpr,
    pub format: SinkFormat,
    pub path: Option<TExpr>,
    pub span: Span,
}

/// A checked program: the main file and everything it `use`s.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub consts: Vec<ConstDef>,
    pub params: Vec<ParamDef>,
    pub fns: Vec<FnDef>,
    pub agents: Vec<AgentDef>,
    pub prompts: Vec<PromptDef>,
    pub sources: Vec<SourceDef>,
    pub stages: Vec<StageDef>,
    pub sinks: Vec<SinkDef>,
    /// How many locals were allocated (LocalIds are dense).
    pub locals: u32,
}

/// Calls `f` on every node of `e`, parents first.
pub fn visit(e: &TExpr, f: &mut impl FnMut(&TExpr)) {
    f(e);
    children(e, &mut |c| visit(c, f));
}

/// Calls `f` on each direct child of `e`.
pub fn children(e: &TExpr, f: &mut impl FnMut(&TExpr)) {
    match &e.kind {
        TExprKind::List(xs) | TExprKind::Record(xs) => xs.iter().for_each(f),
        TExprKind::Unary(_, x)
        | TExprKind::Widen(x)
        | TExprKind::WrapOptional(x)
        | TExprKind::Unwrap(x)
        | TExprKind::Field(x, _)
        | TExprKind::Lambda(_, x) => f(x),
        TExprKind::Binary(_, a, b) | TExprKind::Index(a, b) | TExprKind::Let(_, a, b) => {
            f(a);
            f(b);
        }
        TExprKind::ConvertEach { value, body, .. } => {
            f(value);
            f(body);
        }
        TExprKind::If(c, t, e2) => {
            f(c);
            f(t);
            f(e2);
        }
        TExprKind::Call { args, named, .. } => {
            args.iter().for_each(&mut *f);
            named.iter().for_each(|(_, x)| f(x));
        }
        _ => {}
    }
}

/// Calls `f` on each direct child of `e`, mutably (for rewriting passes).
pub fn children_mut(e: &mut TExpr, f: &mut impl FnMut(&mut TExpr)) {
    match &mut e.kind {
        TExprKind::List(xs) | TExprKind::Record(xs) => xs.iter_mut().for_each(f),
        TExprKind::Unary(_, x)
        | TExprKind::Widen(x)
        | TExprKind::WrapOptional(x)
        | TExprKind::Unwrap(x)
        | TExprKind::Field(x, _)
        | TExprKind::Lambda(_, x) => f(x),
        TExprKind::Binary(_, a, b) | TExprKind::Index(a, b) | TExprKind::Let(_, a, b) => {
            f(a);
            f(b);
        }
        TExprKind::ConvertEach { value, body, .. } => {
            f(value);
            f(body);
        }
        TExprKind::If(c, t, e2) => {
            f(c);
            f(t);
            f(e2);
        }
        TExprKind::Call { args, named, .. } => {
            args.iter_mut().for_each(&mut *f);
            named.iter_mut().for_each(|(_, x)| f(x));
        }
        _ => {}
    }
}

/// Calls `f` on every expression of a template, mutably, in order.
pub fn pieces_mut(pieces: &mut [Piece], f: &mut impl FnMut(&mut TExpr)) {
    for p in pieces {
        match p {
            Piece::Text(_) => {}
            Piece::Insert(e) => f(e),
            Piece::If(branches, otherwise) => {
                for (c, b) in branches {
                    f(c);
                    pieces_mut(b, f);
                }
                pieces_mut(otherwise, f);
            }
            Piece::For { list, body, .. } => {
                f(list);
                pieces_mut(body, f);
            }
        }
    }
}
