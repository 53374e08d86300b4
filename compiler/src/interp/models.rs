//! `complete` on the interpreter: the call goes through the run's model client
//! ([`kiln_runtime::model::Client`], the one compiled code uses too); a failed call is an
//! error of the record being processed (E0614), which names the record like every other.

use super::eval::Interp;
use super::value::Value;
use super::{EvalError, R};
use crate::check::hir::{TExpr, TExprKind};
use crate::diag::codes;
use kiln_runtime::model::{Call, Client};
use std::rc::Rc;
use std::sync::Arc;

/// The run's model client and the record being processed, for the trace.
pub struct ModelRun {
    pub client: Arc<Client>,
    /// The stage the current element is in.
    pub stage: Rc<str>,
    /// Where the current element came from: `path:line`.
    pub source: Rc<str>,
    pub line: u64,
}

use kiln_runtime::model::ffi::FAILED;

/// The model a `complete` call names (`default` when it names none).
pub fn model_name(named: &[(Rc<str>, TExpr)]) -> &str {
    named
        .iter()
        .find(|(n, _)| &**n == "model")
        .and_then(|(_, e)| match &e.kind {
            TExprKind::Str(s) => Some(&**s),
            _ => None,
        })
        .unwrap_or("default")
}

/// Evaluates `complete(prompt, model: "name")`.
pub fn complete(
    cx: &mut Interp,
    args: &[TExpr],
    named: &[(Rc<str>, TExpr)],
    e: &TExpr,
) -> R<Value> {
    let prompt = match args.first().map(|a| cx.eval(a)).transpose()? {
        Some(Value::Str(s)) => s,
        _ => return Err(EvalError::internal(e.span, "`complete` without a prompt")),
    };
    let model = model_name(named);
    let Some(run) = &cx.models else {
        return Err(EvalError::internal(e.span, "no model client for this run"));
    };
    let record = format!("{}:{}", run.source, run.line);
    let call = Call { model, prompt: &prompt, schema: None, record: &record, stage: &run.stage };
    match run.client.complete(&call) {
        Ok(text) => Ok(Value::str(&text)),
        Err(m) => Err(EvalError::new(codes::E0614, e.span, format!("{FAILED}: {m}"))),
    }
}
