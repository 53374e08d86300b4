//! The parser's fast path: a hand-written recursive-descent parser for declarations that
//! parse cleanly. It follows `grammar/kiln.pest` choice by choice (the same ordered
//! alternatives, the same greedy repetitions, the same blanks and comments between tokens)
//! and builds the AST `parser.rs` builds from pest's pairs, spans included.
//!
//! It never reports anything: at the first token the grammar would reject, and wherever
//! the pest path's builder would report a problem (a keyword as a name, an integer literal
//! too large, a bad escape, chained comparisons, a lambda whose parameter is not a name),
//! it gives up and returns `None`; the caller then parses with pest, which words every
//! failure. So it may only ever accept what pest accepts, with the same result:
//! [`compare_fast_path`] checks that on a text, and tests/parse_fast.rs runs it on every
//! `.kiln` file of the repository, on thousands of mutations of them and on random
//! expressions.

use super::ast::*;
use super::parser::{decode_string, is_keyword, parse_chunk_pest, parse_module_with, trimmed};
use super::split;
use super::template::Offsets;
use crate::source::{FileId, Span};

/// Parses the declaration `text[start..end]` (one chunk from `split`, parsed as the rule
/// `decl_only` would), or `None` if the pest path must do it.
pub(super) fn parse_decl(file: FileId, text: &str, start: usize, end: usize) -> Option<Item> {
    let mut p = Fast {
        src: &text[..end],
        b: &text.as_bytes()[..end],
        pos: start,
        last: start,
        file,
        parenthesized: Vec::new(),
    };
    p.skip();
    let item = p.item()?;
    (p.pos == end).then_some(item)
}

struct Fast<'a> {
    src: &'a str,
    b: &'a [u8],
    /// The next token (blanks and comments are skipped right after each token).
    pos: usize,
    /// The end of the last token: a node ends there, never on the blanks after it.
    last: usize,
    file: FileId,
    /// Spans of parenthesized comparisons (`(a < b) == c` is not a chain).
    parenthesized: Vec<Span>,
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The grammar's infix operators; `None` is `|>`.
type Infix = Option<BinOp>;

