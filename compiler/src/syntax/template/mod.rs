//! Prompt templates (LANGUAGE.md §3): text → [`Template`]. `lex.rs` cuts the text into
//! pieces with pest (`grammar/template.pest`) and applies the whitespace rules; this file
//! builds the tree of `if` / `for` blocks, reads each tag's words, and parses every
//! expression with the Kiln expression parser, with spans in the file that holds the
//! template. Every problem of a template is reported, not only the first.

mod lex;
#[cfg(test)]
mod tests;

use super::ast::{Arg, Expr, ExprKind, Filter, Ident, Template, TemplateNode};
use super::parser::parse_tag_expr;
use super::split::MAX_DEPTH;
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use lex::{Delim, Piece, Rule, TemplateParser};
use pest::Parser;

/// Where a template's bytes lie in its file: `base + i`, except after escapes of a `"..."`
/// string, where each `(template offset, file offset)` jump restarts the count.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Offsets {
    pub base: usize,
    pub jumps: Vec<(usize, usize)>,
}

impl Offsets {
    pub fn at(&self, i: usize) -> usize {
        match self.jumps.iter().rev().find(|(t, _)| *t <= i) {
            Some(&(t, f)) => f + (i - t),
            None => self.base + i,
        }
    }
    /// No jump inside `start..end`: offsets there are `at(start) + k`.
    fn straight(&self, start: usize, end: usize) -> bool {
        !self.jumps.iter().any(|(t, _)| *t > start && *t < end)
    }
}

/// Parses the template `text` found in `file` at `offsets`.
pub fn parse_template(file: FileId, text: &str, offsets: &Offsets) -> (Template, Vec<Diagnostic>) {
    let mut b = Build { file, text, offsets, diags: Vec::new() };
    let nodes = match lex::pieces(text) {
        Ok(pieces) => b.tree(&pieces),
        Err(at) => {
            b.too_deep(at);
            Vec::new()
        }
    };
    let has_errors = b.diags.iter().any(Diagnostic::is_error);
    (Template { nodes, has_errors }, b.diags)
}

struct Build<'a> {
    file: FileId,
    text: &'a str,
    offsets: &'a Offsets,
    diags: Vec<Diagnostic>,
}

/// A block being built.
enum Frame {
    If {
        branches: Vec<(Expr, Vec<TemplateNode>)>,
        /// `Some` once `{% else %}` was seen (its span).
        else_span: Option<Span>,
        otherwise: Vec<TemplateNode>,
        span: Span,
    },
    For {
        var: Ident,
        list: Expr,
        body: Vec<TemplateNode>,
        span: Span,
    },
}

impl Frame {
    fn nodes(&mut self) -> &mut Vec<TemplateNode> {
        match self {
            Frame::If { branches, else_span: None, .. } => {
                &mut branches.last_mut().expect("an if has a branch").1
            }
            Frame::If { otherwise, .. } => otherwise,
            Frame::For { body, .. } => body,
        }
    }
    fn close(self) -> TemplateNode {
        match self {
            Frame::If { branches, otherwise, span, .. } => {
                TemplateNode::If { branches, otherwise, span }
            }
            Frame::For { var, list, body, span } => TemplateNode::For { var, list, body, span },
        }
    }
    fn what(&self) -> &'static str {
        match self {
            Frame::If { .. } => "{% if %}",
            Frame::For { .. } => "{% for %}",
        }
    }
    fn span(&self) -> Span {
        match self {
            Frame::If { span, .. } | Frame::For { span, .. } => *span,
        }
    }
}

/// What a `{% ... %}` tag says.
enum Words {
    If(Expr),
    ElseIf(Expr),
    Else,
    End,
    For(Ident, Expr),
    /// Reported already; ignored.
    Bad,
}

