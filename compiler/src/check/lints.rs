//! Warnings: a stage that feeds no sink (W0001), unused params, constants and functions
//! (W0002–W0004), unused `let`s (W0005) and a `let` that shadows an outer name (W0006).
//! Standard-library modules are never linted; names starting with `_` are exempt.

use super::Checker;
use super::hir::Global;
use super::locals::{Binding, LocalKind};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Ident, ItemKind};

impl Checker<'_> {
    pub(super) fn lint(&mut self, main: usize) {
        self.lint_unreachable_stages(main);
        for g in 0..self.globals.len() {
            let entry = &self.globals[g];
            if entry.used || entry.module != main || entry.name.name.starts_with('_') {
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
    /// Uses the references recorded during checking, so a type error inside a stage does
    /// not make the stages it reads look unused.
    fn lint_unreachable_stages(&mut self, main: usize) {
        let mut reached = vec![false; self.globals.len()];
        // Who reads what, built once: `reads[g]` lists the streams global `g` reads.
        let mut reads: Vec<Vec<usize>> = vec![Vec::new(); self.globals.len()];
        let mut work: Vec<usize> = Vec::new();
        for &(owner, target) in &self.stream_refs {
            match owner {
                Some(o) => reads[o].push(target),
                None => work.push(target),
            }
        }
        while let Some(g) = work.pop() {
            if std::mem::replace(&mut reached[g], true) {
                continue;
            }
            work.extend_from_slice(&reads[g]);
        }
        let unreached: Vec<(String, crate::source::Span)> = self
            .globals
            .iter()
            .zip(&reached)
            .filter(|(e, r)| e.module == main && !**r && matches!(e.slot, Some(Global::Stage(_))))
            .map(|(e, _)| (e.name.name.clone(), e.name.span))
            .collect();
        for (name, span) in unreached {
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
