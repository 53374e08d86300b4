//! Expressions: inference with an optional expected type (which gives lambdas, `[]` and
//! `null` their types), implicit conversions, operators and null narrowing.

use super::Checker;
use super::hir::*;
use super::locals::{Binding, LocalKind, Path, Root};
use super::types::{Ty, assignable, join};
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Ident, RecordEntry, UnOp};
use std::rc::Rc;

impl Checker<'_> {
    /// Checks `e` and converts it to `expected`, reporting a mismatch.
    pub(crate) fn check_expr_as(&mut self, e: &Expr, expected: &Ty) -> TExpr {
        let t = self.infer(e, Some(expected));
        self.coerce(t, expected)
    }

    /// A condition (of `if`, in code or in a template): a `bool`, else E0210 with a help
    /// showing how to test for null (`null_test`) or compare (`compare`) in that syntax.
    pub(crate) fn condition(&mut self, cond: &Expr, null_test: &str, compare: &str) -> TExpr {
        let c = self.infer(cond, Some(&Ty::Bool));
        if !c.ty.has_error() && c.ty != Ty::Bool {
            let help = if c.ty.is_optional() {
                format!("to test for null write {null_test}")
            } else {
                format!("compare it explicitly, e.g. {compare}")
            };
            self.report(
                Diagnostic::new(
                    codes::E0210,
                    c.span,
                    format!("the condition must be `bool`, found `{}`", c.ty),
                )
                .label("not a boolean")
                .help(help),
            );
        }
        c
    }

    /// Converts `t` to type `to`, inserting widenings and optional wraps; reports E0200
    /// (or E0204 for an optional where a value is required) when it cannot.
    pub(crate) fn coerce(&mut self, t: TExpr, to: &Ty) -> TExpr {
        if t.ty.has_error() || to.has_error() || t.ty == *to {
            return t;
        }
        if !assignable(&t.ty, to) {
            self.mismatch(t.span, to, &t.ty);
            return TExpr { ty: Ty::Error, ..t };
        }
        self.convert(t, to)
    }

    pub(crate) fn mismatch(&mut self, span: Span, expected: &Ty, found: &Ty) {
        if found.is_optional() && assignable(found.strip_optional(), expected) {
            self.report(
                Diagnostic::new(
                    codes::E0204,
                    span,
                    format!("expected `{expected}`, found optional `{found}`"),
                )
                .label("this value may be null")
                .help(
                    "give a default with `??` (`x ?? 0`) or test it first: `if x != null { ... }`",
                ),
            );
            return;
        }
        let mut d =
            Diagnostic::new(codes::E0200, span, format!("expected `{expected}`, found `{found}`"))
                .label(format!("this is `{found}`"));
        match (expected, found) {
            (Ty::Int, Ty::Float) => {
                d = d.help("convert explicitly: `int(x)` truncates toward zero")
            }
            (Ty::Str, Ty::Int | Ty::Float | Ty::Bool) => {
                d = d.help("convert explicitly with `str(x)`")
            }
            (Ty::Int, Ty::Str) => d = d.help("parse it with `parse_int(s)`"),
            (Ty::Float, Ty::Str) => d = d.help("parse it with `parse_float(s)`"),
            (Ty::Vec(n), Ty::List(_)) => {
                d = d.help(format!("convert the list with `vec[{n}](xs)`"))
            }
            (Ty::Vec(a), Ty::Vec(b)) if a != b => {
                self.report(
                    Diagnostic::new(
                        codes::E0207,
                        span,
                        format!("expected `vec[{a}]`, found `vec[{b}]`"),
                    )
                    .label(format!("this vector has {b} elements, not {a}")),
                );
                return;
            }
            _ => {}
        }
        self.report(d);
    }

    /// Builds the conversion of an assignable value.
    fn convert(&mut self, t: TExpr, to: &Ty) -> TExpr {
        let span = t.span;
        match (&t.ty, to) {
            (a, b) if a == b => t,
            (Ty::Never | Ty::Null, _) => TExpr { ty: to.clone(), ..t },
            (Ty::List(a), Ty::List(_)) if **a == Ty::Never => TExpr { ty: to.clone(), ..t },
            (Ty::Int, Ty::Float) => TExpr::new(TExprKind::Widen(Box::new(t)), Ty::Float, span),
            (Ty::Optional(a), Ty::Optional(b)) | (Ty::List(a), Ty::List(b)) => {
                let (a, b) = ((**a).clone(), (**b).clone());
                let binder = self.locals.fresh();
                let body = self.convert(TExpr::new(TExprKind::Local(binder), a, span), &b);
                TExpr::new(
                    TExprKind::ConvertEach { value: Box::new(t), binder, body: Box::new(body) },
                    to.clone(),
                    span,
                )
            }
            (Ty::Stream(a), Ty::Stream(b)) if crate::builtins::lookup("map").is_some() => {
                // `union(ints, floats)`: the elements are converted one by one, as by
                // `map(x => <x converted>)`.
                let (a, b) = ((**a).clone(), (**b).clone());
                let binder = self.locals.fresh();
                let body = self.convert(TExpr::new(TExprKind::Local(binder), a.clone(), span), &b);
                let f = TExpr::new(
                    TExprKind::Lambda(binder, Box::new(body)),
                    Ty::Fn(Rc::from(vec![a]), Rc::new(b)),
                    span,
                );
                TExpr::new(
                    TExprKind::Call {
                        callee: Callee::Builtin(crate::builtins::lookup("map").unwrap_or_else(
                            || unreachable!("`map` is a builtin (checked by the guard)"),
                        )),
                        args: vec![t, f],
                        named: Vec::new(),
                    },
                    to.clone(),
                    span,
                )
            }
            (_, Ty::Optional(b)) => {
                let inner = self.convert(t, b);
                TExpr::new(TExprKind::WrapOptional(Box::new(inner)), to.clone(), span)
            }
            (Ty::Record(src), Ty::Record(dst)) => {
                let (src, dst) = (src.clone(), dst.clone());
                let binder = self.locals.fresh();
                let fields = dst
                    .iter()
                    .map(|f| {
                        let (i, sf) = src
                            .iter()
                            .enumerate()
                            .find(|(_, s)| s.name == f.name)
                            .expect("assignable");
                        let local = TExpr::new(TExprKind::Local(binder), t.ty.clone(), span);
                        let get =
                            TExpr::new(TExprKind::Field(Box::new(local), i), sf.ty.clone(), span);
                        self.convert(get, &f.ty)
                    })
                    .collect();
                let rec = TExpr::new(TExprKind::Record(fields), to.clone(), span);
                TExpr::new(TExprKind::Let(binder, Box::new(t), Box::new(rec)), to.clone(), span)
            }
            _ => TExpr { ty: to.clone(), ..t },
        }
    }

    /// Infers the type of `e`. `expected` is a hint only; callers coerce.
    pub(crate) fn infer(&mut self, e: &Expr, expected: Option<&Ty>) -> TExpr {
        let span = e.span;
        let lit = |kind, ty| TExpr::new(kind, ty, span);
        match &e.kind {
            ExprKind::Int(n) => lit(TExprKind::Int(*n), Ty::Int),
            ExprKind::Float(f) => lit(TExprKind::Float(*f), Ty::Float),
            ExprKind::Str(s) => lit(TExprKind::Str(s.as_str().into()), Ty::Str),
            ExprKind::Bool(b) => lit(TExprKind::Bool(*b), Ty::Bool),
            ExprKind::Null => lit(TExprKind::Null, Ty::Null),
            ExprKind::Error => TExpr::error(span),
            ExprKind::List(items) => self.list(items, expected, span),
            ExprKind::Record(entries) => self.record(entries, span),
            ExprKind::Name(id) => self.name(id, expected),
            ExprKind::VecCtor(_) => {
                self.report(
                    Diagnostic::new(
                        codes::E0203,
                        span,
                        "`vec[N]` is a conversion and must be called",
                    )
                    .label("call it with a list")
                    .help("write `vec[N](xs)` to turn a list of N numbers into a vector"),
                );
                TExpr::error(span)
            }
            ExprKind::Unary(op, x) => self.unary(*op, x, span),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span),
            ExprKind::Pipe(lhs, rhs) => match &rhs.kind {
                ExprKind::Call { callee, args } => {
                    let mut positional: Vec<&Expr> = vec![lhs];
                    let mut named = Vec::new();
                    for a in args {
                        match &a.name {
                            Some(n) => named.push((n, &a.value)),
                            None => positional.push(&a.value),
                        }
                    }
                    self.call(callee, positional, named, span, expected)
                }
                _ => self.call(rhs, vec![lhs], Vec::new(), span, expected),
            },
            ExprKind::Call { callee, args } => {
                let mut positional = Vec::new();
                let mut named = Vec::new();
                for a in args {
                    match &a.name {
                        Some(n) => named.push((n, &a.value)),
                        None => positional.push(&a.value),
                    }
                }
                self.call(callee, positional, named, span, expected)
            }
            ExprKind::Field(obj, name) => {
                let o = self.infer(obj, None);
                let help = match &o.ty {
                    Ty::Record(_) | Ty::Error | Ty::Optional(_) => None,
                    _ => self.property_help(&name.name, Some(obj)),
                };
                let n = self.diags.len();
                let t = self.field(o, name, span);
                if let Some(h) = help
                    && self.diags.len() == n + 1
                    && let Some(d) = self.diags.pop()
                {
                    self.diags.push(d.help(h));
                }
                t
            }
            ExprKind::Index(obj, idx) => self.index(obj, idx, span),
            ExprKind::If { cond, then, otherwise } => {
                self.if_expr(cond, then, otherwise, expected, span)
            }
            ExprKind::Block { lets, result } => self.block(lets, result, expected, span),
            ExprKind::Lambda { param, body } => match expected {
                Some(Ty::Fn(ps, ret)) if ps.len() == 1 => {
                    let (p, r) = (ps[0].clone(), (**ret).clone());
                    self.lambda(param, body, &p, Some(&r), span)
                }
                _ => {
                    self.report(
                        Diagnostic::new(codes::E0205, span, "cannot infer the type of this lambda's parameter")
                            .label(format!("`{}` has no known type here", param.name))
                            .help("pass the lambda to an operator such as `map` or `filter`, or bind it with `let` and call it"),
                    );
                    TExpr::error(span)
                }
            },
        }
    }

    /// Checks `param => body` with the parameter of type `param_ty`.
    pub(crate) fn lambda(
        &mut self,
        param: &Ident,
        body: &Expr,
        param_ty: &Ty,
        ret: Option<&Ty>,
        span: Span,
    ) -> TExpr {
        // A lambda runs once per element: sources and stages are not values there.
        let saved_stream = std::mem::replace(&mut self.stream_context, false);
        let t = self.lambda_inner(param, body, param_ty, ret, span);
        self.stream_context = saved_stream;
        t
    }

    fn lambda_inner(
        &mut self,
        param: &Ident,
        body: &Expr,
        param_ty: &Ty,
        ret: Option<&Ty>,
        span: Span,
    ) -> TExpr {
        self.locals.push_frame();
        let id = self.locals.fresh();
        self.locals.bind(Binding {
            name: param.name.clone(),
            id,
            ty: param_ty.clone(),
            span: param.span,
            kind: LocalKind::LambdaParam,
            used: false,
            lambda: None,
            seq: 0,
        });
        let b = match ret {
            Some(r) if !matches!(r, Ty::Error) => self.check_expr_as(body, r),
            _ => self.infer(body, None),
        };
        self.locals.pop_frame();
        let ty = Ty::Fn(vec![param_ty.clone()].into(), Rc::new(b.ty.clone()));
        TExpr::new(TExprKind::Lambda(id, Box::new(b)), ty, span)
    }

    fn list(&mut self, items: &[Expr], expected: Option<&Ty>, span: Span) -> TExpr {
        let hint = expected.and_then(|t| t.element()).cloned();
        let typed: Vec<TExpr> = items.iter().map(|i| self.infer(i, hint.as_ref())).collect();
        let mut elem = hint
            .clone()
            .filter(|h| typed.iter().all(|t| assignable(&t.ty, h)))
            .unwrap_or(Ty::Never);
        if elem == Ty::Never {
            for t in &typed {
                match join(&elem, &t.ty) {
                    Some(j) => elem = j,
                    None => {
                        self.report(
                            Diagnostic::new(codes::E0200, t.span, format!("list elements must have one type: expected `{elem}`, found `{}`", t.ty))
                                .label(format!("this is `{}`", t.ty))
                                .help("a list holds values of a single type; a record can hold several"),
                        );
                        return TExpr::error(span);
                    }
                }
            }
        }
        let items = typed.into_iter().map(|t| self.coerce(t, &elem)).collect();
        TExpr::new(TExprKind::List(items), Ty::list(elem), span)
    }

    fn record(&mut self, entries: &[RecordEntry], span: Span) -> TExpr {
        // Each field's value; spreads are bound to a local and read field by field.
        let mut fields: Vec<(Rc<str>, TExpr, Option<Span>)> = Vec::new();
        let mut lets: Vec<(LocalId, TExpr)> = Vec::new();
        let mut error = false;
        for entry in entries {
            match entry {
                RecordEntry::Field(name, value) => {
                    let v = self.infer(value, None);
                    error |= v.ty.is_error();
                    if let Some(prev) = fields.iter_mut().find(|f| *f.0 == *name.name) {
                        if let Some(first) = prev.2 {
                            self.report(
                                Diagnostic::new(codes::E0108, name.span, format!("field `{}` appears twice", name.name))
                                    .label("repeated here")
                                    .secondary(first, "first given here")
                                    .help("remove one of them; to override a spread field, put it after `..`"),
                            );
                        }
                        prev.1 = v;
                        prev.2 = Some(name.span);
                    } else {
                        fields.push((name.name.as_str().into(), v, Some(name.span)));
                    }
                }
                RecordEntry::Spread(value) => {
                    let v = self.infer(value, None);
                    let Ty::Record(fs) = v.ty.clone() else {
                        if !v.ty.is_error() {
                            if v.ty.is_optional() {
                                self.operand_error(
                                    value.span,
                                    &v.ty,
                                    &format!("cannot spread `{}`: it may be null", v.ty),
                                );
                            } else {
                                self.report(
                                    Diagnostic::new(
                                        codes::E0209,
                                        value.span,
                                        format!("only a record can be spread, found `{}`", v.ty),
                                    )
                                    .label("not a record"),
                                );
                            }
                        }
                        error = true;
                        continue;
                    };
                    let binder = self.locals.fresh();
                    let vspan = v.span;
                    let vty = v.ty.clone();
                    lets.push((binder, v));
                    for (i, f) in fs.iter().enumerate() {
                        let local = TExpr::new(TExprKind::Local(binder), vty.clone(), vspan);
                        let get =
                            TExpr::new(TExprKind::Field(Box::new(local), i), f.ty.clone(), vspan);
                        match fields.iter_mut().find(|x| x.0 == f.name) {
                            Some(prev) => {
                                prev.1 = get;
                                prev.2 = None;
                            }
                            None => fields.push((f.name.clone(), get, None)),
                        }
                    }
                }
            }
        }
        if error {
            return TExpr::error(span);
        }
        let ty = Ty::record(fields.iter().map(|f| (f.0.clone(), f.1.ty.clone())).collect());
        let mut out = TExpr::new(
            TExprKind::Record(fields.into_iter().map(|f| f.1).collect()),
            ty.clone(),
            span,
        );
        for (binder, v) in lets.into_iter().rev() {
            out = TExpr::new(TExprKind::Let(binder, Box::new(v), Box::new(out)), ty.clone(), span);
        }
        out
    }

    fn name(&mut self, id: &Ident, expected: Option<&Ty>) -> TExpr {
        let span = id.span;
        if let Some(b) = self.locals.lookup(&id.name).cloned() {
            if let Some(lambda) = &b.lambda {
                return match (&lambda.kind, expected) {
                    (ExprKind::Lambda { param, body }, Some(Ty::Fn(ps, ret))) if ps.len() == 1 => {
                        let (p, r) = (ps[0].clone(), (**ret).clone());
                        self.locals.enter_inline(b.seq);
                        let t = self.lambda(param, body, &p, Some(&r), span);
                        self.locals.exit_inline();
                        t
                    }
                    _ => {
                        self.report(
                            Diagnostic::new(
                                codes::E0205,
                                span,
                                format!("cannot infer the type of `{}`'s parameter", id.name),
                            )
                            .label("a lambda used as a value")
                            .secondary(b.span, "defined here")
                            .help(format!(
                                "call it (`{}(x)`) or pass it to an operator such as `map`",
                                id.name
                            )),
                        );
                        TExpr::error(span)
                    }
                };
            }
            let t = TExpr::new(TExprKind::Local(b.id), b.ty.clone(), span);
            return self.narrowed(t);
        }
        if let Some(g) = self.lookup_global(&id.name) {
            return self.global_value(g, id, expected);
        }
        if id.name == "errors" {
            return self.errors_stream(span);
        }
        if let Some(b) = crate::builtins::lookup(&id.name) {
            if let Some(Ty::Fn(ps, ret)) = expected
                && ps.len() == 1
            {
                let (p, ret) = (ps[0].clone(), (**ret).clone());
                let e = Expr { kind: ExprKind::Name(id.clone()), span };
                return self.func_arg(&e, &p, Some(&ret));
            }
            self.report(
                Diagnostic::new(
                    codes::E0205,
                    span,
                    format!("`{}` is a built-in function and must be called", id.name),
                )
                .label("used as a value")
                .help(format!("call it: `{}`", b.signature)),
            );
            return TExpr::error(span);
        }
        if self.is_broken(&id.name) || self.loop_outside_loop(id) {
            return TExpr::error(span);
        }
        let mut cands = self.locals_and_globals();
        cands.extend(crate::builtins::names().map(String::from));
        let mut d = Diagnostic::new(codes::E0100, span, format!("unknown name `{}`", id.name))
            .label("not defined");
        let literal = match id.name.as_str() {
            "True" | "TRUE" => Some("true"),
            "False" | "FALSE" => Some("false"),
            "None" | "NULL" | "Null" | "nil" | "undefined" => Some("null"),
            _ => None,
        };
        if let Some(lit) = literal {
            d = d.help(format!("Kiln writes `{lit}` (in lowercase)"));
        } else if let Some(s) = super::suggest::closest(&id.name, cands.iter().map(String::as_str))
        {
            d = d.help(format!("did you mean `{s}`?"));
        } else if self.prompt_alone {
            d = d.help(super::template::ALONE);
        }
        self.report(d);
        TExpr::error(span)
    }

    fn global_value(&mut self, g: usize, id: &Ident, expected: Option<&Ty>) -> TExpr {
        let span = id.span;
        let slot = self.globals[g].slot;
        let kw = self.globals[g].item.kind.keyword();
        let Some(slot) = slot else {
            self.report(
                Diagnostic::new(
                    codes::E0100,
                    span,
                    format!("`{}` is a type, not a value", id.name),
                )
                .label("used as a value")
                .secondary(self.globals[g].name.span, "the type is defined here"),
            );
            return TExpr::error(span);
        };
        if self.const_context
            && matches!(slot, Global::Param(_) | Global::Source(_) | Global::Stage(_))
        {
            self.report(
                Diagnostic::new(codes::E0213, span, format!("`{}` is a {kw}, not a compile-time constant", id.name))
                    .label("only known when the pipeline runs")
                    .secondary(self.globals[g].name.span, format!("`{}` is defined here", id.name))
                    .help("constants, vector sizes and param defaults may only use literals, other constants and pure functions"),
            );
            return TExpr::error(span);
        }
        let ty = self.global_type(g, span);
        if matches!(slot, Global::Fn(_) | Global::Agent(_) | Global::Prompt(_))
            && !matches!(expected, Some(Ty::Fn(..)))
        {
            if !ty.has_error() {
                self.report(
                    Diagnostic::new(codes::E0205, span, format!("the {kw} `{}` is a function and must be called here", id.name))
                        .label("used as a value")
                        .help(format!("call it: `{}(...)`; functions can be passed only to operators such as `map`", id.name)),
                );
            }
            return TExpr::error(span);
        }
        if matches!(slot, Global::Source(_) | Global::Stage(_)) {
            let owner = self.stack.last().copied().filter(|&o| o != usize::MAX);
            self.stream_refs.push((owner, g));
        }
        if matches!(slot, Global::Source(_) | Global::Stage(_)) && !self.stream_context {
            self.report(
                Diagnostic::new(codes::E0219, span, format!("the {kw} `{}` is a stream and cannot be used as a value here", id.name))
                    .label("a stream")
                    .help("streams are used in `stage` and `sink` declarations; to combine two streams element by element use `join` or `left_join`"),
            );
            return TExpr::error(span);
        }
        self.narrowed(TExpr::new(TExprKind::Global(slot), ty, span))
    }

    fn errors_stream(&mut self, span: Span) -> TExpr {
        if !self.stream_context {
            self.report(
                Diagnostic::new(
                    codes::E0219,
                    span,
                    "`errors` is a stream and cannot be used as a value here",
                )
                .label("the stream of records that failed"),
            );
            return TExpr::error(span);
        }
        TExpr::new(TExprKind::Global(Global::Errors), Ty::stream(errors_record()), span)
    }

    pub(crate) fn locals_and_globals(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.scopes[self.current_module].keys().map(|k| k.to_string()).collect();
        // In a template, the prompt's parameters and loop variables too.
        if self.template_loops.is_some() {
            names.extend(self.locals.visible_names());
        }
        names
    }

    /// Wraps a value whose path was proven non-null in `Unwrap`.
    fn narrowed(&mut self, t: TExpr) -> TExpr {
        if let Ty::Optional(inner) = &t.ty
            && let Some(p) = path_of(&t)
            && self.locals.is_narrowed(&p)
        {
            let inner = (**inner).clone();
            let span = t.span;
            return TExpr::new(TExprKind::Unwrap(Box::new(t)), inner, span);
        }
        t
    }

    pub(crate) fn field(&mut self, o: TExpr, name: &Ident, span: Span) -> TExpr {
        match &o.ty {
            Ty::Error => TExpr::error(span),
            Ty::Record(fs) => match fs.iter().position(|f| *f.name == *name.name) {
                Some(i) => {
                    let ty = fs[i].ty.clone();
                    self.narrowed(TExpr::new(TExprKind::Field(Box::new(o), i), ty, span))
                }
                None => {
                    let names: Vec<&str> = fs.iter().map(|f| &*f.name).collect();
                    let mut d = Diagnostic::new(
                        codes::E0103,
                        name.span,
                        format!("no field `{}` on `{}`", name.name, o.ty),
                    )
                    .label("unknown field");
                    d = match super::suggest::closest(&name.name, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("the fields are: {}", names.join(", "))),
                    };
                    self.report(d);
                    TExpr::error(span)
                }
            },
            Ty::Optional(inner) if matches!(**inner, Ty::Record(_)) => {
                self.report(
                    Diagnostic::new(codes::E0204, o.span, format!("cannot read `.{}` of a record that may be null", name.name))
                        .label(format!("this is `{}`", o.ty))
                        .help("test it first (`if x != null { x.field } else { ... }`) or give a default with `??`"),
                );
                TExpr::error(span)
            }
            other => {
                self.report(
                    Diagnostic::new(codes::E0209, name.span, format!("`{other}` has no fields"))
                        .label(format!("`.{}` on a value that is not a record", name.name))
                        .secondary(o.span, format!("this is `{other}`")),
                );
                TExpr::error(span)
            }
        }
    }

    fn index(&mut self, obj: &Expr, idx: &Expr, span: Span) -> TExpr {
        let o = self.infer(obj, None);
        let indexable = matches!(o.ty, Ty::List(_) | Ty::Vec(_));
        let i = if indexable { self.check_expr_as(idx, &Ty::Int) } else { self.infer(idx, None) };
        let ty = match &o.ty {
            Ty::Error => return TExpr::error(span),
            Ty::List(t) => (**t).clone(),
            Ty::Vec(_) => Ty::Float,
            other => {
                if other.is_optional() && matches!(other.strip_optional(), Ty::List(_) | Ty::Vec(_))
                {
                    let other = other.clone();
                    self.operand_error(
                        o.span,
                        &other,
                        &format!("cannot index `{other}`: it may be null"),
                    );
                    return TExpr::error(span);
                }
                let d =
                    Diagnostic::new(codes::E0208, o.span, format!("`{other}` cannot be indexed"))
                        .label(format!("this is `{other}`"));
                let d = match other {
                    Ty::Str => d.help("take characters with `substr(s, i, 1)`"),
                    Ty::Record(_) => d.help("read a record's field with `.`: `r.text`"),
                    _ => d.help("lists `[T]` and vectors `vec[N]` can be indexed"),
                };
                self.report(d);
                return TExpr::error(span);
            }
        };
        TExpr::new(TExprKind::Index(Box::new(o), Box::new(i)), ty, span)
    }

    fn if_expr(
        &mut self,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        expected: Option<&Ty>,
        span: Span,
    ) -> TExpr {
        let c = self.condition(cond, "`x != null`", "`x > 0`");
        let (when_true, when_false) = non_null_paths(&c);
        let n = self.locals.narrow(when_true);
        let t = self.infer(then, expected);
        self.locals.unnarrow(n);
        let n = self.locals.narrow(when_false);
        let f = self.infer(otherwise, expected);
        self.locals.unnarrow(n);
        let ty = match join(&t.ty, &f.ty) {
            Some(j) => j,
            None => {
                self.report(
                    Diagnostic::new(
                        codes::E0211,
                        f.span,
                        format!("`if` branches have different types: `{}` and `{}`", t.ty, f.ty),
                    )
                    .label(format!("this is `{}`", f.ty))
                    .secondary(t.span, format!("this is `{}`", t.ty)),
                );
                Ty::Error
            }
        };
        let (t, f) =
            if ty.is_error() { (t, f) } else { (self.coerce(t, &ty), self.coerce(f, &ty)) };
        TExpr::new(TExprKind::If(Box::new(c), Box::new(t), Box::new(f)), ty, span)
    }

    fn block(
        &mut self,
        lets: &[crate::syntax::ast::Let],
        result: &Expr,
        expected: Option<&Ty>,
        span: Span,
    ) -> TExpr {
        self.locals.push_frame();
        let mut bound: Vec<(LocalId, TExpr)> = Vec::new();
        for l in lets {
            self.lint_shadow(&l.name);
            let id = self.locals.fresh();
            if let ExprKind::Lambda { .. } = l.value.kind {
                self.locals.bind(Binding {
                    name: l.name.name.clone(),
                    id,
                    ty: Ty::Error,
                    span: l.name.span,
                    kind: LocalKind::Let,
                    used: false,
                    lambda: Some(Rc::new(l.value.clone())),
                    seq: 0,
                });
                continue;
            }
            let v = self.infer(&l.value, None);
            self.locals.bind(Binding {
                name: l.name.name.clone(),
                id,
                ty: v.ty.clone(),
                span: l.name.span,
                kind: LocalKind::Let,
                used: false,
                lambda: None,
                seq: 0,
            });
            bound.push((id, v));
        }
        let mut out = self.infer(result, expected);
        let frame = self.locals.pop_frame();
        self.lint_unused_locals(frame);
        let ty = out.ty.clone();
        for (id, v) in bound.into_iter().rev() {
            out = TExpr::new(TExprKind::Let(id, Box::new(v), Box::new(out)), ty.clone(), span);
        }
        out.span = span;
        out
    }

    fn unary(&mut self, op: UnOp, x: &Expr, span: Span) -> TExpr {
        let v = self.infer(x, None);
        let ok = match op {
            UnOp::Neg => v.ty.is_numeric() || matches!(v.ty, Ty::Vec(_)),
            UnOp::Not => v.ty == Ty::Bool,
        };
        if !ok && !v.ty.has_error() {
            let (sym, want) = match op {
                UnOp::Neg => ("-", "a number or a vector"),
                UnOp::Not => ("not", "a `bool`"),
            };
            self.operand_error(v.span, &v.ty, &format!("`{sym}` needs {want}, found `{}`", v.ty));
            return TExpr::error(span);
        }
        let ty = v.ty.clone();
        TExpr::new(TExprKind::Unary(op, Box::new(v)), ty, span)
    }

    /// The `not x` of `not x > y` (parsed as `(not x) > y`): when `x` is no `bool`, the
    /// help says how precedence grouped it.
    fn not_before_comparison(&mut self, x: &Expr, span: Span, op: BinOp) -> TExpr {
        let v = self.infer(x, None);
        if v.ty == Ty::Bool {
            return TExpr::new(TExprKind::Unary(UnOp::Not, Box::new(v)), Ty::Bool, span);
        }
        if !v.ty.has_error() {
            let o = op.as_str();
            self.report(
                Diagnostic::new(codes::E0206, v.span, format!("`not` needs a `bool`, found `{}`", v.ty))
                    .label(format!("this is `{}`", v.ty))
                    .help(format!("`not` binds tighter than `{o}`: `not a {o} b` means `(not a) {o} b`; write `not (a {o} b)`")),
            );
        }
        TExpr::error(span)
    }

    pub(crate) fn operand_error(&mut self, span: Span, ty: &Ty, message: &str) {
        let d = if ty.is_optional() {
            Diagnostic::new(codes::E0204, span, message.to_string())
                .label("this value may be null")
                .help(
                    "give a default with `??` (`x ?? 0`) or test it first: `if x != null { ... }`",
                )
        } else {
            Diagnostic::new(codes::E0206, span, message.to_string())
                .label(format!("this is `{ty}`"))
        };
        self.report(d);
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> TExpr {
        let l = match &a.kind {
            // `not a > b` is `(not a) > b`: `not` binds tighter than comparisons.
            ExprKind::Unary(UnOp::Not, x) if op.is_comparison() && a.span.end == x.span.end => {
                self.not_before_comparison(x, a.span, op)
            }
            _ => self.infer(a, None),
        };
        // `x != null and f(x)`: the right side sees what the left side proved.
        let proven = match op {
            BinOp::And => non_null_paths(&l).0,
            BinOp::Or => non_null_paths(&l).1,
            _ => Vec::new(),
        };
        let n = self.locals.narrow(proven);
        let r = match op {
            BinOp::Coalesce => self.infer(b, Some(l.ty.strip_optional())),
            _ => self.infer(b, Some(&l.ty)),
        };
        self.locals.unnarrow(n);
        if l.ty.has_error() || r.ty.has_error() {
            return TExpr::error(span);
        }
        super::ops::binary(self, op, l, r, span)
    }
}

