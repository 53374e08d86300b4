//! Calls: user functions (positional and named arguments), agents, prompts, let-bound
//! lambdas (inlined), `vec[N](xs)`, and builtins (each types its own call).

use super::Checker;
use super::hir::*;
use super::locals::{Binding, LocalKind};
use super::types::Ty;
use crate::builtins::{self, CallSite};
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Ident};
use std::rc::Rc;

impl Checker<'_> {
    pub(super) fn call(
        &mut self,
        callee: &Expr,
        args: Vec<&Expr>,
        named: Vec<(&Ident, &Expr)>,
        span: Span,
        expected: Option<&Ty>,
    ) -> TExpr {
        match &callee.kind {
            ExprKind::Name(id) => self.call_name(id, args, named, span, expected),
            ExprKind::VecCtor(size) => {
                let n = self.const_size(size);
                if !self.arity(callee.span, "vec[N]", &args, &named, 1, 1) {
                    return TExpr::error(span);
                }
                let a = self.infer(args[0], Some(&Ty::list(Ty::Float)));
                let a = match &a.ty {
                    Ty::Vec(m) if Some(*m) == n => return a,
                    Ty::List(e) if e.is_numeric() || **e == Ty::Never => {
                        self.coerce(a, &Ty::list(Ty::Float))
                    }
                    Ty::Error => a,
                    other => {
                        self.report(
                            Diagnostic::new(
                                codes::E0200,
                                a.span,
                                format!("`vec[N](xs)` needs a list of numbers, found `{other}`"),
                            )
                            .label(format!("this is `{other}`")),
                        );
                        return TExpr::error(span);
                    }
                };
                match n {
                    Some(n) => TExpr::new(
                        TExprKind::Call {
                            callee: Callee::VecFromList(n),
                            args: vec![a],
                            named: Vec::new(),
                        },
                        Ty::Vec(n),
                        span,
                    ),
                    None => TExpr::error(span),
                }
            }
            ExprKind::Lambda { param, body } => {
                if !self.arity(callee.span, "this lambda", &args, &named, 1, 1) {
                    return TExpr::error(span);
                }
                let a = self.infer(args[0], None);
                self.inline_lambda(param, body, a, span)
            }
            ExprKind::Field(obj, method) => {
                self.method_call(obj, method, args, named, span, expected)
            }
            _ => {
                let c = self.infer(callee, None);
                if !c.ty.has_error() {
                    self.report(
                        Diagnostic::new(
                            codes::E0203,
                            callee.span,
                            format!("`{}` is not a function", c.ty),
                        )
                        .label("called here"),
                    );
                }
                TExpr::error(span)
            }
        }
    }

    /// Binds the argument to the lambda's parameter and checks the body: `let p = a; body`.
    fn inline_lambda(&mut self, param: &Ident, body: &Expr, arg: TExpr, span: Span) -> TExpr {
        let saved_stream = std::mem::replace(&mut self.stream_context, false);
        self.locals.push_frame();
        let id = self.locals.fresh();
        self.locals.bind(Binding {
            name: param.name.clone(),
            id,
            ty: arg.ty.clone(),
            span: param.span,
            kind: LocalKind::LambdaParam,
            used: false,
            lambda: None,
            seq: 0,
        });
        let b = self.infer(body, None);
        self.locals.pop_frame();
        self.stream_context = saved_stream;
        let ty = b.ty.clone();
        TExpr::new(TExprKind::Let(id, Box::new(arg), Box::new(b)), ty, span)
    }

    fn call_name(
        &mut self,
        id: &Ident,
        args: Vec<&Expr>,
        named: Vec<(&Ident, &Expr)>,
        span: Span,
        expected: Option<&Ty>,
    ) -> TExpr {
        if let Some(b) = self.locals.lookup(&id.name).cloned() {
            if let Some(lambda) = b.lambda {
                let ExprKind::Lambda { param, body } = &lambda.kind else {
                    return TExpr::error(span);
                };
                if !self.arity(id.span, &id.name, &args, &named, 1, 1) {
                    return TExpr::error(span);
                }
                let a = self.infer(args[0], None);
                self.locals.enter_inline(b.seq);
                let t = self.inline_lambda(param, body, a, span);
                self.locals.exit_inline();
                return t;
            }
            if !b.ty.has_error() {
                self.report(
                    Diagnostic::new(
                        codes::E0203,
                        id.span,
                        format!("`{}` is {}, not a function", id.name, a_type(&b.ty)),
                    )
                    .label("called here")
                    .secondary(b.span, "defined here"),
                );
            }
            return TExpr::error(span);
        }
        if let Some(g) = self.lookup_global(&id.name) {
            return self.call_global(g, id, args, named, span);
        }
        if let Some(b) = builtins::lookup(&id.name) {
            let site =
                CallSite { span, name_span: id.span, args, named, expected: expected.cloned() };
            let typed = (b.check)(self, &site);
            if typed.ty.is_error() {
                // Lambdas of a failed call still get checked, so later mistakes show and
                // the names they use count as used. Identical diagnostics are merged.
                let lambdas: Vec<&Expr> = site
                    .args
                    .iter()
                    .copied()
                    .filter(|a| matches!(a.kind, ExprKind::Lambda { .. }))
                    .collect();
                self.check_args_leniently(&lambdas);
                for (_, v) in &site.named {
                    if let ExprKind::Call { args, .. } = &v.kind {
                        let ls: Vec<&Expr> = args
                            .iter()
                            .map(|a| &a.value)
                            .filter(|a| matches!(a.kind, ExprKind::Lambda { .. }))
                            .collect();
                        self.check_args_leniently(&ls);
                    }
                }
                return TExpr::error(span);
            }
            return TExpr::new(
                TExprKind::Call {
                    callee: Callee::Builtin(b),
                    args: typed.args,
                    named: typed.named,
                },
                typed.ty,
                span,
            );
        }
        if let Some(agg) = crate::builtins::aggregates::lookup(&id.name) {
            self.report(
                Diagnostic::new(
                    codes::E0216,
                    id.span,
                    format!(
                        "`{}` is an aggregate and only works inside `group_by` or `aggregate`",
                        id.name
                    ),
                )
                .label("not inside `group_by` or `aggregate`")
                .help(format!(
                    "write it as a named argument: `xs |> aggregate(total: {})`",
                    agg.signature.split(" ->").next().unwrap_or(agg.name)
                )),
            );
            self.check_args_leniently(&args);
            return TExpr::error(span);
        }
        if let Some(def) = self.locals.is_hidden(&id.name) {
            self.report(
                Diagnostic::new(codes::E0109, id.span, format!("`{}` cannot call itself", id.name))
                    .label("a lambda bound with `let` is not recursive")
                    .secondary(def, "defined here")
                    .help("write a recursive function as a top-level `fn`"),
            );
            return TExpr::error(span);
        }
        // Check the arguments anyway so their own mistakes are reported.
        self.check_args_leniently(&args);
        if self.is_broken(&id.name) {
            return TExpr::error(span);
        }
        let mut cands: Vec<String> = builtins::names().map(String::from).collect();
        cands.extend(self.locals_and_globals());
        let mut d =
            Diagnostic::new(codes::E0106, id.span, format!("unknown function `{}`", id.name))
                .label("not defined");
        if let Some(s) = super::suggest::function(&id.name, cands.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.report(d);
        TExpr::error(span)
    }

    fn call_global(
        &mut self,
        g: usize,
        id: &Ident,
        args: Vec<&Expr>,
        named: Vec<(&Ident, &Expr)>,
        span: Span,
    ) -> TExpr {
        let slot = self.globals[g].slot;
        let kw = self.globals[g].item.kind.keyword();
        let def_span = self.globals[g].name.span;
        let (callee, param_names): (Callee, Vec<Rc<str>>) = match slot {
            Some(Global::Fn(i)) => (Callee::Fn(i), self.fn_param_names(g)),
            Some(Global::Agent(i)) => (Callee::Agent(i), vec![Rc::from("x")]),
            Some(Global::Prompt(i)) => {
                self.ensure_checked(g);
                (
                    Callee::Prompt(i),
                    self.program.prompts[i].params.iter().map(|p| p.0.clone()).collect(),
                )
            }
            _ if self.global_type(g, id.span).has_error() => {
                self.check_args_leniently(&args);
                return TExpr::error(span);
            }
            _ => {
                self.report(
                    Diagnostic::new(
                        codes::E0203,
                        id.span,
                        format!("`{}` is a {kw}, not a function", id.name),
                    )
                    .label("called here")
                    .secondary(def_span, format!("`{}` is defined here", id.name)),
                );
                self.check_args_leniently(&args);
                return TExpr::error(span);
            }
        };
        if self.const_context && matches!(callee, Callee::Agent(_) | Callee::Prompt(_)) {
            self.report(
                Diagnostic::new(
                    codes::E0213,
                    id.span,
                    format!("the {kw} `{}` cannot be called in a constant", id.name),
                )
                .label("only known when the pipeline runs"),
            );
            return TExpr::error(span);
        }
        let fty = self.global_type(g, id.span);
        let Ty::Fn(ptys, ret) = fty else {
            return TExpr::error(span);
        };
        // Match positional, then named arguments to parameters.
        let mut slots: Vec<Option<&Expr>> = vec![None; ptys.len()];
        if args.len() > ptys.len() {
            let extra = args[ptys.len()].span.to(args[args.len() - 1].span);
            self.report(
                Diagnostic::new(
                    codes::E0201,
                    extra,
                    format!(
                        "`{}` takes {} argument{}, but {} were given",
                        id.name,
                        ptys.len(),
                        plural(ptys.len()),
                        args.len()
                    ),
                )
                .label("unexpected arguments")
                .secondary(def_span, format!("`{}` is defined here", id.name)),
            );
            return TExpr::error(span);
        }
        for (i, a) in args.iter().enumerate() {
            slots[i] = Some(a);
        }
        let mut bad = false;
        for (n, e) in &named {
            match param_names.iter().position(|p| **p == *n.name) {
                Some(i) if slots[i].is_none() => slots[i] = Some(e),
                Some(_) => {
                    self.report(
                        Diagnostic::new(
                            codes::E0202,
                            n.span,
                            format!("argument `{}` is given twice", n.name),
                        )
                        .label("already given"),
                    );
                    bad = true;
                }
                None => {
                    let list: Vec<&str> = param_names.iter().map(|p| &**p).collect();
                    self.report(
                        Diagnostic::new(
                            codes::E0202,
                            n.span,
                            format!("`{}` has no parameter `{}`", id.name, n.name),
                        )
                        .label("unknown argument name")
                        .help(format!("its parameters are: {}", list.join(", "))),
                    );
                    bad = true;
                }
            }
        }
        let missing: Vec<&str> = slots
            .iter()
            .zip(&param_names)
            .filter(|(s, _)| s.is_none())
            .map(|(_, n)| &**n)
            .collect();
        if !missing.is_empty() && !bad {
            self.report(
                Diagnostic::new(
                    codes::E0201,
                    span,
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        id.name,
                        ptys.len(),
                        plural(ptys.len()),
                        args.len() + named.len(),
                        if args.len() + named.len() == 1 { "was" } else { "were" }
                    ),
                )
                .label(format!(
                    "missing {}",
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                ))
                .secondary(def_span, format!("`{}` is defined here", id.name)),
            );
            bad = true;
        }
        let mut typed = Vec::new();
        for (slot, t) in slots.iter().zip(ptys.iter()) {
            if let Some(e) = slot {
                typed.push(self.check_expr_as(e, t));
            }
        }
        if bad {
            return TExpr::error(span);
        }
        TExpr::new(TExprKind::Call { callee, args: typed, named: Vec::new() }, (*ret).clone(), span)
    }

    fn fn_param_names(&self, g: usize) -> Vec<Rc<str>> {
        match &self.globals[g].item.kind {
            crate::syntax::ast::ItemKind::Fn { params, .. } => {
                params.iter().map(|p| Rc::from(p.name.name.as_str())).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Reports a wrong argument count (and any named argument) for a callee that takes
    /// `min..=max` positional arguments only. Returns false after reporting.
    pub(crate) fn arity(
        &mut self,
        at: Span,
        what: &str,
        args: &[&Expr],
        named: &[(&Ident, &Expr)],
        min: usize,
        max: usize,
    ) -> bool {
        if let Some((n, _)) = named.first() {
            self.report(
                Diagnostic::new(
                    codes::E0202,
                    n.span,
                    format!("{what} takes no argument named `{}`", n.name),
                )
                .label("unexpected named argument"),
            );
            return false;
        }
        if args.len() < min || args.len() > max {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            let given = args.len();
            self.report(
                Diagnostic::new(
                    codes::E0201,
                    at,
                    format!(
                        "{what} takes {want} argument{}, but {given} {} given",
                        plural(max),
                        if given == 1 { "was" } else { "were" }
                    ),
                )
                .label(format!("called with {given}")),
            );
            self.check_args_leniently(args);
            return false;
        }
        true
    }

    /// Checks arguments of a call that already failed, so their own mistakes (and the
    /// names they use) still count; lambdas get an unknown parameter type, which never
    /// produces further errors.
    pub(crate) fn check_args_leniently(&mut self, args: &[&Expr]) {
        for a in args {
            match &a.kind {
                ExprKind::Lambda { param, body } => {
                    self.lambda(param, body, &Ty::Error, None, a.span);
                }
                _ => {
                    self.infer(a, None);
                }
            }
        }
    }
}

/// "a `str`", "an `int`".
pub(crate) fn a_type(t: &Ty) -> String {
    let s = t.to_string();
    let article = if s.starts_with(['i', 'o', 'a', 'e', 'u']) { "an" } else { "a" };
    format!("{article} `{s}`")
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
