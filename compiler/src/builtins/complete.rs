//! `complete(prompt: str, model: str = "default") -> str`
//!
//! Sends `prompt` to the language model configured as `[models.<model>]` in kiln.toml and returns its answer (LANGUAGE.md §4).

use super::{Builtin, CallSite, Typed};
use crate::check::Checker;
use crate::check::hir::{Callee, TExpr, TExprKind};
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};
use std::rc::Rc;

pub static BUILTIN: Builtin = Builtin {
    name: "complete",
    id: super::BuiltinId::Complete,
    signature: r#"complete(prompt: str, model: str = "default") -> str"#,
    doc: "Sends `prompt` to the language model configured as `[models.<model>]` in kiln.toml and returns its answer (LANGUAGE.md §4).",
    examples: &[],
    check,
};

fn check(cx: &mut Checker, site: &CallSite) -> Typed {
    if !cx.expect_args_named(site, "complete", 1, 1, &["model"]) {
        return Typed::error();
    }
    if cx.const_context {
        cx.report(
            Diagnostic::new(
                codes::E0213,
                site.name_span,
                "`complete` calls a language model and cannot run at compile time",
            )
            .label("not a constant"),
        );
        return Typed::error();
    }
    let p = cx.arg_as(site.args[0], &Ty::Str);
    let mut named = Vec::new();
    if let Some((_, m)) = site.named.iter().find(|(n, _)| n.name == "model") {
        let m = cx.arg_as(m, &Ty::Str);
        if !matches!(m.kind, TExprKind::Str(_)) && !m.ty.has_error() {
            cx.report(
                Diagnostic::new(codes::E0213, m.span, "the model name must be a string literal")
                    .label("not a literal")
                    .help("models are configured in kiln.toml; name one: `model: \"default\"`"),
            );
            return Typed::error();
        }
        if let TExprKind::Str(name) = &m.kind {
            cx.check_model_name(name, m.span, true);
        }
        named.push((Rc::from("model"), m));
    } else if let TExprKind::Call { callee: Callee::Prompt(i), .. } = &p.kind
        && let Some(m) = cx.prompt_file_model(*i)
    {
        // A prompt file's `model:` (LANGUAGE.md §3): as if the call named it. The name
        // itself was checked at the front matter; the call still needs a kiln.toml.
        if matches!(cx.ext.models, crate::config::Models::Missing { .. }) {
            cx.check_model_name(&m, site.name_span, true);
        }
        let name = TExpr::new(TExprKind::Str(m), Ty::Str, site.name_span);
        named.push((Rc::from("model"), name));
    } else {
        cx.check_model_name("default", site.name_span, true);
    }
    Typed { args: vec![p], named, ty: Ty::Str }
}

/// The model a `complete` call names (`default` when it names none).
pub fn model_name(named: &[(Rc<str>, crate::check::hir::TExpr)]) -> &str {
    named
        .iter()
        .find(|(n, _)| &**n == "model")
        .and_then(|(_, e)| match &e.kind {
            crate::check::hir::TExprKind::Str(s) => Some(&**s),
            _ => None,
        })
        .unwrap_or("default")
}

/// The request settings of `complete(prompt, ...)`: when `prompt` is a direct call of an
/// untyped prompt, that prompt's front matter `temperature` / `max_tokens` (LANGUAGE.md §3),
/// which win over the model's own in kiln.toml; otherwise none (the model's apply).
pub fn settings(
    prompts: &[crate::check::hir::PromptDef],
    prompt: Option<&crate::check::hir::TExpr>,
) -> kiln_runtime::model::Settings {
    match prompt.map(|p| &p.kind) {
        Some(TExprKind::Call { callee: Callee::Prompt(i), .. }) => {
            prompts.get(*i).filter(|d| d.typed.is_none()).map(|d| d.settings).unwrap_or_default()
        }
        _ => kiln_runtime::model::Settings::default(),
    }
}
