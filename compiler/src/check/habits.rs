//! Habits from other languages that parse but mean something else in Kiln: method calls
//! (`r.name.lower()`, `rs.filter(...)`) and properties (`s.length`). Each is reported with
//! the Kiln way to write it, and checked as that so nothing cascades.

use super::Checker;
use super::hir::TExpr;
use super::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Ident};

impl Checker<'_> {
    /// `obj.method(args)`: a call of a field that holds no function. When `method` is a
    /// builtin (or a name from another language for one), reports E0209 with the pipe form
    /// and checks the call as `method(obj, args)`.
    pub(super) fn method_call(
        &mut self,
        obj: &Expr,
        method: &Ident,
        args: Vec<&Expr>,
        named: Vec<(&Ident, &Expr)>,
        span: Span,
        expected: Option<&Ty>,
    ) -> TExpr {
        let o = self.infer(obj, None);
        let is_field =
            matches!(&o.ty, Ty::Record(fs) if fs.iter().any(|f| *f.name == *method.name));
        let builtin = crate::builtins::lookup(&method.name)
            .map(|b| b.name)
            .or_else(|| super::suggest::habit(&method.name));
        let (false, Some(func), false) = (is_field, builtin, o.ty.is_error()) else {
            let callee_span = obj.span.to(method.span);
            let c = self.field(o, method, callee_span);
            if !c.ty.has_error() {
                self.report(
                    Diagnostic::new(
                        codes::E0203,
                        callee_span,
                        format!("`{}` is not a function", c.ty),
                    )
                    .label("called here"),
                );
            }
            self.check_args_leniently(&args);
            return TExpr::error(span);
        };
        let x = path_text(obj).unwrap_or_else(|| "x".to_string());
        let more = if args.is_empty() && named.is_empty() { "" } else { ", ..." };
        let dots = if args.is_empty() && named.is_empty() { "" } else { "(...)" };
        let help = if matches!(o.ty, Ty::Stream(_)) {
            format!("stream operators are applied with `|>`: write `{x} |> {func}{dots}`")
        } else {
            format!("call the function: write `{x} |> {func}{dots}` or `{func}({x}{more})`")
        };
        self.report(
            Diagnostic::new(
                codes::E0209,
                method.span,
                format!("`.{}()` is a method call, and Kiln has no methods", method.name),
            )
            .label(if func == method.name {
                format!("`{func}` is a function, not a field")
            } else {
                format!("the Kiln function is `{func}`")
            })
            .help(help),
        );
        if func != method.name {
            self.check_args_leniently(&args);
            return TExpr::error(span);
        }
        // Checked as `method(obj, args)`: the arguments' own problems are reported and the
        // result has its real type.
        let mut all = vec![obj];
        all.extend(args);
        let callee = Expr { kind: ExprKind::Name(method.clone()), span: method.span };
        self.call(&callee, all, named, span, expected)
    }

    /// `s.length`, `xs.size`: a property from another language on a value that is not a
    /// record; the help names the function to call.
    pub(super) fn property_help(&self, name: &str, obj: Option<&Expr>) -> Option<String> {
        let func = crate::builtins::lookup(name)
            .map(|b| b.name)
            .or_else(|| super::suggest::habit(name))?;
        let x = obj.and_then(path_text).unwrap_or_else(|| "x".to_string());
        Some(format!("Kiln has no methods or properties: write `{func}({x})` or `{x} |> {func}`"))
    }
}

/// The source form of a name or field path (`r.name`), for help messages.
fn path_text(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(id) => Some(id.name.clone()),
        ExprKind::Field(inner, f) => Some(format!("{}.{}", path_text(inner)?, f.name)),
        _ => None,
    }
}
