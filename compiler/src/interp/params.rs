//! Param values: `--param NAME=VALUE` wins over the environment variable
//! `KILN_PARAM_<NAME>` (the name as declared, or upper-cased), which wins over the default.
//! Values are parsed as the param's type (`int`: a decimal integer, `float`: a decimal
//! number, `bool`: `true`/`false`, `str`: the text as is; for `T?` the text `null` is null).

use super::Interp;
use super::value::Value;
use crate::check::types::Ty;
use crate::diag::Diagnostic;
use crate::ir::Pipeline;

pub enum ParamError {
    /// Bad command-line usage (an unknown param name): exit 2.
    Usage(String),
    /// A missing or invalid value, reported at the param's declaration: exit 1.
    Diag(Box<Diagnostic>),
}

/// The params of `p` as the runtime's resolver takes them (params are scalars or optional
/// scalars).
fn specs(p: &Pipeline) -> Vec<kiln_runtime::program::ParamSpec> {
    use kiln_runtime::layout::TypeDesc;
    fn desc(ty: &Ty) -> TypeDesc {
        match ty {
            Ty::Float => TypeDesc::Float,
            Ty::Bool => TypeDesc::Bool,
            Ty::Str => TypeDesc::Str,
            Ty::Optional(t) => TypeDesc::Optional(Box::new(desc(t))),
            _ => TypeDesc::Int,
        }
    }
    p.params
        .iter()
        .map(|d| kiln_runtime::program::ParamSpec {
            name: d.name.to_string(),
            ty: desc(&d.ty),
            shown_ty: d.ty.to_string(),
            span: crate::diag::render::human::span(d.span),
            // Only whether there is one matters here: the interpreter computes it.
            default: d.default.as_ref().map(|_| {
                kiln_runtime::program::ArgSpec::Known(kiln_runtime::exec::arg::ArgValue::Null)
            }),
            shown_default: None,
        })
        .collect()
}

/// Resolves every param of `p` with the runtime's resolver (the one built executables use,
/// so both say the same), defaults computed by the interpreter. `env` looks up
/// environment variables.
pub fn resolve(
    p: &Pipeline,
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Value>, ParamError> {
    use kiln_runtime::exec::ParamValue;
    use kiln_runtime::program::params::{ParamError as RtError, resolve as rt_resolve};
    let mut cx = Interp::new(p, Vec::new());
    let mut defaults: Vec<Option<Value>> = vec![None; p.params.len()];
    let mut default = |i: usize| {
        let e = p.params[i].default.as_ref().ok_or_else(|| {
            Box::new(kiln_runtime::program::load::ice("a param without a default"))
        })?;
        match cx.eval(e) {
            Ok(v) => {
                let rv = runtime_value(&v);
                defaults[i] = Some(v);
                Ok(rv)
            }
            Err(err) => {
                let d = Diagnostic::new(err.code, err.span, err.message).label("fails here");
                Err(Box::new(crate::diag::render::human::report(&d)))
            }
        }
    };
    let values = rt_resolve(&specs(p), cli, env, &mut default).map_err(|e| match e {
        RtError::Usage(m) => ParamError::Usage(m),
        RtError::Report(r) => {
            ParamError::Diag(Box::new(crate::diag::render::human::diagnostic(&r)))
        }
    })?;
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match (defaults[i].take(), v) {
            // A default keeps the interpreter's own value.
            (Some(d), _) => d,
            (None, ParamValue::Null) => Value::Null,
            (None, ParamValue::Int(n)) => Value::Int(n),
            (None, ParamValue::Float(x)) => Value::Float(x),
            (None, ParamValue::Bool(b)) => Value::Bool(b),
            (None, ParamValue::Str(s)) => Value::str(&s),
        })
        .collect())
}

/// Per param: does its value come from the command line or the environment (rather than
/// its default)?
pub fn given(
    p: &Pipeline,
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<bool> {
    p.params
        .iter()
        .map(|d| {
            cli.iter().any(|(n, _)| *n == *d.name)
                || env(&format!("KILN_PARAM_{}", d.name)).is_some()
                || env(&format!("KILN_PARAM_{}", d.name.to_uppercase())).is_some()
        })
        .collect()
}

/// A param's value as compiled code reads it from the parameter block (params are scalars
/// or optional scalars).
pub fn runtime_value(v: &Value) -> kiln_runtime::exec::ParamValue {
    use kiln_runtime::exec::ParamValue;
    match v {
        Value::Int(n) => ParamValue::Int(*n),
        Value::Float(x) => ParamValue::Float(*x),
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Str(s) => ParamValue::Str(s.to_string()),
        _ => ParamValue::Null,
    }
}