impl Fast<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    /// The position after the blanks and comments starting at `i`.
    fn skip_from(&self, mut i: usize) -> usize {
        let b = self.b;
        loop {
            while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            if i < b.len() && b[i] == b'#' {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else {
                return i;
            }
        }
    }

    fn skip(&mut self) {
        self.pos = self.skip_from(self.pos);
    }

    /// Consumes a token of `n` bytes and the blanks after it.
    fn bump(&mut self, n: usize) {
        self.pos += n;
        self.last = self.pos;
        self.skip();
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        let hit = self.b[self.pos..].starts_with(lit);
        if hit {
            self.bump(lit.len());
        }
        hit
    }

    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        self.eat(lit).then_some(())
    }

    /// The length of the name (`(ASCII_ALPHA | "_") ~ ident_char*`) at `i`, 0 if none.
    fn word_at(&self, i: usize) -> usize {
        let b = self.b;
        if i >= b.len() || !(b[i].is_ascii_alphabetic() || b[i] == b'_') {
            return 0;
        }
        let mut j = i + 1;
        while j < b.len() && is_ident_byte(b[j]) {
            j += 1;
        }
        j - i
    }

    /// `kw ~ !ident_char` at the next token.
    fn at_kw(&self, kw: &[u8]) -> bool {
        self.b[self.pos..].starts_with(kw) && !is_ident_byte(self.at(self.pos + kw.len()))
    }

    fn span(&self, start: usize) -> Span {
        Span::new(self.file, start, self.last)
    }

    /// A field name (keywords allowed).
    fn field_name(&mut self) -> Option<Ident> {
        let n = self.word_at(self.pos);
        if n == 0 {
            return None;
        }
        let start = self.pos;
        self.bump(n);
        Some(Ident { name: self.src[start..start + n].to_string(), span: self.span(start) })
    }

    /// A name where the builder rejects keywords.
    fn name(&mut self) -> Option<Ident> {
        let n = self.word_at(self.pos);
        if n == 0 || is_keyword(&self.src[self.pos..self.pos + n]) {
            return None;
        }
        self.field_name()
    }

    fn item(&mut self) -> Option<Item> {
        let start = self.pos;
        let n = self.word_at(start);
        let word = &self.src[start..start + n];
        self.bump(n);
        let kind = match word {
            "use" => {
                let (path, path_span) = self.string_lit()?;
                ItemKind::Use { path, path_span }
            }
            "type" => {
                let name = self.name()?;
                self.expect(b"=")?;
                ItemKind::Type { name, ty: self.type_expr()? }
            }
            "const" => {
                let name = self.name()?;
                let ty = if self.eat(b":") { Some(self.type_expr()?) } else { None };
                self.expect(b"=")?;
                ItemKind::Const { name, ty, value: self.expr()? }
            }
            "param" => {
                let name = self.name()?;
                self.expect(b":")?;
                let ty = self.type_expr()?;
                let default = if self.eat(b"=") { Some(self.expr()?) } else { None };
                ItemKind::Param { name, ty, default }
            }
            "fn" => {
                let name = self.name()?;
                self.expect(b"(")?;
                let params = self.params()?;
                self.expect(b")")?;
                self.expect(b"->")?;
                let ret = self.type_expr()?;
                let body = if self.eat(b"=") { self.expr()? } else { self.block()? };
                ItemKind::Fn { name, params, ret, body }
            }
            "agent" => {
                let name = self.name()?;
                self.expect(b"=")?;
                let (path, path_span) = self.string_lit()?;
                ItemKind::Agent { name, path, path_span }
            }
            "prompt" => self.prompt()?,
            "source" => {
                let name = self.name()?;
                self.expect(b":")?;
                let ty = self.type_expr()?;
                self.expect(b"=")?;
                ItemKind::Source { name, ty, expr: self.expr()? }
            }
            "stage" => {
                let name = self.name()?;
                self.expect(b"=")?;
                ItemKind::Stage { name, expr: self.expr()? }
            }
            "sink" => {
                let expr = self.expr()?;
                self.expect(b"->")?;
                ItemKind::Sink { expr, target: self.expr()? }
            }
            _ => return None,
        };
        Some(Item { kind, span: self.span(start) })
    }

    /// `prompt NAME (prompt_inline | "=" string)`, after the keyword.
    fn prompt(&mut self) -> Option<ItemKind> {
        let name = self.name()?;
        if !self.eat(b"(") {
            self.expect(b"=")?;
            let (path, path_span) = self.string_lit()?;
            return Some(ItemKind::PromptFile { name, path, path_span });
        }
        let params = self.params()?;
        self.expect(b")")?;
        let ret = if self.eat(b"->") { Some(self.type_expr()?) } else { None };
        self.expect(b"=")?;
        let start = self.pos;
        let (template, template_span, template_offsets) = match self.triple_end(start) {
            Some(close) => {
                // The builder trims the inner text like any node's (blanks, `#...`).
                let inner = &self.src[start + 3..close];
                let span = Span::new(self.file, start + 3, start + 3 + trimmed(inner).len());
                self.bump(close + 3 - start);
                (inner.to_string(), span, Offsets { base: start + 3, jumps: Vec::new() })
            }
            None => {
                let end = self.string_end(start)?;
                let (s, jumps) = self.decode(start + 1, end - 1, true)?;
                self.bump(end - start);
                let span = Span::new(self.file, start + 1, (end - 1).max(start + 1));
                (s, span, Offsets { base: start + 1, jumps })
            }
        };
        Some(ItemKind::PromptInline {
            name,
            params,
            ret,
            template,
            template_span,
            template_offsets,
            body: Template::default(),
        })
    }

    /// `(param ~ ("," ~ param)* ~ ","?)?` up to the `)`.
    fn params(&mut self) -> Option<Vec<Param>> {
        let mut params = Vec::new();
        if self.peek() != b')' {
            loop {
                let name = self.name()?;
                self.expect(b":")?;
                params.push(Param { name, ty: self.type_expr()? });
                if !self.eat(b",") || self.peek() == b')' {
                    break;
                }
            }
        }
        Some(params)
    }

    // ---- types --------------------------------------------------------------------------

    fn type_expr(&mut self) -> Option<TypeExpr> {
        let start = self.pos;
        let mut ty = self.type_atom()?;
        while self.eat(b"?") {
            ty = TypeExpr { kind: TypeExprKind::Optional(Box::new(ty)), span: self.span(start) };
        }
        Some(ty)
    }

    fn type_atom(&mut self) -> Option<TypeExpr> {
        let start = self.pos;
        let rest = &self.b[start..];
        let kind = if rest.starts_with(b"[") {
            self.bump(1);
            let elem = self.type_expr()?;
            self.expect(b"]")?;
            TypeExprKind::List(Box::new(elem))
        } else if rest.starts_with(b"vec") && self.at(self.skip_from(start + 3)) == b'[' {
            self.bump(3);
            self.bump(1);
            let size = self.expr()?;
            self.expect(b"]")?;
            TypeExprKind::Vec(Box::new(size))
        } else if rest.starts_with(b"stream") && self.at(self.skip_from(start + 6)) == b'<' {
            self.bump(6);
            self.bump(1);
            let elem = self.type_expr()?;
            self.expect(b">")?;
            TypeExprKind::Stream(Box::new(elem))
        } else if rest.starts_with(b"{") {
            self.bump(1);
            let mut fields = Vec::new();
            if self.peek() != b'}' {
                loop {
                    let name = self.field_name()?;
                    self.expect(b":")?;
                    fields.push((name, self.type_expr()?));
                    if !self.eat(b",") || self.peek() == b'}' {
                        break;
                    }
                }
            }
            self.expect(b"}")?;
            TypeExprKind::Record(fields)
        } else {
            TypeExprKind::Named(self.name()?)
        };
        Some(TypeExpr { kind, span: self.span(start) })
    }

    // ---- expressions --------------------------------------------------------------------

    /// `infix_expr ~ lambda_body?`
    fn expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        let lhs = self.binary(0)?;
        if !self.b[self.pos..].starts_with(b"=>") {
            return Some(lhs);
        }
        // The lambda's parameter: an operand that is a single name, nothing more.
        let param = match lhs.kind {
            ExprKind::Name(id) if id.span == lhs.span => id,
            _ => return None,
        };
        self.bump(2);
        let body = self.expr()?;
        Some(Expr {
            kind: ExprKind::Lambda { param, body: Box::new(body) },
            span: self.span(start),
        })
    }

    /// The infix operator at the next token and its binding power (pest's Pratt parser
    /// levels, loosest first), in the grammar's order of alternatives.
    fn infix_op(&self) -> Option<(Infix, usize, u8)> {
        let next = self.at(self.pos + 1);
        Some(match self.peek() {
            b'|' if next == b'>' => (None, 2, 1),
            b'o' if self.at_kw(b"or") => (Some(BinOp::Or), 2, 2),
            b'a' if self.at_kw(b"and") => (Some(BinOp::And), 3, 3),
            b'?' if next == b'?' => (Some(BinOp::Coalesce), 2, 5),
            b'=' if next == b'=' => (Some(BinOp::Eq), 2, 4),
            b'!' if next == b'=' => (Some(BinOp::Ne), 2, 4),
            b'<' if next == b'=' => (Some(BinOp::Le), 2, 4),
            b'>' if next == b'=' => (Some(BinOp::Ge), 2, 4),
            b'<' => (Some(BinOp::Lt), 1, 4),
            b'>' => (Some(BinOp::Gt), 1, 4),
            b'+' => (Some(BinOp::Add), 1, 6),
            b'-' if next != b'>' => (Some(BinOp::Sub), 1, 6),
            b'/' if next == b'/' => (Some(BinOp::FloorDiv), 2, 7),
            b'*' => (Some(BinOp::Mul), 1, 7),
            b'/' => (Some(BinOp::Div), 1, 7),
            b'%' => (Some(BinOp::Mod), 1, 7),
            _ => return None,
        })
    }

    /// Operands and infix operators binding tighter than `min`, folded left-associatively
    /// as pest's Pratt parser folds them.
    fn binary(&mut self, min: u8) -> Option<Expr> {
        let mut lhs = self.operand()?;
        while let Some((op, len, power)) = self.infix_op() {
            if power <= min {
                break;
            }
            self.bump(len);
            let rhs = self.binary(power)?;
            let span = lhs.span.to(rhs.span);
            let kind = match op {
                None => ExprKind::Pipe(Box::new(lhs), Box::new(rhs)),
                Some(bin) => {
                    if bin.is_comparison()
                        && matches!(&lhs.kind, ExprKind::Binary(prev, ..) if prev.is_comparison())
                        && !self.parenthesized.contains(&lhs.span)
                    {
                        return None; // chained comparisons: pest's builder reports them
                    }
                    ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs))
                }
            };
            lhs = Expr { kind, span };
        }
        Some(lhs)
    }

    /// `prefix_op* ~ primary ~ postfix_op*`: postfix operators bind tighter than prefix.
    fn operand(&mut self) -> Option<Expr> {
        let start = self.pos;
        let prefix = if self.peek() == b'-' {
            Some((UnOp::Neg, 1))
        } else if self.at_kw(b"not") {
            Some((UnOp::Not, 3))
        } else {
            None
        };
        if let Some((op, len)) = prefix {
            self.bump(len);
            let rhs = self.operand()?;
            let span = Span::new(self.file, start, start + len).to(rhs.span);
            return Some(Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span });
        }
        let mut e = self.primary()?;
        loop {
            let kind = match self.peek() {
                b'(' => {
                    self.bump(1);
                    ExprKind::Call { callee: Box::new(e), args: self.args()? }
                }
                b'.' => {
                    self.bump(1);
                    ExprKind::Field(Box::new(e), self.field_name()?)
                }
                b'[' => {
                    self.bump(1);
                    let idx = self.expr()?;
                    self.expect(b"]")?;
                    match &e.kind {
                        // `vec[N]` written as such (not `(vec)[N]`) is the vector constructor.
                        ExprKind::Name(n) if n.name == "vec" && n.span == e.span => {
                            ExprKind::VecCtor(Box::new(idx))
                        }
                        _ => ExprKind::Index(Box::new(e), Box::new(idx)),
                    }
                }
                _ => return Some(e),
            };
            e = Expr { kind, span: self.span(start) };
        }
    }

    /// A call's arguments after its `(`, and the `)`.
    fn args(&mut self) -> Option<Vec<Arg>> {
        let mut args = Vec::new();
        if self.peek() != b')' {
            loop {
                args.push(self.arg()?);
                if !self.eat(b",") || self.peek() == b')' {
                    break;
                }
            }
        }
        self.expect(b")")?;
        Some(args)
    }

    /// `(field_name ~ ":" ~ !":")? ~ expr`
    fn arg(&mut self) -> Option<Arg> {
        let start = self.pos;
        let n = self.word_at(start);
        if n > 0 {
            let colon = self.skip_from(start + n);
            if self.at(colon) == b':' {
                let value_at = self.skip_from(colon + 1);
                if self.at(value_at) == b':' {
                    return None;
                }
                let name = Ident {
                    name: self.src[start..start + n].to_string(),
                    span: Span::new(self.file, start, start + n),
                };
                self.pos = value_at;
                self.last = colon + 1;
                return Some(Arg { name: Some(name), value: self.expr()? });
            }
        }
        Some(Arg { name: None, value: self.expr()? })
    }

    fn primary(&mut self) -> Option<Expr> {
        let start = self.pos;
        let c = self.peek();
        let kind = match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let n = self.word_at(start);
                let word = &self.src[start..start + n];
                if word == "if" {
                    return self.if_expr();
                }
                self.bump(n);
                match word {
                    "true" => ExprKind::Bool(true),
                    "false" => ExprKind::Bool(false),
                    "null" => ExprKind::Null,
                    _ if is_keyword(word) => return None,
                    _ => ExprKind::Name(Ident { name: word.to_string(), span: self.span(start) }),
                }
            }
            b'0'..=b'9' => self.number()?,
            b'[' => {
                self.bump(1);
                let mut items = Vec::new();
                if self.peek() != b']' {
                    loop {
                        items.push(self.expr()?);
                        if !self.eat(b",") || self.peek() == b']' {
                            break;
                        }
                    }
                }
                self.expect(b"]")?;
                ExprKind::List(items)
            }
            b'(' => {
                self.bump(1);
                let inner = self.expr()?;
                self.expect(b")")?;
                let span = self.span(start);
                if matches!(&inner.kind, ExprKind::Binary(op, ..) if op.is_comparison()) {
                    self.parenthesized.push(span);
                }
                return Some(Expr { kind: inner.kind, span });
            }
            b'{' if self.starts_record() => self.record()?,
            b'{' => return self.block(),
            b'"' => match self.triple_end(start) {
                Some(close) => {
                    let s = self.src[start + 3..close].to_string();
                    self.bump(close + 3 - start);
                    ExprKind::Str(s)
                }
                None => {
                    let end = self.string_end(start)?;
                    let (s, _) = self.decode(start + 1, end - 1, false)?;
                    self.bump(end - start);
                    ExprKind::Str(s)
                }
            },
            _ => return None,
        };
        Some(Expr { kind, span: self.span(start) })
    }

    /// `kw_if ~ expr ~ block ~ kw_else ~ (if_expr | block)`
    fn if_expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.bump(2);
        let cond = self.expr()?;
        let then = self.block()?;
        if !self.at_kw(b"else") {
            return None;
        }
        self.bump(4);
        let otherwise = if self.at_kw(b"if") { self.if_expr()? } else { self.block()? };
        let kind = ExprKind::If {
            cond: Box::new(cond),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        };
        Some(Expr { kind, span: self.span(start) })
    }

    /// Whether the `{` at the next token opens a record: the grammar tries a record first,
    /// and a record starts with `}`, `..` or `name :`; anything else makes it fail.
    fn starts_record(&self) -> bool {
        let i = self.skip_from(self.pos + 1);
        match self.at(i) {
            b'}' => true,
            b'.' => self.at(i + 1) == b'.',
            _ => {
                let n = self.word_at(i);
                n > 0 && self.at(self.skip_from(i + n)) == b':'
            }
        }
    }

    fn record(&mut self) -> Option<ExprKind> {
        self.bump(1);
        let mut entries = Vec::new();
        if self.peek() != b'}' {
            loop {
                entries.push(if self.eat(b"..") {
                    RecordEntry::Spread(self.expr()?)
                } else {
                    let name = self.field_name()?;
                    self.expect(b":")?;
                    RecordEntry::Field(name, self.expr()?)
                });
                if !self.eat(b",") || self.peek() == b'}' {
                    break;
                }
            }
        }
        self.expect(b"}")?;
        Some(ExprKind::Record(entries))
    }

    /// `"{" ~ (let_stmt ~ ";"?)* ~ expr ~ ";"? ~ "}"`
    fn block(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.expect(b"{")?;
        let mut lets = Vec::new();
        while self.at_kw(b"let") {
            let let_start = self.pos;
            self.bump(3);
            let name = self.name()?;
            self.expect(b"=")?;
            let value = self.expr()?;
            lets.push(Let { name, value, span: self.span(let_start) });
            self.eat(b";");
        }
        let result = self.expr()?;
        self.eat(b";");
        self.expect(b"}")?;
        Some(Expr {
            kind: ExprKind::Block { lets, result: Box::new(result) },
            span: self.span(start),
        })
    }

    /// `number = @{ digits ~ ("." ~ digits)? ~ exponent? ~ !ident_char }`
    fn number(&mut self) -> Option<ExprKind> {
        let start = self.pos;
        let digits = |mut i: usize| {
            while self.at(i).is_ascii_digit() || self.at(i) == b'_' {
                i += 1;
            }
            i
        };
        let mut i = digits(start + 1);
        if self.at(i) == b'.' && self.at(i + 1).is_ascii_digit() {
            i = digits(i + 2);
        }
        if matches!(self.at(i), b'e' | b'E') {
            let j = if matches!(self.at(i + 1), b'+' | b'-') { i + 2 } else { i + 1 };
            if self.at(j).is_ascii_digit() {
                i = digits(j + 1);
            }
        }
        if is_ident_byte(self.at(i)) {
            return None;
        }
        let text = &self.src[start..i];
        self.bump(i - start);
        let clean: std::borrow::Cow<str> =
            if text.contains('_') { text.replace('_', "").into() } else { text.into() };
        if text.contains(['.', 'e', 'E']) {
            // Out of range: the builder reports it.
            clean.parse::<f64>().ok().filter(|f| f.is_finite()).map(ExprKind::Float)
        } else {
            // Too large (or `9223372036854775808`, valid only negated): the builder's.
            clean.parse::<i64>().ok().map(ExprKind::Int)
        }
    }

    /// `"""`...`"""` at `start`: the position of its closing quotes.
    fn triple_end(&self, start: usize) -> Option<usize> {
        if !self.b[start..].starts_with(b"\"\"\"") {
            return None;
        }
        self.src[start + 3..].find("\"\"\"").map(|k| start + 3 + k)
    }

    /// The end (after the closing quote) of the `"..."` literal at `start`.
    fn string_end(&self, start: usize) -> Option<usize> {
        if self.at(start) != b'"' {
            return None;
        }
        let b = self.b;
        let mut i = start + 1;
        loop {
            match *b.get(i)? {
                b'"' => return Some(i + 1),
                // `escape = "\\" ~ ANY`: the bytes of a multi-byte character after it are
                // never `"`, `\` or a newline, so stepping over one byte is enough.
                b'\\' if i + 1 < b.len() => i += 2,
                b'\\' | b'\n' => return None,
                _ => i += 1,
            }
        }
    }

    /// The text of the literal whose inner text is `text[from..to]`, with its escapes
    /// decoded (and where they lie, if `jumps`); `None` on a bad escape.
    fn decode(&self, from: usize, to: usize, jumps: bool) -> Option<(String, Vec<(usize, usize)>)> {
        let raw = &self.src[from..to];
        if !raw.contains('\\') {
            return Some((raw.to_string(), Vec::new()));
        }
        let mut ok = true;
        let (s, j) = decode_string(raw, from, |_, _, _| ok = false);
        ok.then(|| (s, if jumps { j } else { Vec::new() }))
    }

    /// A `"..."` literal (the `string` rule: `use`, `agent`, `prompt = "file"`) and its span.
    fn string_lit(&mut self) -> Option<(String, Span)> {
        let start = self.pos;
        let end = self.string_end(start)?;
        let (s, _) = self.decode(start + 1, end - 1, false)?;
        self.bump(end - start);
        Some((s, self.span(start)))
    }
}

