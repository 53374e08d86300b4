//! Checking each kind of declaration, and resolving written types.

use super::hir::*;
use super::locals::{Binding, LocalKind};
use super::types::{Field, Ty};
use super::{Checker, State};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{self, Ident, ItemKind, TypeExpr, TypeExprKind};
use std::rc::Rc;

impl<'a> Checker<'a> {
    pub(super) fn check_item(&mut self, g: usize) {
        let item = self.globals[g].item;
        let slot = self.globals[g].slot;
        let span = item.span;
        match (&item.kind, slot) {
            (ItemKind::Type { .. }, _) => {
                self.alias_type(g);
            }
            (ItemKind::Const { name, ty, value }, Some(Global::Const(i))) => {
                self.const_context = true;
                let declared = ty.as_ref().map(|t| self.resolve_type(t));
                let v = match &declared {
                    Some(t) => self.check_expr_as(value, t),
                    None => self.infer(value, None),
                };
                self.const_context = false;
                let ty = declared.unwrap_or_else(|| v.ty.clone());
                self.const_must_be_value(&v);
                self.const_must_fold(&v);
                self.global_types.insert(g, ty.clone());
                self.program.consts[i] =
                    ConstDef { name: name.name.as_str().into(), ty, value: v, span };
            }
            (ItemKind::Param { name, ty, default }, Some(Global::Param(i))) => {
                let t = self.resolve_type(ty);
                let inner = t.strip_optional().clone();
                if !inner.is_scalar() && !t.is_error() {
                    self.report(
                        Diagnostic::new(codes::E0214, ty.span, format!("a param cannot have type `{t}`"))
                            .label("not a scalar type")
                            .help("params are `int`, `float`, `bool` or `str` (optionally `?`): they come from the command line"),
                    );
                }
                self.const_context = true;
                let d = default.as_ref().map(|e| self.check_expr_as(e, &t));
                self.const_context = false;
                self.global_types.insert(g, t.clone());
                self.program.params[i] =
                    ParamDef { name: name.name.as_str().into(), ty: t, default: d, span };
            }
            (ItemKind::Fn { name, params, ret, body }, Some(Global::Fn(i))) => {
                let ptys: Vec<Ty> = params.iter().map(|p| self.resolve_type(&p.ty)).collect();
                let rty = self.resolve_type(ret);
                for (p, t) in params.iter().zip(&ptys) {
                    if matches!(t, Ty::Stream(_)) {
                        self.report(
                            Diagnostic::new(
                                codes::E0219,
                                p.ty.span,
                                "a function parameter cannot be a stream",
                            )
                            .label("streams exist only in sources, stages and sinks")
                            .help("take a list `[T]` instead, or write the operators in a stage"),
                        );
                    }
                }
                self.global_types.insert(g, Ty::Fn(ptys.clone().into(), Rc::new(rty.clone())));
                self.locals.push_frame();
                let mut hparams = Vec::new();
                let mut seen: Vec<&str> = Vec::new();
                for (p, t) in params.iter().zip(ptys) {
                    if seen.contains(&p.name.name.as_str()) {
                        self.report(
                            Diagnostic::new(
                                codes::E0101,
                                p.name.span,
                                format!("parameter `{}` is declared twice", p.name.name),
                            )
                            .label("declared again here"),
                        );
                    }
                    seen.push(&p.name.name);
                    let id = self.locals.fresh();
                    self.locals.bind(Binding {
                        name: p.name.name.clone(),
                        id,
                        ty: t.clone(),
                        span: p.name.span,
                        kind: LocalKind::FnParam,
                        used: false,
                        lambda: None,
                        seq: 0,
                    });
                    hparams.push((id, Rc::from(p.name.name.as_str()), t));
                }
                let b = self.check_expr_as(body, &rty);
                let frame = self.locals.pop_frame();
                self.lint_unused_locals(frame);
                self.program.fns[i] = FnDef {
                    name: name.name.as_str().into(),
                    params: hparams,
                    ret: rty,
                    body: b,
                    span,
                };
            }
            (ItemKind::Agent { name, path, path_span }, Some(Global::Agent(i))) => {
                let key = (self.module_file(), path.clone());
                let ty = match self.ext.agents.get(&key).cloned().flatten() {
                    Some(sig) => {
                        if !sig.has_weights {
                            self.report(
                                Diagnostic::new(
                                    codes::E0412,
                                    *path_span,
                                    format!("agent `{}` has no trained weights", name.name),
                                )
                                .label("this file has no `neural_weights` section")
                                .help(format!(
                                    "train it first: kiln train {path} --data <rows.jsonl>"
                                )),
                            );
                        }
                        self.program.agents[i] = AgentDef {
                            name: name.name.as_str().into(),
                            path: path.clone(),
                            input: sig.input,
                            output: sig.output,
                            threads: sig.threads,
                            span,
                        };
                        Ty::Fn(vec![Ty::Vec(sig.input)].into(), Rc::new(Ty::Vec(sig.output)))
                    }
                    None => Ty::Error,
                };
                self.global_types.insert(g, ty);
            }
            (ItemKind::PromptFile { name, path, .. }, Some(Global::Prompt(i))) => {
                let key = (self.module_file(), path.clone());
                match self.ext.prompts.get(&key).cloned().flatten() {
                    Some(sig) => {
                        let typed = sig.returns.as_ref().map(|t| (self.resolve_type(t), t.span));
                        if let Some((model, at)) = &sig.model {
                            self.check_model_name(model, *at, typed.is_some());
                        } else if let Some((_, at)) = &typed {
                            self.check_model_name("default", *at, true);
                        }
                        let model = sig.model.as_ref().map_or("default", |m| m.0.as_str());
                        let typed = typed.map(|(t, _)| (t, Rc::from(model)));
                        let params: Vec<(Ident, Ty)> = sig
                            .params
                            .iter()
                            .map(|(n, t)| (n.clone(), self.resolve_type(t)))
                            .collect();
                        let settings = sig.settings;
                        self.prompt(g, i, name, params, sig.template, &sig.body, span, typed);
                        self.program.prompts[i].settings = settings;
                        self.program.prompts[i].model =
                            sig.model.as_ref().map(|m| Rc::from(m.0.as_str()));
                    }
                    None => {
                        self.global_types.insert(g, Ty::Error);
                    }
                }
            }
            (
                ItemKind::PromptInline { name, params, ret, template, body, .. },
                Some(Global::Prompt(i)),
            ) => {
                let params: Vec<(Ident, Ty)> =
                    params.iter().map(|p| (p.name.clone(), self.resolve_type(&p.ty))).collect();
                let typed = ret.as_ref().map(|t| {
                    self.check_model_name("default", t.span, true);
                    (self.resolve_type(t), Rc::from("default"))
                });
                self.prompt(g, i, name, params, template.clone(), body, span, typed);
            }
            (ItemKind::Source { name, ty, expr }, Some(Global::Source(i))) => {
                let elem = self.resolve_type(ty);
                let def = self.check_source(name, &elem, ty.span, expr);
                self.global_types.insert(g, Ty::stream(elem));
                self.program.sources[i] = def;
            }
            (ItemKind::Stage { name, expr }, Some(Global::Stage(i))) => {
                self.stream_context = true;
                let e = self.infer(expr, None);
                self.stream_context = false;
                let ty = match &e.ty {
                    Ty::Stream(_) | Ty::Error => e.ty.clone(),
                    other => {
                        self.report(
                            Diagnostic::new(codes::E0215, expr.span, format!("a stage must be a stream, found `{other}`"))
                                .label("this is a single value")
                                .help("start from a source or another stage: `stage s = reviews |> filter(...)`"),
                        );
                        Ty::Error
                    }
                };
                self.global_types.insert(g, ty);
                self.program.stages[i] =
                    StageDef { name: name.name.as_str().into(), expr: e, span };
            }
            _ => {}
        }
    }

