//! pest → AST. This file and `errors.rs` are the only places that know pest exists.

use super::ast::*;
use super::errors;
use super::split;
use super::template::{Offsets, parse_template};
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::PrattParser;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/kiln.pest"]
pub(super) struct KilnParser;

/// Parses a whole `.kiln` file. Always returns a module (with the declarations that
/// parsed) and every syntax diagnostic of the file.
pub fn parse_module(file: FileId, text: &str) -> (Module, Vec<Diagnostic>) {
    parse_module_with(file, text, true)
}

/// [`parse_module`], with or without the fast path (the tests compare the two).
pub(super) fn parse_module_with(file: FileId, text: &str, fast: bool) -> (Module, Vec<Diagnostic>) {
    let (chunks, mut diags) = split::split(file, text);
    // Consecutive declarations are parsed in groups, the groups in parallel; a group with
    // a mistake is parsed again declaration by declaration, so every broken declaration is
    // reported. Failures are worded afterwards, on this thread: pest's error-detail switch
    // is process-wide.
    let groups = group(&chunks, text.len());
    let parsed: Vec<Vec<Parsed>> = pool().install(|| {
        use rayon::prelude::*;
        groups.par_iter().map(|g| parse_group(file, text, &chunks[g.clone()], fast)).collect()
    });
    let mut items = Vec::with_capacity(chunks.len());
    let mut broken = Vec::new();
    for result in parsed.into_iter().flatten() {
        match result {
            Parsed::Item(item, d) => {
                diags.extend(d);
                items.push(*item);
            }
            Parsed::Broken(range) => broken.extend(declared_name(&text[range])),
            Parsed::Failed(range) => {
                let src = &text[range.clone()];
                broken.extend(declared_name(src));
                diags.push(errors::describe(file, Some(text), range.start, src, Rule::decl_only));
            }
        }
    }
    // Inline templates are parsed here, on this thread (see above).
    for item in &mut items {
        if let ItemKind::PromptInline { template, template_offsets, body, .. } = &mut item.kind {
            let (t, d) = parse_template(file, template, template_offsets);
            *body = t;
            diags.extend(d);
        }
    }
    (Module { items, broken }, diags)
}

enum Parsed {
    Item(Box<Item>, Vec<Diagnostic>),
    /// The lexical pass already reported this declaration.
    Broken(std::ops::Range<usize>),
    /// The grammar rejected it; it is described later.
    Failed(std::ops::Range<usize>),
}

/// Cuts the declarations into groups of similar size (at least two per core).
fn group(chunks: &[split::Chunk], len: usize) -> Vec<std::ops::Range<usize>> {
    // Groups of about 16 KiB (at least two per thread): a thread's token queue is then
    // small and reused from one group to the next instead of growing into fresh pages.
    let threads = rayon::current_num_threads().max(pool().current_num_threads());
    let parts = (threads * 2).max(len / (16 << 10)).max(1);
    let target = len / parts + 1;
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in chunks.iter().enumerate() {
        if c.end - chunks[start].start >= target || i + 1 == chunks.len() {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out
}

fn parse_group(file: FileId, text: &str, chunks: &[split::Chunk], fast: bool) -> Vec<Parsed> {
    let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else { return Vec::new() };
    if chunks.iter().all(|c| !c.lexically_broken) {
        // The hand-written fast path (`fast.rs`) takes declarations that parse cleanly;
        // if any of the group's does not, pest parses the group as before.
        if fast {
            let items: Option<Vec<Item>> = chunks
                .iter()
                .map(|c| super::fast::parse_decl(file, text, c.start, c.end))
                .collect();
            if let Some(items) = items {
                return items.into_iter().map(|i| Parsed::Item(Box::new(i), Vec::new())).collect();
            }
        }
        let src = &text[first.start..last.end];
        if let Ok(mut pairs) = KilnParser::parse(Rule::decls_only, src) {
            let mut diags = Vec::new();
            let mut b = Builder::new(file, first.start, &mut diags);
            let mut items = Vec::with_capacity(chunks.len());
            for decl in pairs.next().expect("decls_only").into_inner() {
                if decl.as_rule() != Rule::EOI {
                    items.push(b.item(decl));
                }
            }
            b.finish();
            let mut out: Vec<Parsed> =
                items.into_iter().map(|i| Parsed::Item(Box::new(i), Vec::new())).collect();
            if let Some(Parsed::Item(_, d)) = out.first_mut() {
                *d = diags;
            }
            return out;
        }
    }
    chunks.iter().map(|c| parse_chunk(file, text, c)).collect()
}

fn parse_chunk(file: FileId, text: &str, chunk: &split::Chunk) -> Parsed {
    let range = chunk.start..chunk.end;
    if chunk.lexically_broken {
        return Parsed::Broken(range);
    }
    match KilnParser::parse(Rule::decl_only, &text[range.clone()]) {
        Ok(mut pairs) => {
            let mut diags = Vec::new();
            let mut b = Builder::new(file, chunk.start, &mut diags);
            let decl_only = pairs.next().expect("decl_only always yields one pair");
            let decl = decl_only.into_inner().find(not_keyword).expect("a declaration");
            let item = b.item(decl);
            b.finish();
            Parsed::Item(Box::new(item), diags)
        }
        Err(_) => Parsed::Failed(range),
    }
}

/// The pest path on one declaration: its item and diagnostics, `None` if it fails.
pub(super) fn parse_chunk_pest(
    file: FileId,
    text: &str,
    chunk: &split::Chunk,
) -> Option<(Item, Vec<Diagnostic>)> {
    match parse_chunk(file, text, chunk) {
        Parsed::Item(item, diags) => Some((*item, diags)),
        _ => None,
    }
}

/// The parser's worker threads: one per core, with stacks deep enough for the maximum
/// bracket nesting the lexical pass lets through.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("kiln-parse-{i}"))
            .stack_size(256 << 20)
            .build()
            .expect("starting the parser threads")
    })
}

