//! Prompt templates (LANGUAGE.md §3): every name, field and filter is checked in the scope
//! of the module that declares the prompt, with the prompt's parameters as locals.
//! `{{ x | f(a) }}` is the call `f(x, a)` (any builtin or `fn`), typed like one; inserting
//! an optional is an error (E0504); `{% if %}` conditions are `bool` and narrow optionals
//! like `if` expressions do; `{% for x in e %}` needs a list (E0505) and binds `loop`,
//! which is unknown outside every loop (E0506); unknown filters are E0507, checked in every
//! branch; a parameter the template never uses is a warning (W0501).

use super::Checker;
use super::expr::non_null_paths;
use super::hir::{LocalId, Piece, TExpr, loop_info_type};
use super::locals::{Binding, LocalKind, Path};
use super::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Expr, ExprKind, Filter, Ident, Template, TemplateNode};
use std::rc::Rc;

/// The help for an unknown name in a `.prompt` file checked without a pipeline.
pub(super) const ALONE: &str = "checked on its own, a `.prompt` file sees its parameters and the builtins; check the pipeline that declares it to use the pipeline's functions and constants";

impl Checker<'_> {
    /// Checks `body` with `params` bound; returns the parameters' locals and the pieces.
    pub(super) fn check_template(
        &mut self,
        params: &[(Ident, Ty)],
        body: &Template,
    ) -> (Vec<LocalId>, Vec<Piece>) {
        self.locals.push_frame();
        let mut ids = Vec::new();
        for (name, ty) in params {
            let id = self.locals.fresh();
            self.locals.bind(Binding {
                name: name.name.clone(),
                id,
                ty: ty.clone(),
                span: name.span,
                kind: LocalKind::FnParam,
                used: false,
                lambda: None,
                seq: 0,
            });
            ids.push(id);
        }
        let saved = self.template_loops.replace(0);
        let pieces = self.pieces(&body.nodes);
        self.template_loops = saved;
        let frame = self.locals.pop_frame();
        if !self.modules[self.current_module].is_std && !body.has_errors {
            for b in frame {
                if b.kind == LocalKind::FnParam && !b.used && !b.name.starts_with('_') {
                    self.report(
                        Diagnostic::new(
                            codes::W0501,
                            b.span,
                            format!("prompt parameter `{}` is never used", b.name),
                        )
                        .label("not used in the template")
                        .help(format!(
                            "insert it with `{{{{ {} }}}}`, or remove it (or rename it to `_{}`)",
                            b.name, b.name
                        )),
                    );
                }
            }
        }
        (ids, pieces)
    }

    fn pieces(&mut self, nodes: &[TemplateNode]) -> Vec<Piece> {
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            match n {
                TemplateNode::Text(t) => out.push(Piece::Text(Rc::from(t.as_str()))),
                TemplateNode::Insert { value, filters, .. } => {
                    if let Some(e) = self.insert(value, filters) {
                        out.push(Piece::Insert(e));
                    }
                }
                TemplateNode::If { branches, otherwise, .. } => {
                    let mut checked = Vec::new();
                    // Paths proven non-null because every earlier condition was false.
                    let mut when_false: Vec<Path> = Vec::new();
                    for (cond, body) in branches {
                        let n0 = self.locals.narrow(when_false.clone());
                        let c = self.condition(cond, "`{% if x != null %}`", "`{% if n > 0 %}`");
                        let (t, f) = non_null_paths(&c);
                        self.locals.unnarrow(n0);
                        let mut inside = when_false.clone();
                        inside.extend(t);
                        let n1 = self.locals.narrow(inside);
                        let b = self.pieces(body);
                        self.locals.unnarrow(n1);
                        when_false.extend(f);
                        checked.push((c, b));
                    }
                    let n2 = self.locals.narrow(when_false);
                    let o = self.pieces(otherwise);
                    self.locals.unnarrow(n2);
                    out.push(Piece::If(checked, o));
                }
                TemplateNode::For { var, list, body, .. } => {
                    if let Some(p) = self.for_loop(var, list, body) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    /// `{{ value | f | g(a) }}`: `g(f(value), a)`, which must not be optional.
    fn insert(&mut self, value: &Expr, filters: &[Filter]) -> Option<TExpr> {
        let unknown: Vec<&Filter> = filters.iter().filter(|f| !self.is_callable(&f.name)).collect();
        if !unknown.is_empty() {
            self.infer(value, None);
            for f in unknown {
                self.unknown_filter(f);
            }
            for f in filters {
                let args: Vec<&Expr> = f.args.iter().map(|a| &a.value).collect();
                self.check_args_leniently(&args);
            }
            return None;
        }
        let mut e = value.clone();
        for f in filters {
            let callee = Expr { kind: ExprKind::Name(f.name.clone()), span: f.name.span };
            let rhs = if f.args.is_empty() {
                callee
            } else {
                Expr {
                    kind: ExprKind::Call { callee: Box::new(callee), args: f.args.clone() },
                    span: f.span,
                }
            };
            let span = e.span.to(f.span);
            e = Expr { kind: ExprKind::Pipe(Box::new(e), Box::new(rhs)), span };
        }
        let t = self.infer(&e, None);
        match &t.ty {
            _ if t.ty.has_error() => return None,
            Ty::Optional(_) | Ty::Null => {
                let what = if t.ty == Ty::Null {
                    "`null`".to_string()
                } else {
                    format!("an optional `{}`", t.ty)
                };
                self.report(
                    Diagnostic::new(codes::E0504, t.span, format!("this inserts {what}, which may be null"))
                        .label("may be null")
                        .help("give a default with `??` (`{{ x ?? \"\" }}`), or insert it inside `{% if x != null %}`"),
                );
                return None;
            }
            _ => {}
        }
        Some(t)
    }

    /// Can `name` be called: a builtin, an aggregate, a `fn`, agent or prompt, or a local?
    /// (Calling a local or a non-function global is reported by the call itself.)
    fn is_callable(&self, name: &Ident) -> bool {
        let n = name.name.as_str();
        self.locals.lookup_quiet_any(n)
            || self.scopes[self.current_module].contains_key(n)
            || crate::builtins::lookup(n).is_some()
            || crate::builtins::aggregates::lookup(n).is_some()
            || self.is_broken(n)
    }

    fn unknown_filter(&mut self, f: &Filter) {
        let mut cands: Vec<String> = crate::builtins::names().map(String::from).collect();
        cands.extend(self.locals_and_globals());
        let mut d =
            Diagnostic::new(codes::E0507, f.name.span, format!("unknown filter `{}`", f.name.name))
                .label("no function has this name");
        d = match super::suggest::function(&f.name.name, cands.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if self.prompt_alone => d.help(ALONE),
            None => d.help("a filter is a builtin (`trim`, `upper`, `truncate(n)`, ...) or a `fn` of the pipeline"),
        };
        self.report(d);
    }

    fn for_loop(&mut self, var: &Ident, list: &Expr, body: &[TemplateNode]) -> Option<Piece> {
        let l = self.infer(list, None);
        let elem = match &l.ty {
            Ty::List(t) => Some((**t).clone()),
            Ty::Error => None,
            other => {
                let help = match other {
                    Ty::Optional(inner) if matches!(**inner, Ty::List(_)) => {
                        "it may be null: give it a default with `?? []`".to_string()
                    }
                    Ty::Str => "split it first, e.g. `split(s, \" \")`".to_string(),
                    Ty::Vec(_) => "convert it with `to_list(v)`".to_string(),
                    _ => "`{% for x in xs %}` loops over a list `[T]`".to_string(),
                };
                self.report(
                    Diagnostic::new(
                        codes::E0505,
                        l.span,
                        format!("cannot loop over `{other}`: it is not a list"),
                    )
                    .label(format!("this is `{other}`"))
                    .help(help),
                );
                None
            }
        };
        // The body is checked either way, with the element's type unknown after an error.
        self.locals.push_frame();
        let item = self.locals.fresh();
        let info = self.locals.fresh();
        for (id, name, ty, span) in [
            (item, var.name.as_str(), elem.clone().unwrap_or(Ty::Error), var.span),
            (info, "loop", loop_info_type(), var.span),
        ] {
            self.locals.bind(Binding {
                name: name.to_string(),
                id,
                ty,
                span,
                kind: LocalKind::LambdaParam,
                used: false,
                lambda: None,
                seq: 0,
            });
        }
        let depth = self.template_loops.unwrap_or(0);
        self.template_loops = Some(depth + 1);
        let b = self.pieces(body);
        self.template_loops = Some(depth);
        self.locals.pop_frame();
        elem.map(|_| Piece::For { item, info, list: l, body: b })
    }

    /// `loop` where no template loop is open: reported instead of an unknown name.
    pub(super) fn loop_outside_loop(&mut self, id: &Ident) -> bool {
        if id.name != "loop" || self.template_loops != Some(0) {
            return false;
        }
        self.report(
            Diagnostic::new(codes::E0506, id.span, "`loop` is only defined inside `{% for %}`")
                .label("no template loop is open here")
                .help("`loop.index`, `loop.first` and `loop.last` describe the innermost `{% for x in xs %}`"),
        );
        true
    }
}
