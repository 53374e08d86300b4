//! Plan arguments: a source's or sink's path, a `range`'s bounds, the count of `take`,
//! `skip` or `batch`, `sort_by`'s `desc:`. A literal (the `fold` pass turns every closed
//! argument into one) is known when compiling; any other argument reads params and is
//! compiled to a function that [`kiln_runtime::exec::arg::eval_arg`] runs once when the
//! program starts, so one compiled program runs with any param values.

use super::layout::desc;
use super::module::Shared;
use super::stage::define_proj;
use crate::check::hir::{Global, LocalId, TExpr, TExprKind, visit};
use crate::check::types::{Field, Ty};
use crate::ir::RowFn;
use crate::source::{SourceMap, Span};
use cranelift_module::{FuncId, Module};
use kiln_runtime::exec::arg::ArgValue;
use std::rc::Rc;

/// An argument of the plan.
#[derive(Clone, Debug)]
pub enum Arg {
    Known(ArgValue),
    /// `f` writes `{v: T}` (`ty` is `T`); `span` is the argument's, for failures.
    Compiled {
        f: FuncId,
        ty: Ty,
        span: Span,
    },
}

/// A source's or sink's path: the argument, and how to resolve it (LANGUAGE.md §5.1:
/// relative to the declaring file's folder, unless the value came from a param given on
/// the command line or in the environment, which is relative to the current folder).
#[derive(Clone, Debug)]
pub struct PathArg {
    pub arg: Arg,
    /// The folder of the file that declares the source or sink.
    pub dir: String,
    /// The params the path reads.
    pub params: Vec<usize>,
}

impl PathArg {
    /// The path to open, given its value and which params were given from outside.
    pub fn resolve(&self, value: &str, given: &[bool]) -> String {
        let from_outside = self.params.iter().any(|&i| given.get(i).copied().unwrap_or(false));
        kiln_runtime::exec::arg::data_path(value, &self.dir, !from_outside)
    }
}

/// Compiles argument `e` (a scalar: `int`, `bool` or `str`); `name` names its function.
pub fn arg<M: Module>(sh: &mut Shared<'_, '_, M>, name: &str, e: &TExpr) -> Result<Arg, String> {
    match &e.kind {
        TExprKind::Int(n) => return Ok(Arg::Known(ArgValue::Int(*n))),
        TExprKind::Bool(b) => return Ok(Arg::Known(ArgValue::Bool(*b))),
        TExprKind::Str(s) => return Ok(Arg::Known(ArgValue::Str(s.to_string()))),
        _ => {}
    }
    let v = Field { name: Rc::from("v"), ty: e.ty.clone() };
    let out = Ty::Record(Rc::from(vec![v]));
    if desc(&out).is_none() {
        return Err(format!("an argument of type `{}`", e.ty));
    }
    // A function of no row: its parameter is a record of no fields, never read.
    let unit = Ty::Record(Rc::from(Vec::new()));
    let f = RowFn { param: LocalId(u32::MAX), param_ty: unit.clone(), body: e.clone() };
    let id = define_proj(sh, name, &unit, &[&f], &out)?;
    Ok(Arg::Compiled { f: id, ty: e.ty.clone(), span: e.span })
}

/// Compiles path argument `e` of a source or sink declared in the file of `e`'s span.
pub fn path<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    map: &SourceMap,
    name: &str,
    e: &TExpr,
) -> Result<PathArg, String> {
    let arg = arg(sh, name, e)?;
    let mut params = Vec::new();
    visit(e, &mut |x| {
        if let TExprKind::Global(Global::Param(i)) = x.kind {
            params.push(i);
        }
    });
    let file = std::path::Path::new(&map.get(e.span.file).name);
    let dir = file.parent().map(|d| d.display().to_string()).unwrap_or_default();
    Ok(PathArg { arg, dir, params })
}