/// Parses a single expression (the REPL and tests use this).
pub fn parse_expr(file: FileId, text: &str) -> Result<Expr, Vec<Diagnostic>> {
    match KilnParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let mut diags = Vec::new();
            let mut b = Builder::new(file, 0, &mut diags);
            let inner =
                pairs.next().expect("expr_only").into_inner().find(not_keyword).expect("expr");
            let e = b.expr(inner);
            b.finish();
            if diags.is_empty() { Ok(e) } else { Err(diags) }
        }
        Err(_) => Err(vec![errors::describe(file, Some(text), 0, text, Rule::expr_only)]),
    }
}

/// Parses the expression inside a template tag: `text` starts at byte `offset` of the
/// file (spans are offset by it). Failures are worded with "the end of the tag".
pub(super) fn parse_tag_expr(
    file: FileId,
    text: &str,
    offset: usize,
) -> Result<Expr, Vec<Diagnostic>> {
    match KilnParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let mut diags = Vec::new();
            let mut b = Builder::new(file, offset, &mut diags);
            let inner =
                pairs.next().expect("expr_only").into_inner().find(not_keyword).expect("expr");
            let e = b.expr(inner);
            b.finish();
            if diags.is_empty() { Ok(e) } else { Err(diags) }
        }
        Err(_) => Err(vec![errors::describe(file, None, offset, text, Rule::expr_only)]),
    }
}

/// Parses a single type (prompt front matter writes types as strings).
pub fn parse_type(file: FileId, text: &str, offset: usize) -> Result<TypeExpr, Vec<Diagnostic>> {
    match KilnParser::parse(Rule::type_only, text) {
        Ok(mut pairs) => {
            let mut diags = Vec::new();
            let mut b = Builder::new(file, offset, &mut diags);
            let inner =
                pairs.next().expect("type_only").into_inner().find(not_keyword).expect("type");
            let t = b.type_expr(inner);
            if diags.is_empty() { Ok(t) } else { Err(diags) }
        }
        Err(_) => Err(vec![errors::describe(file, Some(text), offset, text, Rule::type_only)]),
    }
}

struct Builder<'d> {
    file: FileId,
    offset: usize,
    diags: &'d mut Vec<Diagnostic>,
    /// Spans of `9223372036854775808` literals not yet seen under a minus sign.
    pending_min: Vec<Span>,
    /// Spans of parenthesized expressions (`(a < b) == c` is not a chain).
    parenthesized: Vec<Span>,
}