/// The record type of the `errors` stream (LANGUAGE.md §1.6).
pub fn errors_record() -> Ty {
    Ty::record(vec![
        ("source", Ty::Str),
        ("line", Ty::Int),
        ("stage", Ty::Str),
        ("message", Ty::Str),
        ("raw", Ty::Str),
    ])
}

/// The local path an expression reads, if it is one (`x`, `x.a.b`).
pub(super) fn path_of(t: &TExpr) -> Option<Path> {
    match &t.kind {
        TExprKind::Local(id) => Some((Root::Local(*id), Vec::new())),
        TExprKind::Global(g @ (Global::Param(_) | Global::Const(_))) => {
            Some((Root::Global(*g), Vec::new()))
        }
        TExprKind::Field(inner, i) => {
            let (root, mut fields) = path_of(inner)?;
            fields.push(*i);
            Some((root, fields))
        }
        TExprKind::Unwrap(inner) => path_of(inner),
        _ => None,
    }
}

/// Paths proven non-null when `cond` is true, and when it is false.
pub(super) fn non_null_paths(cond: &TExpr) -> (Vec<Path>, Vec<Path>) {
    match &cond.kind {
        TExprKind::Binary(op @ (BinOp::Ne | BinOp::Eq), a, b) => {
            let p = match (&a.kind, &b.kind) {
                (_, TExprKind::Null) => path_of(a),
                (TExprKind::Null, _) => path_of(b),
                _ => None,
            };
            let p: Vec<Path> = p.into_iter().collect();
            if *op == BinOp::Ne { (p, Vec::new()) } else { (Vec::new(), p) }
        }
        TExprKind::Binary(BinOp::And, a, b) => {
            let (mut t, _) = non_null_paths(a);
            t.extend(non_null_paths(b).0);
            (t, Vec::new())
        }
        TExprKind::Binary(BinOp::Or, a, b) => {
            let (_, mut f) = non_null_paths(a);
            f.extend(non_null_paths(b).1);
            (Vec::new(), f)
        }
        TExprKind::Unary(UnOp::Not, x) => {
            let (t, f) = non_null_paths(x);
            (f, t)
        }
        _ => (Vec::new(), Vec::new()),
    }
}
