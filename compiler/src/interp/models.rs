//! `complete` on the interpreter: the call goes through the run's model client
//! ([`kiln_runtime::model::Client`], the one compiled code uses too); a failed call is an
//! error of the record being processed (E0614), which names the record like every other.

use super::eval::Interp;
use super::value::Value;
use super::{EvalError, R};
use crate::check::hir::TExpr;
use crate::diag::codes;
use kiln_runtime::model::request::Schema;
use kiln_runtime::model::{Call, Client, Settings};
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

use kiln_runtime::model::ffi::{FAILED, not_fitting};

/// The answer of typed prompt `i` (LANGUAGE.md §4.1) to its rendered text: its model's
/// answer, asked for in the form of the type's JSON Schema, decoded as a `jsonl` source
/// decodes a line. A prompt without a result type returns its text.
pub fn typed_answer(cx: &mut Interp, i: usize, rendered: Value, e: &TExpr) -> R<Value> {
    let Some(def) = cx.p.prompts.get(i) else { return Ok(rendered) };
    let Some((ty, model)) = def.typed.clone() else { return Ok(rendered) };
    let Value::Str(prompt) = rendered else {
        return Err(EvalError::internal(e.span, "a prompt rendered no text"));
    };
    let schema = Schema { name: def.name.to_string(), schema: crate::check::schema::schema(&ty) };
    let settings = def.settings;
    let text = ask(cx, &model, &prompt, Some(&schema), settings, e)?;
    super::input::decode_json(&text, &ty)
        .map_err(|m| EvalError::new(codes::E0614, e.span, not_fitting(&model, &ty.to_string(), &m)))
}

/// One call through the run's client; a failure is the record's error.
fn ask(
    cx: &Interp,
    model: &str,
    prompt: &str,
    schema: Option<&Schema>,
    settings: Settings,
    e: &TExpr,
) -> R<String> {
    let Some(run) = &cx.models else {
        // The REPL and constant evaluation have no model client.
        return Err(EvalError::unsupported(e.span, "calling a language model outside `kiln run`"));
    };
    let record = format!("{}:{}", run.source, run.line);
    let call = Call { model, prompt, schema, settings, record: &record, stage: &run.stage };
    run.client
        .complete(&call)
        .map_err(|m| EvalError::new(codes::E0614, e.span, format!("{FAILED}: {m}")))
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
    let model = crate::builtins::complete::model_name(named);
    let settings = crate::builtins::complete::settings(&cx.p.prompts, args.first());
    ask(cx, model, &prompt, None, settings, e).map(|t| Value::str(&t))
}