impl Builder<'_> {
    fn new(file: FileId, offset: usize, diags: &mut Vec<Diagnostic>) -> Builder<'_> {
        Builder { file, offset, diags, pending_min: Vec::new(), parenthesized: Vec::new() }
    }

    /// Reports `9223372036854775808` literals that were not negated.
    fn finish(&mut self) {
        for span in std::mem::take(&mut self.pending_min) {
            self.diags.push(
                Diagnostic::new(codes::E0212, span, "integer literal is too large")
                    .label("does not fit in a 64-bit signed integer")
                    .help(format!(
                        "the largest `int` is {}; use a float like `9223372036854775808.0`",
                        i64::MAX
                    )),
            );
        }
    }
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: std::sync::OnceLock<PrattParser<Rule>> = std::sync::OnceLock::new();
    PRATT.get_or_init(|| {
        use pest::pratt_parser::{Assoc::Left, Op};
        PrattParser::new()
            .op(Op::infix(Rule::op_pipe, Left))
            .op(Op::infix(Rule::op_or, Left))
            .op(Op::infix(Rule::op_and, Left))
            .op(Op::infix(Rule::op_eq, Left)
                | Op::infix(Rule::op_ne, Left)
                | Op::infix(Rule::op_lt, Left)
                | Op::infix(Rule::op_le, Left)
                | Op::infix(Rule::op_gt, Left)
                | Op::infix(Rule::op_ge, Left))
            .op(Op::infix(Rule::op_coalesce, Left))
            .op(Op::infix(Rule::op_add, Left) | Op::infix(Rule::op_sub, Left))
            .op(Op::infix(Rule::op_mul, Left)
                | Op::infix(Rule::op_div, Left)
                | Op::infix(Rule::op_floordiv, Left)
                | Op::infix(Rule::op_mod, Left))
            .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_not))
            .op(Op::postfix(Rule::call_args)
                | Op::postfix(Rule::field_access)
                | Op::postfix(Rule::index))
    })
}

