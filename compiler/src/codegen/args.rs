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
use crate::diag::render::human::span;
use crate::ir::RowFn;
use crate::source::SourceMap;
use cranelift_module::Module;
use kiln_runtime::exec::arg::ArgValue;
use kiln_runtime::program::{ArgSpec, PathSpec};
use std::rc::Rc;

/// Compiles argument `e` (a scalar: `int`, `bool` or `str`); `name` names its function.
pub fn arg<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    name: &str,
    e: &TExpr,
) -> Result<ArgSpec, String> {
    match &e.kind {
        TExprKind::Int(n) => return Ok(ArgSpec::Known(ArgValue::Int(*n))),
        TExprKind::Bool(b) => return Ok(ArgSpec::Known(ArgValue::Bool(*b))),
        TExprKind::Str(s) => return Ok(ArgSpec::Known(ArgValue::Str(s.to_string()))),
        TExprKind::Float(x) => return Ok(ArgSpec::Known(ArgValue::Float(*x))),
        TExprKind::Null => return Ok(ArgSpec::Known(ArgValue::Null)),
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
    let ty = desc(&e.ty).ok_or_else(|| format!("an argument of type `{}`", e.ty))?;
    let f = sh.fn_ref(id);
    Ok(ArgSpec::Compiled { f, ty, span: span(e.span) })
}

/// Compiles path argument `e` of a source or sink declared in the file of `e`'s span.
pub fn path<M: Module>(
    sh: &mut Shared<'_, '_, M>,
    map: &SourceMap,
    name: &str,
    e: &TExpr,
) -> Result<PathSpec, String> {
    let arg = arg(sh, name, e)?;
    let mut params = Vec::new();
    visit(e, &mut |x| {
        if let TExprKind::Global(Global::Param(i)) = x.kind {
            params.push(i);
        }
    });
    let file = std::path::Path::new(&map.get(e.span.file).name);
    let dir = file.parent().map(|d| d.display().to_string()).unwrap_or_default();
    Ok(PathSpec { arg, dir, params })
}