    /// A prompt: its type is known from its parameters before the template is checked,
    /// so a template may call its own prompt (recursion, as for functions).
    #[allow(clippy::too_many_arguments)]
    fn prompt(
        &mut self,
        g: usize,
        i: usize,
        name: &Ident,
        params: Vec<(Ident, Ty)>,
        template: String,
        body: &ast::Template,
        span: crate::source::Span,
        typed: Option<(Ty, Rc<str>)>,
    ) {
        let mut seen: Vec<&str> = Vec::new();
        for (p, _) in &params {
            if seen.contains(&p.name.as_str()) {
                self.report(
                    Diagnostic::new(
                        codes::E0101,
                        p.span,
                        format!("parameter `{}` is declared twice", p.name),
                    )
                    .label("declared again here"),
                );
            }
            seen.push(&p.name);
        }
        let ret = typed.as_ref().map_or(Ty::Str, |(t, _)| t.clone());
        let ty = Ty::Fn(params.iter().map(|p| p.1.clone()).collect(), Rc::new(ret));
        self.global_types.insert(g, ty);
        self.program.prompts[i] = PromptDef {
            name: name.name.as_str().into(),
            params: params.iter().map(|(n, t)| (Rc::from(n.name.as_str()), t.clone())).collect(),
            template,
            span,
            typed,
            ..PromptDef::default()
        };
        let (locals, pieces) = self.check_template(&params, body);
        self.program.prompts[i].locals = locals;
        self.program.prompts[i].body = pieces;
    }

    /// The type a `type` alias stands for (resolving it now if needed).
    pub(super) fn alias_type(&mut self, g: usize) -> Ty {
        if let Some(t) = self.alias_types.get(&g) {
            return t.clone();
        }
        let ItemKind::Type { name, ty } = &self.globals[g].item.kind else {
            return Ty::Error;
        };
        if self.globals[g].state == State::InProgress && self.stack.last() != Some(&g) {
            self.report(
                Diagnostic::new(codes::E0107, name.span, format!("type `{}` is defined in terms of itself", name.name))
                    .label("this type refers back to itself")
                    .help("Kiln types are finite: a record cannot contain itself (a list of itself neither)"),
            );
            self.alias_types.insert(g, Ty::Error);
            return Ty::Error;
        }
        let saved_state = self.globals[g].state;
        self.globals[g].state = State::InProgress;
        self.stack.push(usize::MAX); // marks "inside an alias" so the self-check above fires
        let saved_module = std::mem::replace(&mut self.current_module, self.globals[g].module);
        let t = self.resolve_type(ty);
        self.current_module = saved_module;
        self.stack.pop();
        self.globals[g].state =
            if saved_state == State::Unchecked { State::Done } else { saved_state };
        let t = self.alias_types.get(&g).cloned().unwrap_or(t);
        self.alias_types.insert(g, t.clone());
        t
    }