impl Builder<'_> {
    /// The pair's span without the whitespace and comments pest lets non-atomic rules
    /// swallow at their end.
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        let len = trimmed(p.as_str()).len();
        Span::new(self.file, self.offset + s.start(), self.offset + s.start() + len)
    }

    /// A name; a keyword in a name's place is reported (field names may be keywords).
    fn ident(&mut self, p: Pair<Rule>) -> Ident {
        let id = Ident { name: p.as_str().to_string(), span: self.span(&p) };
        if p.as_rule() == Rule::ident && KEYWORDS.contains(&id.name.as_str()) {
            self.diags.push(
                Diagnostic::new(
                    codes::E0001,
                    id.span,
                    format!("`{}` is a keyword and cannot be used as a name", id.name),
                )
                .label("a keyword")
                .help(format!("rename it, e.g. `{}_`", id.name)),
            );
        }
        id
    }

    fn item(&mut self, p: Pair<Rule>) -> Item {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner().filter(not_keyword);
        let kind = match rule {
            Rule::use_decl => {
                let s = it.next().expect("string");
                let path_span = self.span(&s);
                ItemKind::Use { path: self.string(s), path_span }
            }
            Rule::type_decl => {
                let name = self.ident(it.next().expect("name"));
                ItemKind::Type { name, ty: self.type_expr(it.next().expect("type")) }
            }
            Rule::const_decl => {
                let name = self.ident(it.next().expect("name"));
                let mut next = it.next().expect("type or value");
                let ty = if next.as_rule() == Rule::type_expr {
                    let t = self.type_expr(next);
                    next = it.next().expect("value");
                    Some(t)
                } else {
                    None
                };
                ItemKind::Const { name, ty, value: self.expr(next) }
            }
            Rule::param_decl => {
                let name = self.ident(it.next().expect("name"));
                let ty = self.type_expr(it.next().expect("type"));
                let default = it.next().map(|e| self.expr(e));
                ItemKind::Param { name, ty, default }
            }
            Rule::fn_decl => {
                let name = self.ident(it.next().expect("name"));
                let params = self.params(it.next().expect("params"));
                let ret = self.type_expr(it.next().expect("return type"));
                let body = self.expr(it.next().expect("body"));
                ItemKind::Fn { name, params, ret, body }
            }
            Rule::agent_decl => {
                let name = self.ident(it.next().expect("name"));
                let s = it.next().expect("path");
                let path_span = self.span(&s);
                ItemKind::Agent { name, path: self.string(s), path_span }
            }
            Rule::prompt_decl => {
                let name = self.ident(it.next().expect("name"));
                let rest = it.next().expect("prompt body");
                if rest.as_rule() == Rule::prompt_inline {
                    let mut r = rest.into_inner().filter(not_keyword);
                    let params = self.params(r.next().expect("params"));
                    let mut s = r.next().expect("template");
                    let mut ret = None;
                    if s.as_rule() == Rule::prompt_ret {
                        let t = s.into_inner().next().expect("type");
                        ret = Some(self.type_expr(t));
                        s = r.next().expect("template");
                    }
                    let (template, template_span, template_offsets) = self.template(s);
                    ItemKind::PromptInline {
                        name,
                        params,
                        ret,
                        template,
                        template_span,
                        template_offsets,
                        body: Template::default(),
                    }
                } else {
                    let path_span = self.span(&rest);
                    ItemKind::PromptFile { name, path: self.string(rest), path_span }
                }
            }
            Rule::source_decl => {
                let name = self.ident(it.next().expect("name"));
                let ty = self.type_expr(it.next().expect("type"));
                ItemKind::Source { name, ty, expr: self.expr(it.next().expect("expr")) }
            }
            Rule::stage_decl => {
                let name = self.ident(it.next().expect("name"));
                ItemKind::Stage { name, expr: self.expr(it.next().expect("expr")) }
            }
            Rule::sink_decl => {
                let expr = self.expr(it.next().expect("expr"));
                ItemKind::Sink { expr, target: self.expr(it.next().expect("target")) }
            }
            r => unreachable!("not a declaration rule: {r:?}"),
        };
        Item { kind, span }
    }

    fn params(&mut self, p: Pair<Rule>) -> Vec<Param> {
        p.into_inner()
            .filter(not_keyword)
            .map(|param| {
                let mut it = param.into_inner().filter(not_keyword);
                let name = self.ident(it.next().expect("name"));
                Param { name, ty: self.type_expr(it.next().expect("type")) }
            })
            .collect()
    }

    fn type_expr(&mut self, p: Pair<Rule>) -> TypeExpr {
        let span = self.span(&p);
        let mut it = p.into_inner().filter(not_keyword);
        let atom = it.next().expect("type atom");
        let mut ty = self.type_atom(atom);
        for mark in it {
            let end = self.span(&mark).end;
            ty =
                TypeExpr { kind: TypeExprKind::Optional(Box::new(ty)), span: Span { end, ..span } };
        }
        ty
    }

    fn type_atom(&mut self, p: Pair<Rule>) -> TypeExpr {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::ident => TypeExprKind::Named(self.ident(p)),
            Rule::list_type => TypeExprKind::List(Box::new(
                self.type_expr(p.into_inner().find(not_keyword).expect("elem")),
            )),
            Rule::vec_type => TypeExprKind::Vec(Box::new(
                self.expr(p.into_inner().find(not_keyword).expect("size")),
            )),
            Rule::stream_type => TypeExprKind::Stream(Box::new(
                self.type_expr(p.into_inner().find(not_keyword).expect("t")),
            )),
            Rule::record_type => TypeExprKind::Record(
                p.into_inner()
                    .filter(not_keyword)
                    .map(|f| {
                        let mut it = f.into_inner().filter(not_keyword);
                        let name = self.ident(it.next().expect("field"));
                        (name, self.type_expr(it.next().expect("type")))
                    })
                    .collect(),
            ),
            r => unreachable!("not a type rule: {r:?}"),
        };
        TypeExpr { kind, span }
    }

    fn expr(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr => {
                let mut it = p.into_inner();
                let lhs = it.next().expect("operand");
                let Some(body) = it.next() else { return self.expr(lhs) };
                // `x => body`: the operand before `=>` must be a single name.
                let lhs_span = self.span(&lhs);
                let mut parts = lhs.into_inner();
                let param = match (parts.next(), parts.next()) {
                    (Some(only), None) if only.as_rule() == Rule::ident => self.ident(only),
                    _ => {
                        self.diags.push(
                            Diagnostic::new(codes::E0001, lhs_span, "a lambda's parameter must be a single name")
                                .label("expected a name before `=>`")
                                .help("write `x => ...`; put a lambda used inside a longer expression in parentheses"),
                        );
                        return Expr { kind: ExprKind::Error, span };
                    }
                };
                let body = self.expr(body.into_inner().next().expect("lambda body"));
                Expr { kind: ExprKind::Lambda { param, body: Box::new(body) }, span }
            }
            Rule::infix_expr => self.infix(p),
            _ => self.primary(p),
        }
    }

    /// Folds `operand (op operand)*` with the precedence of LANGUAGE.md §1.4.
    fn infix(&mut self, p: Pair<Rule>) -> Expr {
        let pratt = pratt();
        let cell = std::cell::RefCell::new(self);
        pratt
            .map_primary(|prim| cell.borrow_mut().expr(prim))
            .map_prefix(|op, rhs| cell.borrow_mut().prefix(op, rhs))
            .map_postfix(|lhs, op| cell.borrow_mut().postfix(lhs, op))
            .map_infix(|lhs, op, rhs| cell.borrow_mut().infix_op(lhs, op, rhs))
            .parse(p.into_inner())
    }

    fn prefix(&mut self, op: Pair<Rule>, rhs: Expr) -> Expr {
        let op_span = self.span(&op);
        let span = op_span.to(rhs.span);
        if op.as_rule() == Rule::op_neg {
            // `-9223372036854775808` is the one literal that only exists negated.
            if let Some(pos) = self.pending_min.iter().position(|s| *s == rhs.span) {
                self.pending_min.remove(pos);
                return Expr { kind: ExprKind::Int(i64::MIN), span };
            }
        }
        let op = if op.as_rule() == Rule::op_neg { UnOp::Neg } else { UnOp::Not };
        Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span }
    }

    fn infix_op(&mut self, lhs: Expr, op: Pair<Rule>, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        if op.as_rule() == Rule::op_pipe {
            return Expr { kind: ExprKind::Pipe(Box::new(lhs), Box::new(rhs)), span };
        }
        let bin = match op.as_rule() {
            Rule::op_or => BinOp::Or,
            Rule::op_and => BinOp::And,
            Rule::op_coalesce => BinOp::Coalesce,
            Rule::op_eq => BinOp::Eq,
            Rule::op_ne => BinOp::Ne,
            Rule::op_lt => BinOp::Lt,
            Rule::op_le => BinOp::Le,
            Rule::op_gt => BinOp::Gt,
            Rule::op_ge => BinOp::Ge,
            Rule::op_add => BinOp::Add,
            Rule::op_sub => BinOp::Sub,
            Rule::op_mul => BinOp::Mul,
            Rule::op_div => BinOp::Div,
            Rule::op_floordiv => BinOp::FloorDiv,
            Rule::op_mod => BinOp::Mod,
            r => unreachable!("not an infix operator: {r:?}"),
        };
        // Comparisons do not chain: `a < b < c` is reported, not silently grouped.
        if bin.is_comparison()
            && let ExprKind::Binary(prev, ..) = &lhs.kind
            && prev.is_comparison()
            && !self.parenthesized.contains(&lhs.span)
        {
            let op_span = self.span(&op);
            self.diags.push(
                Diagnostic::new(codes::E0006, op_span, "comparison operators cannot be chained")
                    .label("second comparison")
                    .secondary(lhs.span, "first comparison")
                    .help("combine the comparisons with `and`: `a < b and b < c`"),
            );
            return Expr { kind: ExprKind::Error, span };
        }
        Expr { kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)), span }
    }

    fn postfix(&mut self, acc: Expr, op: Pair<Rule>) -> Expr {
        let op_span = self.span(&op);
        let span = acc.span.to(op_span);
        let kind = match op.as_rule() {
            Rule::call_args => {
                let args = op.into_inner().filter(not_keyword).map(|a| self.arg(a)).collect();
                ExprKind::Call { callee: Box::new(acc), args }
            }
            Rule::field_access => {
                let name = self.ident(op.into_inner().next().expect("field"));
                ExprKind::Field(Box::new(acc), name)
            }
            Rule::index => {
                let idx = self.expr(op.into_inner().next().expect("index"));
                // `vec[N]` written as such (not `(vec)[N]`) is the vector constructor.
                match &acc.kind {
                    ExprKind::Name(n) if n.name == "vec" && n.span == acc.span => {
                        ExprKind::VecCtor(Box::new(idx))
                    }
                    _ => ExprKind::Index(Box::new(acc), Box::new(idx)),
                }
            }
            r => unreachable!("not a postfix rule: {r:?}"),
        };
        Expr { kind, span }
    }

    fn arg(&mut self, p: Pair<Rule>) -> Arg {
        let mut it = p.into_inner().filter(not_keyword);
        let first = it.next().expect("arg");
        match it.next() {
            Some(value) => Arg { name: Some(self.ident(first)), value: self.expr(value) },
            None => Arg { name: None, value: self.expr(first) },
        }
    }

    fn primary(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::number if !p.as_str().contains(['.', 'e', 'E']) => self.int(&p),
            Rule::number => {
                let digits: String = p.as_str().chars().filter(|&c| c != '_').collect();
                match digits.parse::<f64>() {
                    Ok(f) if f.is_finite() => ExprKind::Float(f),
                    _ => {
                        self.diags.push(
                            Diagnostic::new(codes::E0004, span, "float literal is out of range")
                                .label("this number is too large for a 64-bit float"),
                        );
                        ExprKind::Error
                    }
                }
            }
            Rule::string => ExprKind::Str(self.string(p)),
            Rule::triple_string => ExprKind::Str(
                p.into_inner()
                    .find(not_keyword)
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            ),
            Rule::ident => match p.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ => ExprKind::Name(self.ident(p)),
            },
            Rule::paren => {
                let inner = self.expr(p.into_inner().find(not_keyword).expect("inner"));
                if matches!(&inner.kind, ExprKind::Binary(op, ..) if op.is_comparison()) {
                    self.parenthesized.push(span);
                }
                return inner.with_span(span);
            }
            Rule::list => {
                ExprKind::List(p.into_inner().filter(not_keyword).map(|e| self.expr(e)).collect())
            }
            Rule::record => ExprKind::Record(
                p.into_inner()
                    .filter(not_keyword)
                    .map(|entry| match entry.as_rule() {
                        Rule::spread => RecordEntry::Spread(
                            self.expr(entry.into_inner().find(not_keyword).expect("e")),
                        ),
                        _ => {
                            let mut it = entry.into_inner().filter(not_keyword);
                            let name = self.ident(it.next().expect("field"));
                            RecordEntry::Field(name, self.expr(it.next().expect("value")))
                        }
                    })
                    .collect(),
            ),
            Rule::block => {
                let mut lets = Vec::new();
                let mut result = None;
                for part in p.into_inner().filter(not_keyword) {
                    if part.as_rule() == Rule::let_stmt {
                        let lspan = self.span(&part);
                        let mut it = part.into_inner().filter(not_keyword);
                        let name = self.ident(it.next().expect("name"));
                        let value = self.expr(it.next().expect("value"));
                        lets.push(Let { name, value, span: lspan });
                    } else {
                        result = Some(self.expr(part));
                    }
                }
                ExprKind::Block { lets, result: Box::new(result.expect("block result")) }
            }
            Rule::if_expr => {
                let mut it = p.into_inner().filter(not_keyword);
                let cond = self.expr(it.next().expect("cond"));
                let then = self.expr(it.next().expect("then"));
                let otherwise = self.expr(it.next().expect("else"));
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            }
            r => unreachable!("not a primary rule: {r:?}"),
        };
        Expr { kind, span }
    }

    fn int(&mut self, p: &Pair<Rule>) -> ExprKind {
        let digits: String = p.as_str().chars().filter(|&c| c != '_').collect();
        match digits.parse::<i64>() {
            Ok(n) => ExprKind::Int(n),
            Err(_) if digits == "9223372036854775808" => {
                // Valid only under a minus sign; `prefix` consumes it, `item` reports leftovers.
                self.pending_min.push(self.span(p));
                ExprKind::Int(i64::MIN)
            }
            Err(_) => {
                self.diags.push(
                    Diagnostic::new(codes::E0212, self.span(p), "integer literal is too large")
                        .label("does not fit in a 64-bit signed integer")
                        .help(format!(
                            "the largest `int` is {}; use a float like `{digits}.0`",
                            i64::MAX
                        )),
                );
                ExprKind::Error
            }
        }
    }

    /// Decodes a `"..."` literal's escapes, reporting each bad one.
    fn string(&mut self, p: Pair<Rule>) -> String {
        self.string_with_jumps(p).0
    }

    /// [`Builder::string`], and where the decoded text lies in the file: after each
    /// escape, (decoded offset, file offset) of the next character.
    fn string_with_jumps(&mut self, p: Pair<Rule>) -> (String, Vec<(usize, usize)>) {
        let inner = p.into_inner().find(not_keyword).expect("string_inner");
        let base = self.offset + inner.as_span().start();
        let file = self.file;
        decode_string(inner.as_str(), base, |start, len, msg| {
            self.diags.push(
                Diagnostic::new(codes::E0003, Span::new(file, start, start + len), msg)
                    .label("invalid escape")
                    .help(r#"the escapes are \n \t \r \\ \" and \u{XXXX}"#),
            );
        })
    }

    /// An inline template: its text, its span, and where its bytes lie in the file.
    fn template(&mut self, p: Pair<Rule>) -> (String, Span, Offsets) {
        if p.as_rule() == Rule::triple_string {
            let inner = p.into_inner().find(not_keyword).expect("triple_inner");
            let span = self.span(&inner);
            let offsets = Offsets { base: span.start as usize, jumps: Vec::new() };
            (inner.as_str().to_string(), span, offsets)
        } else {
            let span = self.span(&p);
            let (s, jumps) = self.string_with_jumps(p);
            let offsets = Offsets { base: span.start as usize + 1, jumps };
            (
                s,
                Span {
                    start: span.start + 1,
                    end: span.end.saturating_sub(1).max(span.start + 1),
                    ..span
                },
                offsets,
            )
        }
    }
}