/// For tests/parse_fast.rs: parses every declaration of `text` with the fast path and, where
/// it succeeds, with pest, and returns how many the fast path took, or the first
/// disagreement (pest rejects it, reports something, or builds another item). With
/// `whole`, the whole text is also parsed both ways and the modules and diagnostics
/// compared.
#[doc(hidden)]
pub fn compare_fast_path(text: &str, whole: bool) -> Result<usize, String> {
    let file = FileId(0);
    let (chunks, _) = split::split(file, text);
    let mut taken = 0;
    for c in chunks.iter().filter(|c| !c.lexically_broken) {
        let Some(fast) = parse_decl(file, text, c.start, c.end) else { continue };
        taken += 1;
        let src = &text[c.start..c.end];
        match parse_chunk_pest(file, text, c) {
            None => return Err(format!("the fast path accepted what pest rejects:\n{src}")),
            Some((_, diags)) if !diags.is_empty() => {
                return Err(format!(
                    "pest reports {diags:?} on what the fast path accepted:\n{src}"
                ));
            }
            Some((item, _)) if item != fast => {
                return Err(format!("different items for\n{src}\nfast: {fast:?}\npest: {item:?}"));
            }
            Some(_) => {}
        }
    }
    if whole {
        let fast = format!("{:?}", parse_module_with(file, text, true));
        let pest = format!("{:?}", parse_module_with(file, text, false));
        if fast != pest {
            return Err(format!("different modules:\nfast: {fast}\npest: {pest}"));
        }
    }
    Ok(taken)
}
