//! What typing rules may ask of the checker.

use super::{CallSite, Typed};
use crate::check::Checker;
use crate::check::hir::TExpr;
use crate::check::types::{Ty, join};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident};
use std::rc::Rc;

/// Is the collection a stream or a list?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Stream,
    List,
    /// The argument has a type error: the operator's other arguments are still checked
    /// (with an unknown element type, so nothing cascades) and its result is unknown.
    Unknown,
}

impl Container {
    pub fn wrap(self, t: Ty) -> Ty {
        match self {
            Container::Stream => Ty::stream(t),
            Container::List => Ty::list(t),
            Container::Unknown => Ty::Error,
        }
    }
}

impl Checker<'_> {
    /// Exactly `min..=max` positional arguments and no named ones.
    pub fn expect_args(&mut self, site: &CallSite, name: &str, min: usize, max: usize) -> bool {
        self.arity(site.name_span, &format!("`{name}`"), &site.args, &site.named, min, max)
    }

    /// Like [`Checker::expect_args`], allowing the named arguments in `allowed`.
    pub fn expect_args_named(
        &mut self,
        site: &CallSite,
        name: &str,
        min: usize,
        max: usize,
        allowed: &[&str],
    ) -> bool {
        for (i, (n, _)) in site.named.iter().enumerate() {
            if site.named[..i].iter().any(|(m, _)| m.name == n.name) {
                self.report(
                    Diagnostic::new(
                        codes::E0202,
                        n.span,
                        format!("argument `{}` is given twice", n.name),
                    )
                    .label("given again here"),
                );
                return false;
            }
        }
        let named: Vec<(&Ident, &Expr)> = site
            .named
            .iter()
            .filter(|(n, _)| !allowed.contains(&n.name.as_str()))
            .copied()
            .collect();
        self.arity(site.name_span, &format!("`{name}`"), &site.args, &named, min, max)
    }

    /// Exactly `n` positional arguments; named ones are the caller's business.
    pub fn expect_positional(&mut self, site: &CallSite, name: &str, n: usize) -> bool {
        self.arity(site.name_span, &format!("`{name}`"), &site.args, &[], n, n)
    }

    /// A call whose arguments have fixed types.
    pub fn simple(&mut self, site: &CallSite, name: &str, params: &[Ty], ret: Ty) -> Typed {
        if !self.expect_args(site, name, params.len(), params.len()) {
            return Typed::error();
        }
        let args: Vec<TExpr> =
            site.args.iter().zip(params).map(|(a, t)| self.check_expr_as(a, t)).collect();
        if args.iter().any(|a| a.ty.is_error()) {
            return Typed::error();
        }
        Typed::new(args, ret)
    }

    pub fn arg(&mut self, e: &Expr) -> TExpr {
        self.infer(e, None)
    }

    pub fn arg_as(&mut self, e: &Expr, t: &Ty) -> TExpr {
        self.check_expr_as(e, t)
    }

    /// The count of `take`, `skip` or `batch`: an `int`; when it is a literal or folds
    /// from constants, it must be at least `min` (E0222). Counts known only when the
    /// pipeline runs (a `param`) are checked then.
    pub fn count_arg(&mut self, e: &Expr, name: &str, min: i64) -> TExpr {
        let n = self.check_expr_as(e, &Ty::Int);
        if n.ty == Ty::Int
            && let Some(v) = self.eval_const_int(&n)
            && v < min
        {
            let (need, help) = match name {
                "batch" => ("a size of at least 1", "`batch(n)` makes lists of n elements"),
                "take" => ("a count of 0 or more", "`take(0)` takes no element"),
                _ => ("a count of 0 or more", "`skip(0)` skips no element"),
            };
            self.report(
                Diagnostic::new(codes::E0222, e.span, format!("`{name}` needs {need}, found {v}"))
                    .label(format!("this is {v}"))
                    .help(help),
            );
        }
        n
    }

    /// A one-parameter function argument: a lambda, or the name of a function, agent,
    /// prompt, let-bound lambda or builtin. Returns it as a lambda of type `(param) -> R`.
    pub fn func_arg(&mut self, e: &Expr, param: &Ty, ret: Option<&Ty>) -> TExpr {
        if let ExprKind::Lambda { param: p, body } = &e.kind {
            return self.lambda(p, body, param, ret, e.span);
        }
        if let ExprKind::Name(id) = &e.kind {
            let arg_name = format!("\u{0}{}", id.name);
            let span = e.span;
            let arg = Expr { kind: ExprKind::Name(Ident { name: arg_name.clone(), span }), span };
            let call = Expr {
                kind: ExprKind::Call {
                    callee: Box::new(e.clone()),
                    args: vec![Arg { name: None, value: arg }],
                },
                span,
            };
            return self.lambda(&Ident { name: arg_name, span }, &call, param, ret, span);
        }
        let t = self.infer(e, None);
        if !t.ty.has_error() {
            self.report(
                Diagnostic::new(
                    codes::E0218,
                    e.span,
                    format!("expected a function of one argument, found `{}`", t.ty),
                )
                .label("not a function")
                .help("write a lambda such as `x => x.field`"),
            );
        }
        TExpr::error(e.span)
    }

    /// The result type of a lambda built by [`Checker::func_arg`].
    pub fn func_ret(f: &TExpr) -> Ty {
        match &f.ty {
            Ty::Fn(_, r) => (**r).clone(),
            _ => Ty::Error,
        }
    }

    /// A stream or list argument: `(typed, element type, which)`. Reports anything else.
    /// An argument with a type error (or that is no collection) gives
    /// [`Container::Unknown`] and element type `Ty::Error`: the operator still checks its
    /// other arguments and the operators after it in a chain report their own problems.
    pub fn collection(&mut self, e: &Expr, what: &str) -> (TExpr, Ty, Container) {
        let t = self.infer(e, None);
        let (elem, c) = match &t.ty {
            Ty::Stream(x) => ((**x).clone(), Container::Stream),
            Ty::List(x) => ((**x).clone(), Container::List),
            Ty::Error => (Ty::Error, Container::Unknown),
            other => {
                let d = Diagnostic::new(
                    codes::E0215,
                    e.span,
                    format!("`{what}` needs a stream or a list, found `{other}`"),
                )
                .label(format!("this is `{other}`"));
                let d = if other.is_optional() {
                    d.help("this list may be null: give a default first, e.g. `xs ?? []`")
                } else {
                    d
                };
                self.report(d);
                return (TExpr::error(t.span), Ty::Error, Container::Unknown);
            }
        };
        (t, elem, c)
    }

    /// An optional named boolean such as `desc: true`.
    pub fn named_bool(&mut self, site: &CallSite, name: &str) -> Option<(Rc<str>, TExpr)> {
        site.named
            .iter()
            .find(|(n, _)| n.name == name)
            .map(|(_, e)| (Rc::from(name), self.check_expr_as(e, &Ty::Bool)))
    }

    /// Two numeric arguments unified (`int` if both are, else `float`).
    pub fn numeric_join(&mut self, a: TExpr, b: TExpr) -> Option<(TExpr, TExpr, Ty)> {
        let j = join(&a.ty, &b.ty).filter(Ty::is_numeric)?;
        Some((self.coerce(a, &j), self.coerce(b, &j), j))
    }

    /// Reports that `e` (already typed) is not what `name` accepts.
    pub fn bad_arg(&mut self, name: &str, t: &TExpr, wanted: &str) {
        if t.ty.has_error() {
            return;
        }
        if t.ty.is_optional() {
            self.operand_error(
                t.span,
                &t.ty,
                &format!("`{name}` needs {wanted}, found `{}`", t.ty),
            );
            return;
        }
        self.report(
            Diagnostic::new(
                codes::E0200,
                t.span,
                format!("`{name}` needs {wanted}, found `{}`", t.ty),
            )
            .label(format!("this is `{}`", t.ty)),
        );
    }

    pub fn in_stream_context(&self) -> bool {
        self.stream_context
    }

    /// `relu`, `sigmoid`, `tanh`: elementwise on a vector, or on one number as a `float`.
    pub fn vec_or_number(&mut self, site: &CallSite, name: &str) -> Typed {
        if !self.expect_args(site, name, 1, 1) {
            return Typed::error();
        }
        let a = self.arg(site.args[0]);
        match a.ty {
            Ty::Vec(_) => {
                let ty = a.ty.clone();
                Typed::new(vec![a], ty)
            }
            Ty::Int | Ty::Float => {
                let a = self.coerce(a, &Ty::Float);
                Typed::new(vec![a], Ty::Float)
            }
            _ => {
                self.bad_arg(name, &a, "a vector or a number");
                Typed::error()
            }
        }
    }

    /// `min` / `max`: of two numbers, of a list of ordered values, or of a vector.
    pub fn min_max(&mut self, site: &CallSite, name: &str) -> Typed {
        if !self.expect_args(site, name, 1, 2) {
            return Typed::error();
        }
        let a = self.arg(site.args[0]);
        if site.args.len() == 2 {
            let b = self.arg(site.args[1]);
            return match self.numeric_join(a.clone(), b.clone()) {
                Some((a, b, ty)) => Typed::new(vec![a, b], ty),
                None => {
                    let bad = if a.ty.is_numeric() { b } else { a };
                    self.bad_arg(name, &bad, "numbers");
                    Typed::error()
                }
            };
        }
        match a.ty.clone() {
            Ty::List(t) if t.is_ordered() && *t != Ty::Never => Typed::new(vec![a], (*t).clone()),
            Ty::Vec(_) => Typed::new(vec![a], Ty::Float),
            _ => {
                self.bad_arg(name, &a, "two numbers, a list of ordered values or a vector");
                Typed::error()
            }
        }
    }
}