/// Decodes the escapes of a `"..."` literal's text `raw`, which starts at file offset
/// `base`: the text, and after each escape (decoded offset, file offset) of the next
/// character. Each bad escape is passed to `bad` as (file offset, length, message).
pub(super) fn decode_string(
    raw: &str,
    base: usize,
    mut bad: impl FnMut(usize, usize, String),
) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(raw.len());
    let mut jumps = Vec::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'u' => {
                let rest = &raw[i + 2..];
                let close = rest.find('}');
                let hex = if rest.starts_with('{') { close.map(|c| &rest[1..c]) } else { None };
                match hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) {
                    Some(ch) if hex.is_some_and(|h| !h.is_empty() && h.len() <= 6) => {
                        out.push(ch);
                        let skip = close.expect("closing brace") + 1;
                        for _ in 0..skip {
                            chars.next();
                        }
                    }
                    _ => {
                        let len =
                            if rest.starts_with('{') { close.map_or(2, |c| c + 3) } else { 2 };
                        bad(base + i, len, "invalid unicode escape".to_string());
                    }
                }
            }
            other => bad(base + i, 1 + other.len_utf8(), format!("unknown escape `\\{other}`")),
        }
        let next = chars.peek().map_or(raw.len(), |&(j, _)| j);
        jumps.push((out.len(), base + next));
    }
    (out, jumps)
}