    /// Resolves a written type.
    pub(super) fn resolve_type(&mut self, t: &TypeExpr) -> Ty {
        match &t.kind {
            TypeExprKind::Named(id) => match id.name.as_str() {
                "int" => Ty::Int,
                "float" => Ty::Float,
                "bool" => Ty::Bool,
                "str" => Ty::Str,
                name => match self.lookup_global(name) {
                    Some(g) if matches!(self.globals[g].item.kind, ItemKind::Type { .. }) => {
                        self.alias_type(g)
                    }
                    Some(g) => {
                        let kw = self.globals[g].item.kind.keyword();
                        self.report(
                            Diagnostic::new(
                                codes::E0102,
                                id.span,
                                format!("`{name}` is a {kw}, not a type"),
                            )
                            .label("expected a type")
                            .secondary(
                                self.globals[g].name.span,
                                format!("`{name}` is defined here"),
                            ),
                        );
                        Ty::Error
                    }
                    None if self.is_broken(name) => Ty::Error,
                    None => {
                        let mut cands: Vec<String> =
                            ["int", "float", "bool", "str"].map(String::from).to_vec();
                        cands.extend(self.type_names());
                        let mut d = Diagnostic::new(
                            codes::E0102,
                            id.span,
                            format!("unknown type `{name}`"),
                        )
                        .label("not a type");
                        if let Some(s) =
                            super::suggest::closest(name, cands.iter().map(String::as_str))
                        {
                            d = d.help(format!("did you mean `{s}`?"));
                        } else if name == "string" {
                            d = d.help("the text type is `str`");
                        }
                        self.report(d);
                        Ty::Error
                    }
                },
            },
            TypeExprKind::List(e) => Ty::list(self.resolve_type(e)),
            TypeExprKind::Optional(e) => Ty::optional(self.resolve_type(e)),
            TypeExprKind::Stream(e) => {
                let inner = self.resolve_type(e);
                self.report(
                    Diagnostic::new(
                        codes::E0102,
                        t.span,
                        "`stream<T>` cannot be written in a type",
                    )
                    .label("streams come from sources and stages")
                    .help(format!("declare the element type instead: `{inner}`")),
                );
                Ty::Error
            }
            TypeExprKind::Vec(size) => match self.const_size(size) {
                Some(n) => Ty::Vec(n),
                None => Ty::Error,
            },
            TypeExprKind::Record(fields) => {
                let mut out: Vec<Field> = Vec::new();
                for (name, ft) in fields {
                    let ty = self.resolve_type(ft);
                    if out.iter().any(|f| *f.name == *name.name) {
                        self.report(
                            Diagnostic::new(
                                codes::E0108,
                                name.span,
                                format!("field `{}` appears twice", name.name),
                            )
                            .label("repeated field"),
                        );
                        continue;
                    }
                    out.push(Field { name: name.name.as_str().into(), ty });
                }
                Ty::Record(out.into())
            }
        }
    }

    fn type_names(&self) -> Vec<String> {
        self.scopes[self.current_module]
            .iter()
            .filter(|(_, g)| matches!(self.globals[**g].item.kind, ItemKind::Type { .. }))
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// A `vec[N]` size or a `hash_embed` dimension: a positive compile-time integer.
    pub(crate) fn const_size(&mut self, size: &ast::Expr) -> Option<u32> {
        let saved = self.const_context;
        self.const_context = true;
        let e = self.infer(size, None);
        self.const_context = saved;
        if e.ty.is_error() {
            return None;
        }
        if let super::consteval::Folded::Failed(why) = self.fold_int(&e) {
            self.report(
                Diagnostic::new(
                    codes::E0221,
                    size.span,
                    format!("this size cannot be computed: {why}"),
                )
                .label(why),
            );
            return None;
        }
        match self.eval_const_int(&e) {
            Some(n) if n > 0 && n <= (1 << 24) => Some(n as u32),
            Some(n) => {
                self.report(
                    Diagnostic::new(
                        codes::E0217,
                        size.span,
                        format!("vector size {n} is out of range"),
                    )
                    .label("must be between 1 and 16777216"),
                );
                None
            }
            None => {
                self.report(
                    Diagnostic::new(
                        codes::E0217,
                        size.span,
                        "vector size must be a compile-time integer",
                    )
                    .label("not a constant integer")
                    .help("use an integer literal or a `const`: `vec[64]`, `vec[DIM]`"),
                );
                None
            }
        }
    }
}