impl Build<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.offsets.at(start), self.offsets.at(end))
    }

    fn tree(&mut self, pieces: &[Piece]) -> Vec<TemplateNode> {
        let mut root: Vec<TemplateNode> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        for piece in pieces {
            let node = match piece {
                Piece::Text(t) if t.is_empty() => continue,
                Piece::Text(t) => TemplateNode::Text(t.clone()),
                Piece::Unclosed { delim, start, end } => {
                    self.unclosed(*delim, *start, *end);
                    continue;
                }
                Piece::Delimited { delim: Delim::Comment, .. } => continue,
                Piece::Delimited { delim: Delim::Output, start, end, parts } => {
                    match self.output(*start, *end, parts) {
                        Some(n) => n,
                        None => continue,
                    }
                }
                Piece::Delimited { delim: Delim::Tag, start, end, parts } => {
                    let span = self.span(*start, *end);
                    let (ws, we) = parts.first().copied().unwrap_or((*start, *start));
                    match self.words(ws, we, span) {
                        Words::If(cond) => {
                            stack.push(Frame::If {
                                branches: vec![(cond, Vec::new())],
                                else_span: None,
                                otherwise: Vec::new(),
                                span,
                            });
                            continue;
                        }
                        Words::For(var, list) => {
                            stack.push(Frame::For { var, list, body: Vec::new(), span });
                            continue;
                        }
                        Words::ElseIf(cond) => {
                            self.else_tag(&mut stack, span, Some(cond));
                            continue;
                        }
                        Words::Else => {
                            self.else_tag(&mut stack, span, None);
                            continue;
                        }
                        Words::End => match stack.pop() {
                            Some(f) => f.close(),
                            None => {
                                self.diags.push(
                                    Diagnostic::new(
                                        codes::E0502,
                                        span,
                                        "`{% end %}` closes no block",
                                    )
                                    .label("no `{% if %}` or `{% for %}` is open here")
                                    .help("remove it, or open the block it was meant to close"),
                                );
                                continue;
                            }
                        },
                        Words::Bad => continue,
                    }
                }
            };
            match stack.last_mut() {
                Some(f) => f.nodes().push(node),
                None => root.push(node),
            }
        }
        // Blocks never closed, innermost first; each is still kept, so its contents are
        // checked.
        while let Some(f) = stack.pop() {
            self.diags.push(
                Diagnostic::new(codes::E0502, f.span(), format!("`{}` is never closed", f.what()))
                    .label("opened here")
                    .help("close the block with `{% end %}`"),
            );
            let node = f.close();
            match stack.last_mut() {
                Some(outer) => outer.nodes().push(node),
                None => root.push(node),
            }
        }
        root
    }

    fn unclosed(&mut self, delim: Delim, start: usize, end: usize) {
        let open = delim.open();
        let close = delim.close();
        self.diags.push(
            Diagnostic::new(
                codes::E0501,
                self.span(start, end),
                format!("`{open}` is never closed"),
            )
            .label("opened here")
            .help(format!("close it with `{close}` (a tag cannot contain `{{{{` or `{{%`)")),
        );
    }

    /// `{% else %}` or `{% else if c %}`.
    fn else_tag(&mut self, stack: &mut [Frame], span: Span, cond: Option<Expr>) {
        let tag = if cond.is_some() { "{% else if %}" } else { "{% else %}" };
        match stack.last_mut() {
            Some(Frame::If { branches, else_span, .. }) => match else_span {
                Some(first) => {
                    let first = *first;
                    self.diags.push(
                        Diagnostic::new(codes::E0502, span, format!("`{tag}` after `{{% else %}}`"))
                            .label("nothing can follow the `{% else %}` branch")
                            .secondary(first, "the `{% else %}` is here")
                            .help("put `{% else if %}` branches before `{% else %}`, and write `{% else %}` once"),
                    );
                }
                None => match cond {
                    Some(c) => branches.push((c, Vec::new())),
                    None => *else_span = Some(span),
                },
            },
            Some(Frame::For { span: for_span, .. }) => {
                let for_span = *for_span;
                self.diags.push(
                    Diagnostic::new(codes::E0502, span, format!("`{tag}` inside `{{% for %}}`"))
                        .label("not inside an `{% if %}`")
                        .secondary(for_span, "the innermost open block is this `{% for %}`")
                        .help("a `{% for %}` has no `{% else %}`: test the list with `{% if len(xs) == 0 %}`"),
                );
            }
            None => {
                self.diags.push(
                    Diagnostic::new(codes::E0502, span, format!("`{tag}` outside `{{% if %}}`"))
                        .label("no `{% if %}` is open here")
                        .help("`{% else %}` belongs between `{% if c %}` and `{% end %}`"),
                );
            }
        }
    }

    /// `{{ value | f | g(a) }}`.
    fn output(
        &mut self,
        start: usize,
        end: usize,
        parts: &[(usize, usize)],
    ) -> Option<TemplateNode> {
        let span = self.span(start, end);
        let (&(vs, ve), filters) = parts.split_first()?;
        if self.text[vs..ve].trim().is_empty() {
            let d = if filters.is_empty() {
                Diagnostic::new(codes::E0503, span, "`{{ }}` holds no expression")
                    .label("empty")
                    .help("write the value to insert: `{{ name }}`")
            } else {
                Diagnostic::new(codes::E0503, self.span(vs, ve), "a filter needs a value before it")
                    .label("no value before `|`")
                    .help("write `{{ value | filter }}`")
            };
            self.diags.push(d);
            return None;
        }
        let value = self.expr(vs, ve)?;
        let mut out = Vec::new();
        let mut ok = true;
        for &(fs, fe) in filters {
            match self.filter(fs, fe) {
                Some(f) => out.push(f),
                None => ok = false,
            }
        }
        ok.then_some(TemplateNode::Insert { value, filters: out, span })
    }

    /// `| name` or `| name(args)`.
    fn filter(&mut self, start: usize, end: usize) -> Option<Filter> {
        let raw = &self.text[start..end];
        if raw.trim().is_empty() {
            let at = start + raw.len() - raw.trim_start().len();
            self.diags.push(
                Diagnostic::new(codes::E0507, self.span(start.max(at), end), "a filter name is missing after `|`")
                    .label("expected a function name")
                    .help("a filter is a function: `| trim`, `| truncate(200)`; the pipe operator is `|>`"),
            );
            return None;
        }
        let e = self.expr(start, end)?;
        let span = e.span;
        match e.kind {
            ExprKind::Name(name) => Some(Filter { name, args: Vec::new(), span }),
            ExprKind::Call { callee, args } => match callee.kind {
                ExprKind::Name(name) => Some(Filter { name, args, span }),
                _ => self.not_a_filter(span),
            },
            _ => self.not_a_filter(span),
        }
    }

    fn not_a_filter(&mut self, span: Span) -> Option<Filter> {
        self.diags.push(
            Diagnostic::new(codes::E0507, span, "a filter must be a function name, with arguments or without")
                .label("not a function name")
                .help("`x | f` means `f(x)` and `x | f(a)` means `f(x, a)`; for anything else write the expression inside the `{{ }}`"),
        );
        None
    }

    fn too_deep(&mut self, at: usize) {
        let at = at.min(self.text.len());
        let end = self.text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        self.diags.push(
            Diagnostic::new(
                codes::E0001,
                self.span(at, end),
                format!("brackets nested more than {MAX_DEPTH} levels deep"),
            )
            .label("too deep")
            .help("split the expression with helper functions"),
        );
    }

    /// Parses `text[start..end]` as a Kiln expression.
    fn expr(&mut self, start: usize, end: usize) -> Option<Expr> {
        let src = &self.text[start..end];
        if let Some(at) = too_deep(src) {
            self.too_deep(start + at);
            return None;
        }
        let straight = self.offsets.straight(start, end);
        let base = if straight { self.offsets.at(start) } else { 0 };
        match parse_tag_expr(self.file, src, base) {
            Ok(mut e) => {
                if !straight {
                    let (offsets, file) = (self.offsets, self.file);
                    remap_expr(&mut e, &|sp| remap(sp, file, offsets, start));
                }
                Some(e)
            }
            Err(ds) => {
                for mut d in ds {
                    if !straight {
                        let (offsets, file) = (self.offsets, self.file);
                        d.primary.span = remap(d.primary.span, file, offsets, start);
                        for l in &mut d.secondary {
                            l.span = remap(l.span, file, offsets, start);
                        }
                    }
                    self.diags.push(d);
                }
                None
            }
        }
    }

    /// The words of a `{% ... %}` tag (`text[start..end]`).
    fn words(&mut self, start: usize, end: usize, span: Span) -> Words {
        let src = &self.text[start..end];
        let Ok(mut pairs) = TemplateParser::parse(Rule::tag_words, src) else {
            return self.bad_tag(span, "this tag cannot be read", "the tags are `{% if c %}`, `{% else if c %}`, `{% else %}`, `{% for x in xs %}` and `{% end %}`");
        };
        let Some(kind) =
            pairs.next().and_then(|top| top.into_inner().find(|p| p.as_rule() != Rule::EOI))
        else {
            return self.bad_tag(span, "`{% %}` holds no tag", "the tags are `{% if c %}`, `{% else if c %}`, `{% else %}`, `{% for x in xs %}` and `{% end %}`");
        };
        let at = |p: &pest::iterators::Pair<Rule>| {
            (start + p.as_span().start(), start + p.as_span().end())
        };
        let rule = kind.as_rule();
        let parts: Vec<_> = kind.into_inner().collect();
        match rule {
            Rule::if_tag | Rule::else_if_tag => {
                let (rs, re) =
                    parts.iter().find(|p| p.as_rule() == Rule::rest).map(at).unwrap_or((end, end));
                let what = if rule == Rule::if_tag { "if" } else { "else if" };
                if self.text[rs..re].trim().is_empty() {
                    self.bad_tag(
                        span,
                        &format!("`{{% {what} %}}` needs a condition"),
                        &format!("write `{{% {what} condition %}}`, e.g. `{{% {what} n > 0 %}}`"),
                    );
                    // Kept as a block, so its `{% end %}` still matches.
                    let c = placeholder(span);
                    return if rule == Rule::if_tag { Words::If(c) } else { Words::ElseIf(c) };
                }
                let c = self.expr(rs, re).unwrap_or_else(|| placeholder(span));
                if rule == Rule::if_tag { Words::If(c) } else { Words::ElseIf(c) }
            }
            Rule::else_tag | Rule::end_tag => {
                let word = if rule == Rule::else_tag { "else" } else { "end" };
                if let Some((ts, te)) = parts.iter().find(|p| p.as_rule() == Rule::trailing).map(at)
                    && !self.text[ts..te].trim().is_empty()
                {
                    let sp = self.span(ts, ts + self.text[ts..te].trim_end().len());
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0503,
                            sp,
                            format!("`{{% {word} %}}` takes nothing after `{word}`"),
                        )
                        .label("unexpected")
                        .help(if word == "else" {
                            "for another condition write `{% else if c %}`"
                        } else {
                            "every block ends with a plain `{% end %}`"
                        }),
                    );
                }
                if rule == Rule::else_tag { Words::Else } else { Words::End }
            }
            Rule::for_tag => {
                let head: Vec<_> = parts.into_iter().flat_map(|p| p.into_inner()).collect();
                let name = head.iter().find(|p| p.as_rule() == Rule::name);
                let rest = head.iter().find(|p| p.as_rule() == Rule::rest);
                match (name, rest) {
                    (Some(n), Some(r)) => {
                        let (ns, ne) = at(n);
                        let (rs, re) = at(r);
                        let var = Ident { name: n.as_str().to_string(), span: self.span(ns, ne) };
                        if self.text[rs..re].trim().is_empty() {
                            self.bad_tag(
                                span,
                                "`{% for %}` needs a list after `in`",
                                "write `{% for x in xs %}`",
                            );
                            return Words::For(var, placeholder(span));
                        }
                        if super::parser::is_keyword(&var.name) {
                            self.diags.push(
                                Diagnostic::new(
                                    codes::E0001,
                                    var.span,
                                    format!(
                                        "`{}` is a keyword and cannot be used as a name",
                                        var.name
                                    ),
                                )
                                .label("a keyword"),
                            );
                        }
                        let list = self.expr(rs, re).unwrap_or_else(|| placeholder(span));
                        Words::For(var, list)
                    }
                    _ => {
                        self.bad_tag(span, "expected `{% for NAME in LIST %}`", "write `{% for x in xs %}`; inside it `loop.index`, `loop.first` and `loop.last` tell where you are");
                        let var = Ident { name: "_".to_string(), span };
                        Words::For(var, placeholder(span))
                    }
                }
            }
            _ => {
                let word = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::name)
                    .map(|p| p.as_str())
                    .unwrap_or("");
                let (msg, help, then) = match word {
                    "endif" | "endfor" | "endblock" | "endmacro" | "fi" | "done" => (
                        format!("unknown tag `{word}`"),
                        "Kiln closes every block with `{% end %}`".to_string(),
                        Words::End,
                    ),
                    "elif" | "elsif" | "elseif" => (
                        format!("unknown tag `{word}`"),
                        "write `{% else if condition %}`".to_string(),
                        Words::ElseIf(placeholder(span)),
                    ),
                    "" if self.text[start..end].trim().is_empty() => (
                        "`{% %}` holds no tag".to_string(),
                        "the tags are `{% if c %}`, `{% else if c %}`, `{% else %}`, `{% for x in xs %}` and `{% end %}`".to_string(),
                        Words::Bad,
                    ),
                    "" => (
                        "this tag cannot be read".to_string(),
                        "the tags are `{% if c %}`, `{% else if c %}`, `{% else %}`, `{% for x in xs %}` and `{% end %}`".to_string(),
                        Words::Bad,
                    ),
                    w => (
                        format!("unknown tag `{w}`"),
                        "the tags are `{% if c %}`, `{% else if c %}`, `{% else %}`, `{% for x in xs %}` and `{% end %}`".to_string(),
                        Words::Bad,
                    ),
                };
                self.diags.push(
                    Diagnostic::new(codes::E0503, span, msg).label("not a template tag").help(help),
                );
                // An `{% endif %}` still closes its block and an `{% elif %}` still starts a
                // branch, so one mistake is one message.
                then
            }
        }
    }

    fn bad_tag(&mut self, span: Span, msg: &str, help: &str) -> Words {
        self.diags.push(
            Diagnostic::new(codes::E0503, span, msg.to_string())
                .label("here")
                .help(help.to_string()),
        );
        Words::Bad
    }
}

