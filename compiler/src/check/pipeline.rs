//! The dataflow skeleton: sources (format and element type), sinks (target format, flat
//! records for CSV, strings for `lines`, one sink per path).

use super::Checker;
use super::hir::*;
use super::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Ident, ItemKind};

const SOURCES: &str = "`jsonl(path)`, `csv(path)`, `lines(path)` or `range(a, b)`";
const SINKS: &str = "`jsonl(path)`, `csv(path)`, `lines(path)`, `stdout()` or `discard()`";

impl Checker<'_> {
    pub(super) fn check_source(
        &mut self,
        name: &Ident,
        elem: &Ty,
        ty_span: Span,
        expr: &Expr,
    ) -> SourceDef {
        let mut def = SourceDef {
            name: name.name.as_str().into(),
            elem: elem.clone(),
            span: expr.span,
            ..Default::default()
        };
        let ExprKind::Call { callee, args } = &expr.kind else {
            self.unknown_source(expr.span);
            return def;
        };
        let ExprKind::Name(fname) = &callee.kind else {
            self.unknown_source(callee.span);
            return def;
        };
        let positional: Vec<&Expr> =
            args.iter().filter(|a| a.name.is_none()).map(|a| &a.value).collect();
        let named: Vec<(&Ident, &Expr)> =
            args.iter().filter_map(|a| a.name.as_ref().map(|n| (n, &a.value))).collect();
        let (format, params): (SourceFormat, &[Ty]) = match fname.name.as_str() {
            "jsonl" => (SourceFormat::Jsonl, &[Ty::Str]),
            "csv" => (SourceFormat::Csv, &[Ty::Str]),
            "lines" => (SourceFormat::Lines, &[Ty::Str]),
            "range" => (SourceFormat::Range, &[Ty::Int, Ty::Int]),
            other => {
                let names = ["jsonl", "csv", "lines", "range"];
                let help = match super::suggest::closest(other, names.into_iter()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a source reads {SOURCES}"),
                };
                self.report(
                    Diagnostic::new(codes::E0306, fname.span, format!("unknown source `{other}`"))
                        .label("not a source")
                        .help(help),
                );
                return def;
            }
        };
        def.format = format;
        let what = format!("`{}`", fname.name);
        if !self.arity(fname.span, &what, &positional, &named, params.len(), params.len()) {
            return def;
        }
        def.args = positional.iter().zip(params).map(|(a, t)| self.check_expr_as(a, t)).collect();
        if elem.has_error() {
            return def;
        }
        match format {
            SourceFormat::Csv => self.require_flat(elem, ty_span, "a CSV source"),
            SourceFormat::Lines if *elem != Ty::Str => self.report(
                Diagnostic::new(
                    codes::E0304,
                    ty_span,
                    format!("a `lines` source yields `str`, not `{elem}`"),
                )
                .label("declared here")
                .help(format!(
                    "declare it as `source {}: str = lines(...)` and parse each line in a stage",
                    name.name
                )),
            ),
            SourceFormat::Range if *elem != Ty::Int => self.report(
                Diagnostic::new(
                    codes::E0304,
                    ty_span,
                    format!("a `range` source yields `int`, not `{elem}`"),
                )
                .label("declared here"),
            ),
            SourceFormat::Jsonl if matches!(elem, Ty::Fn(..)) => self.report(
                Diagnostic::new(codes::E0304, ty_span, "a JSONL source cannot hold functions")
                    .label("declared here"),
            ),
            _ => {}
        }
        def
    }

    fn unknown_source(&mut self, span: Span) {
        self.report(
            Diagnostic::new(codes::E0306, span, "unknown source")
                .label("not a source")
                .help(format!("a source reads {SOURCES}")),
        );
    }

    /// CSV rows are flat: every field a scalar (or an optional scalar).
    fn require_flat(&mut self, elem: &Ty, span: Span, what: &str) {
        match elem {
            Ty::Record(fields) => {
                for f in fields.iter() {
                    if !f.ty.strip_optional().is_scalar() && !f.ty.has_error() {
                        self.report(
                            Diagnostic::new(codes::E0301, span, format!("{what} needs flat records, but field `{}` is `{}`", f.name, f.ty))
                                .label("this record has a nested field")
                                .help("CSV cells hold `int`, `float`, `bool` or `str`; map the field to a string first, or use JSONL"),
                        );
                        return;
                    }
                }
            }
            other => self.report(
                Diagnostic::new(
                    codes::E0301,
                    span,
                    format!("{what} needs records, found `{other}`"),
                )
                .label("not a record")
                .help(
                    "CSV has a header row: its elements are records like `{ id: int, name: str }`",
                ),
            ),
        }
    }

    /// Checks the main module's sinks (a used module's sinks are not part of the program).
    pub(super) fn check_sinks(&mut self, main: usize) {
        self.current_module = main;
        let mut paths = super::paths::SinkPaths::default();
        self.check_source_paths();
        for item in &self.modules[main].module.items {
            let ItemKind::Sink { expr, target } = &item.kind else {
                continue;
            };
            self.stream_context = true;
            let input = self.infer(expr, None);
            self.stream_context = false;
            let elem = match &input.ty {
                Ty::Stream(t) => Some((**t).clone()),
                t if t.has_error() => None,
                other => {
                    self.report(
                        Diagnostic::new(
                            codes::E0215,
                            expr.span,
                            format!("a sink needs a stream, found `{other}`"),
                        )
                        .label("a single value")
                        .help("sink a source or a stage: `sink good -> stdout()`"),
                    );
                    None
                }
            };
            let Some((format, path)) = self.sink_target(target) else {
                continue;
            };
            if let Some(elem) = &elem {
                match format {
                    SinkFormat::Csv => self.require_flat(elem, expr.span, "a CSV sink"),
                    SinkFormat::Lines if *elem != Ty::Str && !elem.has_error() => self.report(
                        Diagnostic::new(
                            codes::E0302,
                            expr.span,
                            format!(
                                "a `lines` sink needs a stream of `str`, found `stream<{elem}>`"
                            ),
                        )
                        .label("not strings")
                        .help("map each element to a string first, or use `jsonl(path)`"),
                    ),
                    _ => {}
                }
            }
            if let Some(key) = self.sink_key(format, path.as_ref()) {
                self.check_sink_path(key, target.span, &mut paths);
            }
            let span = item.span;
            self.program.sinks.push(SinkDef { input, format, path, span });
        }
    }

    fn sink_target(&mut self, target: &Expr) -> Option<(SinkFormat, Option<TExpr>)> {
        let bad = |cx: &mut Self, span| {
            cx.report(
                Diagnostic::new(codes::E0305, span, "unknown sink target")
                    .label("not a sink")
                    .help(format!("a sink writes to {SINKS}")),
            );
            None
        };
        let ExprKind::Call { callee, args } = &target.kind else {
            return bad(self, target.span);
        };
        let ExprKind::Name(name) = &callee.kind else {
            return bad(self, callee.span);
        };
        let positional: Vec<&Expr> =
            args.iter().filter(|a| a.name.is_none()).map(|a| &a.value).collect();
        let named: Vec<(&Ident, &Expr)> =
            args.iter().filter_map(|a| a.name.as_ref().map(|n| (n, &a.value))).collect();
        let (format, takes_path) = match name.name.as_str() {
            "jsonl" => (SinkFormat::Jsonl, true),
            "csv" => (SinkFormat::Csv, true),
            "lines" => (SinkFormat::Lines, true),
            "stdout" => (SinkFormat::Stdout, false),
            "discard" => (SinkFormat::Discard, false),
            other => {
                let names = ["jsonl", "csv", "lines", "stdout", "discard"];
                let habit = match other {
                    "print" | "println" | "console" | "display" | "show" => Some("stdout"),
                    _ => None,
                };
                let help = match habit.or_else(|| super::suggest::closest(other, names.into_iter()))
                {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a sink writes to {SINKS}"),
                };
                self.report(
                    Diagnostic::new(
                        codes::E0305,
                        name.span,
                        format!("unknown sink target `{other}`"),
                    )
                    .label("not a sink")
                    .help(help),
                );
                return None;
            }
        };
        let n = usize::from(takes_path);
        let what = format!("`{}`", name.name);
        if !self.arity(name.span, &what, &positional, &named, n, n) {
            return None;
        }
        let path = positional.first().map(|p| self.check_expr_as(p, &Ty::Str));
        Some((format, path))
    }
}