/// The name a (broken) declaration introduces: the identifier after its keyword.
fn declared_name(src: &str) -> Option<String> {
    let mut words =
        src.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    let kw = words.next()?;
    if matches!(kw, "use" | "sink") {
        return None;
    }
    words.next().map(str::to_string)
}

pub(super) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

const KEYWORDS: &[&str] = &[
    "use", "type", "const", "param", "fn", "let", "if", "else", "source", "stage", "sink", "agent",
    "prompt", "and", "or", "not", "true", "false", "null",
];

/// `text` without trailing whitespace and comments (strings are respected).
pub(super) fn trimmed(text: &str) -> &str {
    let last = text.as_bytes().last().copied();
    // A comment runs to the end of its line, so text that ends in one has a `#` on its
    // last line: only that line needs looking at (a node's text holds all its children's,
    // so scanning all of it for every node would cost its length times its depth).
    let last_line = &text[text.rfind('\n').map_or(0, |i| i + 1)..];
    if !matches!(last, Some(b' ' | b'\t' | b'\r' | b'\n')) && !last_line.contains('#') {
        return text;
    }
    let b = text.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if text[i..].starts_with("\"\"\"") => {
                i += 3 + text[i + 3..].find("\"\"\"").map_or(text.len() - i - 3, |n| n + 3);
                end = i;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                end = i.min(b.len());
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => end = i + 1,
        }
        i += 1;
    }
    // Never cut a multi-byte character.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[..end]
}

/// Keyword tokens carry no information once the declaration's rule is known.
fn not_keyword(p: &Pair<Rule>) -> bool {
    !matches!(
        p.as_rule(),
        Rule::kw_use
            | Rule::kw_type
            | Rule::kw_const
            | Rule::kw_param
            | Rule::kw_fn
            | Rule::kw_let
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_source
            | Rule::kw_stage
            | Rule::kw_sink
            | Rule::kw_agent
            | Rule::kw_prompt
    )
}

impl Expr {
    fn with_span(mut self, span: Span) -> Expr {
        self.span = span;
        self
    }
}
