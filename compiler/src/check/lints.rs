//! Warnings: a stage that feeds no sink (W0001), unused params, constants and functions
//! (W0002–W0004), unused `let`s (W0005) and a `let` that shadows an outer name (W0006).
//! Standard-library modules are never linted; names starting with `_` are exempt.

use super::Checker;
use super::hir::*;
use super::locals::{Binding, LocalKind};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Ident, ItemKind};

impl Checker<'_> {
    pub(super) fn lint(&mut self, main: usize) {
        self.lint_unreachable_stages(main);
        for g in 0..self.globals.len() {
            let entry = &self.globals[g];
            if entry.used || self.modules[entry.module].is_std || entry.name.name.starts_with('_') {
                continue;
            }
            let name = &entry.name.name;
            let d = match entry.item.kind {
                ItemKind::Param { .. } => Diagnostic::new(
                    codes::W0002,
                    entry.name.span,
                    format!("param `{name}` is never used"),
                )
                .label("unused")
                .help("remove it, or use it in a source, stage or sink"),
                ItemKind::Const { .. } => Diagnostic::new(
                    codes::W0003,
                    entry.name.span,
                    format!("constant `{name}` is never used"),
                )
                .label("unused")
                .help(format!("remove it, or rename it to `_{name}` to keep it")),
                ItemKind::Fn { .. } => Diagnostic::new(
                    codes::W0004,
                    entry.name.span,
                    format!("function `{name}` is never called"),
                )
                .label("unused")
                .help(format!("remove it, or rename it to `_{name}` to keep it")),
                _ => continue,
            };
            self.report(d);
        }
    }

    /// Stages of the main module from which no sink reads, directly or through stages.
    fn lint_unreachable_stages(&mut self, main: usize) {
        let mut reached = vec![false; self.program.stages.len()];
        let mut work: Vec<usize> = Vec::new();
        for sink in &self.program.sinks {
            collect_stages(&sink.input, &mut work);
        }
        while let Some(s) = work.pop() {
            if std::mem::replace(&mut reached[s], true) {
                continue;
            }
            collect_stages(&self.program.stages[s].expr, &mut work);
        }
        for g in 0..self.globals.len() {
            let entry = &self.globals[g];
            if entry.module != main {
                continue;
            }
            if let Some(Global::Stage(i)) = entry.slot {
                if !reached[i] {
                    let name = entry.name.name.clone();
                    let span = entry.name.span;
                    self.report(
                        Diagnostic::new(
                            codes::W0001,
                            span,
                            format!("stage `{name}` feeds no sink and will not run"),
                        )
                        .label("never written anywhere")
                        .help(format!(
                            "add `sink {name} -> stdout()` (or another target), or remove the stage"
                        )),
                    );
                }
            }
        }
    }

    pub(super) fn lint_unused_locals(&mut self, frame: Vec<Binding>) {
        if self.modules[self.current_module].is_std {
            return;
        }
        for b in frame {
            if b.kind == LocalKind::Let && !b.used && !b.name.starts_with('_') {
                self.report(
                    Diagnostic::new(
                        codes::W0005,
                        b.span,
                        format!("variable `{}` is never used", b.name),
                    )
                    .label("unused")
                    .help(format!("remove the `let`, or rename it to `_{}`", b.name)),
                );
            }
        }
    }

    /// A `let` that hides a variable of an enclosing scope or a top-level name.
    pub(super) fn lint_shadow(&mut self, name: &Ident) {
        if self.modules[self.current_module].is_std || name.name.starts_with('_') {
            return;
        }
        let outer = self.locals.outer(&name.name).map(|b| b.span).or_else(|| {
            // The current innermost frame holds the block's earlier lets: a repeated
            // `let x` in one block shadows too.
            self.scopes[self.current_module]
                .get(name.name.as_str())
                .map(|&g| self.globals[g].name.span)
        });
        let same_block = self.locals.lookup_quiet(&name.name);
        if let Some(span) = same_block.or(outer) {
            self.report(
                Diagnostic::new(
                    codes::W0006,
                    name.span,
                    format!("`{}` shadows an earlier definition", name.name),
                )
                .label("this hides the other one")
                .secondary(span, "the hidden definition")
                .help("use a different name so each value keeps one meaning"),
            );
        }
    }
}

fn collect_stages(e: &TExpr, out: &mut Vec<usize>) {
    visit(e, &mut |x| {
        if let TExprKind::Global(Global::Stage(i)) = x.kind {
            out.push(i);
        }
    });
}

/// Calls `f` on every node of `e`, parents first.
pub fn visit(e: &TExpr, f: &mut impl FnMut(&TExpr)) {
    f(e);
    match &e.kind {
        TExprKind::List(xs) | TExprKind::Record(xs) => xs.iter().for_each(|x| visit(x, f)),
        TExprKind::Unary(_, x)
        | TExprKind::Widen(x)
        | TExprKind::WrapOptional(x)
        | TExprKind::Unwrap(x) => visit(x, f),
        TExprKind::Field(x, _) | TExprKind::Lambda(_, x) => visit(x, f),
        TExprKind::Binary(_, a, b) | TExprKind::Index(a, b) | TExprKind::Let(_, a, b) => {
            visit(a, f);
            visit(b, f);
        }
        TExprKind::ConvertEach { value, body, .. } => {
            visit(value, f);
            visit(body, f);
        }
        TExprKind::If(c, t, e2) => {
            visit(c, f);
            visit(t, f);
            visit(e2, f);
        }
        TExprKind::Call { args, named, .. } => {
            args.iter().for_each(|x| visit(x, f));
            named.iter().for_each(|(_, x)| visit(x, f));
        }
        _ => {}
    }
}