/// Stands for an expression that was reported already (it checks as an error, silently).
fn placeholder(span: Span) -> Expr {
    Expr { kind: ExprKind::Error, span }
}

/// Where brackets in `src` (strings skipped) first nest deeper than the `.kiln` parser
/// allows, if they do.
fn too_deep(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A span of an expression parsed at offset 0 from template offset `start`, in the file.
fn remap(sp: Span, file: FileId, offsets: &Offsets, start: usize) -> Span {
    Span::new(file, offsets.at(start + sp.start as usize), offsets.at(start + sp.end as usize))
}

/// Applies `f` to every span of `e`.
fn remap_expr(e: &mut Expr, f: &dyn Fn(Span) -> Span) {
    e.span = f(e.span);
    let id = |i: &mut Ident| i.span = f(i.span);
    match &mut e.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => {}
        ExprKind::Null | ExprKind::Error => {}
        ExprKind::List(xs) => xs.iter_mut().for_each(|x| remap_expr(x, f)),
        ExprKind::Record(entries) => {
            for en in entries {
                match en {
                    super::ast::RecordEntry::Field(n, v) => {
                        id(n);
                        remap_expr(v, f);
                    }
                    super::ast::RecordEntry::Spread(v) => remap_expr(v, f),
                }
            }
        }
        ExprKind::Name(n) => id(n),
        ExprKind::VecCtor(x) | ExprKind::Unary(_, x) => remap_expr(x, f),
        ExprKind::Binary(_, a, b) | ExprKind::Pipe(a, b) | ExprKind::Index(a, b) => {
            remap_expr(a, f);
            remap_expr(b, f);
        }
        ExprKind::Call { callee, args } => {
            remap_expr(callee, f);
            for Arg { name, value } in args {
                if let Some(n) = name {
                    id(n);
                }
                remap_expr(value, f);
            }
        }
        ExprKind::Field(x, n) => {
            remap_expr(x, f);
            id(n);
        }
        ExprKind::If { cond, then, otherwise } => {
            remap_expr(cond, f);
            remap_expr(then, f);
            remap_expr(otherwise, f);
        }
        ExprKind::Block { lets, result } => {
            for l in lets {
                l.span = f(l.span);
                id(&mut l.name);
                remap_expr(&mut l.value, f);
            }
            remap_expr(result, f);
        }
        ExprKind::Lambda { param, body } => {
            id(param);
            remap_expr(body, f);
        }
    }
}
