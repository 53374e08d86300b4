//! Param values (LANGUAGE.md §1.2): `--param NAME=VALUE` wins over the environment
//! variable `KILN_PARAM_<NAME>` (the name as declared, or upper-cased), which wins over the
//! default. Values are parsed as the param's type (`int`: a decimal integer, `float`: a
//! decimal number, `bool`: `true`/`false`, `str`: the text as is; for `T?` the text `null`
//! is null). Both engines and built executables resolve params here.

use super::ParamSpec;
use super::report::Report;
use crate::exec::ParamValue;
use crate::layout::TypeDesc;
use crate::textdef::{self, NumErr};

pub enum ParamError {
    /// Bad command-line usage (an unknown param name): exit 2.
    Usage(String),
    /// A missing or invalid value, reported at the param's declaration: exit 1.
    Report(Box<Report>),
}

/// Resolves every param of `params`. `env` looks up environment variables; `default(i)`
/// computes param `i`'s default (it has one).
pub fn resolve(
    params: &[ParamSpec],
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
    default: &mut dyn FnMut(usize) -> Result<ParamValue, Box<Report>>,
) -> Result<Vec<ParamValue>, ParamError> {
    for (name, _) in cli {
        if !params.iter().any(|d| d.name == *name) {
            let known: Vec<String> = params.iter().map(|d| format!("`{}`", d.name)).collect();
            let have = if known.is_empty() {
                "the pipeline declares no params".to_string()
            } else {
                format!("the params are {}", known.join(", "))
            };
            return Err(ParamError::Usage(format!("no param named `{name}`: {have}")));
        }
    }
    let mut out = Vec::with_capacity(params.len());
    for (i, d) in params.iter().enumerate() {
        let from_cli = cli.iter().rev().find(|(n, _)| *n == d.name).map(|(_, v)| v.clone());
        let upper = format!("KILN_PARAM_{}", d.name.to_uppercase());
        let exact = format!("KILN_PARAM_{}", d.name);
        let from_env = env(&exact)
            .map(|v| (exact.clone(), v))
            .or_else(|| env(&upper).map(|v| (upper.clone(), v)));
        let (text, origin) = match (from_cli, from_env) {
            (Some(v), _) => (v, format!("--param {}", d.name)),
            (None, Some((var, v))) => (v, format!("the environment variable {var}")),
            (None, None) if d.default.is_some() => {
                out.push(default(i).map_err(ParamError::Report)?);
                continue;
            }
            (None, None) => {
                return Err(ParamError::Report(Box::new(
                    Report::error(
                        "E0307",
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
        };
        match parse(&text, &d.ty) {
            Ok(v) => out.push(v),
            Err(why) => {
                return Err(ParamError::Report(Box::new(
                    Report::error(
                        "E0609",
                        d.span,
                        format!("invalid value for param `{}`: {why} (from {origin})", d.name),
                    )
                    .label(format!("declared as `{}`", d.shown_ty)),
                )));
            }
        }
    }
    Ok(out)
}

fn describe(ty: &TypeDesc) -> String {
    match ty {
        TypeDesc::Int => "an integer".into(),
        TypeDesc::Float => "a number".into(),
        TypeDesc::Bool => "`true` or `false`".into(),
        TypeDesc::Str => "text".into(),
        TypeDesc::Optional(t) => format!("{} or `null`", describe(t)),
        other => format!("`{other:?}`"),
    }
}

/// Parses a param value as `ty`; `Err` says why it is not one.
pub fn parse(s: &str, ty: &TypeDesc) -> Result<ParamValue, String> {
    parse_as(s, ty, ty)
}

/// [`parse`], where `declared` is the param's whole type (for the message).
fn parse_as(s: &str, ty: &TypeDesc, declared: &TypeDesc) -> Result<ParamValue, String> {
    let bad = || format!("expected {}, found \"{}\"", describe(declared), textdef::shorten(s));
    let range = |what: &str| format!("{} is out of range for {what}", textdef::shorten(s.trim()));
    Ok(match ty {
        TypeDesc::Optional(_) if s.trim() == "null" => ParamValue::Null,
        TypeDesc::Optional(t) => parse_as(s, t, declared)?,
        TypeDesc::Int => ParamValue::Int(textdef::parse_int(s).map_err(|e| match e {
            NumErr::OutOfRange => range(&format!("int, which holds {} to {}", i64::MIN, i64::MAX)),
            NumErr::NotANumber => bad(),
        })?),
        TypeDesc::Float => ParamValue::Float(textdef::parse_float(s).map_err(|e| match e {
            NumErr::OutOfRange => range("float"),
            NumErr::NotANumber => bad(),
        })?),
        TypeDesc::Bool => match s.trim() {
            "true" => ParamValue::Bool(true),
            "false" => ParamValue::Bool(false),
            _ => return Err(bad()),
        },
        TypeDesc::Str => ParamValue::Str(s.to_string()),
        _ => return Err(bad()),
    })
}

/// Per param: does its value come from the command line or the environment (rather than
/// its default)?
pub fn given(
    params: &[ParamSpec],
    cli: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<bool> {
    params
        .iter()
        .map(|d| {
            cli.iter().any(|(n, _)| *n == d.name)
                || env(&format!("KILN_PARAM_{}", d.name)).is_some()
                || env(&format!("KILN_PARAM_{}", d.name.to_uppercase())).is_some()
        })
        .collect()
}
