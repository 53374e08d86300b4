//! The abstract syntax tree of a `.kiln` file. Plain data with byte spans; pest types never
//! appear here. Pipes are kept as written (`Expr::Pipe`) so diagnostics can point at them;
//! the checker treats `x |> f(a)` as `f(x, a)`.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
    /// Names declared by declarations that failed to parse: uses of them are not
    /// reported again as unknown names.
    pub broken: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// The whole declaration.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `use "std/text"` or `use "./lib.kiln"`.
    Use {
        path: String,
        path_span: Span,
    },
    Type {
        name: Ident,
        ty: TypeExpr,
    },
    Const {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    Param {
        name: Ident,
        ty: TypeExpr,
        default: Option<Expr>,
    },
    Fn {
        name: Ident,
        params: Vec<Param>,
        ret: TypeExpr,
        body: Expr,
    },
    Agent {
        name: Ident,
        path: String,
        path_span: Span,
    },
    /// `prompt p = "file.prompt"`.
    PromptFile {
        name: Ident,
        path: String,
        path_span: Span,
    },
    /// `prompt p(a: T) = """template"""`: the template's text (escapes of a `"..."`
    /// string decoded), where it lies in the file, and its parsed body.
    PromptInline {
        name: Ident,
        params: Vec<Param>,
        /// `-> T`: a typed prompt (LANGUAGE.md §4.1).
        ret: Option<TypeExpr>,
        template: String,
        template_span: Span,
        template_offsets: crate::syntax::template::Offsets,
        body: Template,
    },
    Source {
        name: Ident,
        ty: TypeExpr,
        expr: Expr,
    },
    Stage {
        name: Ident,
        expr: Expr,
    },
    Sink {
        expr: Expr,
        target: Expr,
    },
}

impl ItemKind {
    /// The declared name, if the declaration has one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            ItemKind::Use { .. } | ItemKind::Sink { .. } => None,
            ItemKind::Type { name, .. }
            | ItemKind::Const { name, .. }
            | ItemKind::Param { name, .. }
            | ItemKind::Fn { name, .. }
            | ItemKind::Agent { name, .. }
            | ItemKind::PromptFile { name, .. }
            | ItemKind::PromptInline { name, .. }
            | ItemKind::Source { name, .. }
            | ItemKind::Stage { name, .. } => Some(name),
        }
    }
    /// The keyword that introduces the declaration, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            ItemKind::Use { .. } => "use",
            ItemKind::Type { .. } => "type",
            ItemKind::Const { .. } => "const",
            ItemKind::Param { .. } => "param",
            ItemKind::Fn { .. } => "fn",
            ItemKind::Agent { .. } => "agent",
            ItemKind::PromptFile { .. } | ItemKind::PromptInline { .. } => "prompt",
            ItemKind::Source { .. } => "source",
            ItemKind::Stage { .. } => "stage",
            ItemKind::Sink { .. } => "sink",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `int`, `float`, `bool`, `str` or a `type` alias.
    Named(Ident),
    List(Box<TypeExpr>),
    /// `vec[N]`; the size is a constant expression.
    Vec(Box<Expr>),
    Record(Vec<(Ident, TypeExpr)>),
    Optional(Box<TypeExpr>),
    /// `stream<T>`: only shown by tools; writing it is reported by the checker.
    Stream(Box<TypeExpr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Coalesce,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Coalesce => "??",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for a named argument `key: value`.
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RecordEntry {
    Field(Ident, Expr),
    Spread(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    Record(Vec<RecordEntry>),
    Name(Ident),
    /// `vec[N]` used as a conversion function: `vec[4](xs)`.
    VecCtor(Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `lhs |> rhs`: `rhs` is a call (the lhs becomes its first argument) or a callee.
    Pipe(Box<Expr>, Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Block {
        lets: Vec<Let>,
        result: Box<Expr>,
    },
    Lambda {
        param: Ident,
        body: Box<Expr>,
    },
    /// A part that failed to parse; the parser has reported it already.
    Error,
}

/// A parsed prompt template (LANGUAGE.md §3) with the whitespace rules already applied:
/// tag-only lines are gone and trim markers have trimmed their neighbours, so `Text`
/// nodes hold exactly the text that is rendered.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    pub nodes: Vec<TemplateNode>,
    /// A syntax error was reported (so a parameter may be used in a tag that was lost).
    pub has_errors: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplateNode {
    Text(String),
    /// `{{ value | f | g(a) }}`; `span` is the whole tag.
    Insert {
        value: Expr,
        filters: Vec<Filter>,
        span: Span,
    },
    /// `{% if c %}...{% else if d %}...{% else %}...{% end %}`; `span` is the opening tag.
    If {
        branches: Vec<(Expr, Vec<TemplateNode>)>,
        otherwise: Vec<TemplateNode>,
        span: Span,
    },
    /// `{% for var in list %}...{% end %}`; `span` is the opening tag.
    For {
        var: Ident,
        list: Expr,
        body: Vec<TemplateNode>,
        span: Span,
    },
}

/// `| name` or `| name(args)`: `name(value, args...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}
