//! Param values: `--param NAME=VALUE` wins over the environment variable
//! `KILN_PARAM_<NAME>` (the name as declared, or upper-cased), which wins over the default.
//! Values are parsed as the param's type (`int`: a decimal integer, `float`: a decimal
//! number, `bool`: `true`/`false`, `str`: the text as is; for `T?` the text `null` is null).

use super::Interp;
use super::text;
use super::value::Value;
use crate::check::types::Ty;
use crate::diag::{Diagnostic, codes};
use crate::ir::Pipeline;

pub enum ParamError {
    /// Bad command-line usage (an unknown param name): exit 2.
    Usage(String),
    /// A missing or invalid value, reported at the param's declaration: exit 1.
    Diag(Box<Diagnostic>),
}

/// Resolves every param of `p`. `env` looks up environment variables.
pub fn resolve(
    p: &Pipeline,
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Value>, ParamError> {
    for (name, _) in cli {
        if !p.params.iter().any(|d| *d.name == **name) {
            let known: Vec<String> = p.params.iter().map(|d| format!("`{}`", d.name)).collect();
            let have = if known.is_empty() {
                "the pipeline declares no params".to_string()
            } else {
                format!("the params are {}", known.join(", "))
            };
            return Err(ParamError::Usage(format!("no param named `{name}`: {have}")));
        }
    }
    let mut cx = Interp::new(p, Vec::new());
    let mut out = Vec::with_capacity(p.params.len());
    for d in &p.params {
        let from_cli = cli.iter().rev().find(|(n, _)| *n == *d.name).map(|(_, v)| v.clone());
        let upper = format!("KILN_PARAM_{}", d.name.to_uppercase());
        let exact = format!("KILN_PARAM_{}", d.name);
        let from_env = env(&exact)
            .map(|v| (exact.clone(), v))
            .or_else(|| env(&upper).map(|v| (upper.clone(), v)));
        let (text, origin) = match (from_cli, from_env) {
            (Some(v), _) => (v, format!("--param {}", d.name)),
            (None, Some((var, v))) => (v, format!("the environment variable {var}")),
            (None, None) => match &d.default {
                Some(e) => {
                    let v = cx.eval(e).map_err(|err| {
                        ParamError::Diag(Box::new(
                            Diagnostic::new(err.code, err.span, err.message).label("fails here"),
                        ))
                    })?;
                    out.push(v);
                    continue;
                }
                None => {
                    return Err(ParamError::Diag(Box::new(
                        Diagnostic::new(
                            codes::E0307,
                            d.span,
                            format!("param `{}` has no default and no value was given", d.name),
                        )
                        .label("declared without a default")
                        .help(format!(
                            "pass `--param {}=VALUE` or set the environment variable KILN_PARAM_{}",
                            d.name,
                            d.name.to_uppercase()
                        )),
                    )));
                }
            },
        };
        match parse(&text, &d.ty) {
            Ok(v) => out.push(v),
            Err(why) => {
                return Err(ParamError::Diag(Box::new(
                    Diagnostic::new(
                        codes::E0609,
                        d.span,
                        format!("invalid value for param `{}`: {why} (from {origin})", d.name),
                    )
                    .label(format!("declared as `{}`", d.ty)),
                )));
            }
        }
    }
    Ok(out)
}

fn describe(ty: &Ty) -> String {
    match ty {
        Ty::Int => "an integer".into(),
        Ty::Float => "a number".into(),
        Ty::Bool => "`true` or `false`".into(),
        Ty::Str => "text".into(),
        Ty::Optional(t) => format!("{} or `null`", describe(t)),
        other => format!("`{other}`"),
    }
}

/// Parses a param value as `ty`; `Err` says why it is not one.
pub fn parse(s: &str, ty: &Ty) -> Result<Value, String> {
    parse_as(s, ty, ty)
}

/// [`parse`], where `declared` is the param's whole type (for the message).
fn parse_as(s: &str, ty: &Ty, declared: &Ty) -> Result<Value, String> {
    let bad = || format!("expected {}, found \"{}\"", describe(declared), text::shorten(s));
    let range = |what: &str| format!("{} is out of range for {what}", text::shorten(s.trim()));
    Ok(match ty {
        Ty::Optional(_) if s.trim() == "null" => Value::Null,
        Ty::Optional(t) => parse_as(s, t, declared)?,
        Ty::Int => Value::Int(text::parse_int(s).map_err(|e| match e {
            text::NumErr::OutOfRange => {
                range(&format!("int, which holds {} to {}", i64::MIN, i64::MAX))
            }
            text::NumErr::NotANumber => bad(),
        })?),
        Ty::Float => Value::Float(text::parse_float(s).map_err(|e| match e {
            text::NumErr::OutOfRange => range("float"),
            text::NumErr::NotANumber => bad(),
        })?),
        Ty::Bool => match s.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Ty::Str => Value::str(s),
        _ => return Err(bad()),
    })
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
