//! The model client as compiled code reaches it: the run's [`Client`] is made active
//! before the run starts, and `kiln_model_complete` calls it from a row function.

use super::request::Schema;
use super::{Call, Client, Settings};
use crate::arena::Arena;
use crate::exec::abi::{RowCtx, kiln_fail};
use crate::io::JsonDecoder;
use crate::layout::KStr;
use crate::layout::TypeDesc;
use std::cell::RefCell;
use std::sync::{Arc, RwLock};

static ACTIVE: RwLock<Option<Arc<Client>>> = RwLock::new(None);

/// Makes `c` the client compiled code calls (none: calls fail).
pub fn set_active(c: Option<Arc<Client>>) {
    *ACTIVE.write().unwrap_or_else(|p| p.into_inner()) = c;
}

fn active() -> Option<Arc<Client>> {
    ACTIVE.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The words that start the message of a failed model call (both engines).
pub const FAILED: &str = "the language-model call failed";

/// The row compiled code is running on this thread, for the trace's `record` and `stage`:
/// set by the executor around each row function call while the run traces ([`tracing`]).
struct Row {
    source: Arc<str>,
    line: u64,
    /// The plan node's name, and its fused parts: (first operator, stage name).
    name: String,
    parts: Vec<(u32, String)>,
}

thread_local! {
    static ROW: RefCell<Option<Row>> = const { RefCell::new(None) };
}

/// Whether the active client writes a trace (then the executor names the row each call
/// is for, with [`set_row`]).
pub fn tracing() -> bool {
    active().is_some_and(|c| c.traces())
}

/// The row the model calls made on this thread are for, until the next `set_row` or
/// [`clear_row`]: read from `source` at `line`, in the plan node `name` whose fused
/// operators from `first` on belong to stage `part` (`parts`: (first, part), in order).
pub fn set_row(source: &Arc<str>, line: u64, name: &str, parts: &[(u32, String)]) {
    ROW.with(|r| {
        let mut r = r.borrow_mut();
        match &mut *r {
            Some(x) if x.name == name && x.parts == parts => {
                x.source = source.clone();
                x.line = line;
            }
            _ => {
                *r = Some(Row {
                    source: source.clone(),
                    line,
                    name: name.to_string(),
                    parts: parts.to_vec(),
                })
            }
        }
    });
}

/// No row any more (see [`set_row`]).
pub fn clear_row() {
    ROW.with(|r| *r.borrow_mut() = None);
}

/// The trace's `record` (`path:line`, as the interpreter writes it) and `stage` of a call
/// made by operator `op` of the row set by [`set_row`]; empty when none is set.
fn row_names(op: u32) -> (String, String) {
    ROW.with(|r| match &*r.borrow() {
        Some(x) => {
            let stage =
                x.parts.iter().rev().find(|(first, _)| *first <= op).map_or(&x.name, |p| &p.1);
            (format!("{}:{}", x.source, x.line), stage.clone())
        }
        None => (String::new(), String::new()),
    })
}

/// [`row_names`] for the operator compiled code recorded in `ctx` (stage functions write
/// it before an operator that may call a model); empty when `client` writes no trace.
///
/// # Safety
/// `ctx` is null or a live [`RowCtx`].
unsafe fn names_at(client: &Client, ctx: *const RowCtx) -> (String, String) {
    if !client.traces() {
        return Default::default();
    }
    // SAFETY: per the contract.
    let op = unsafe { ctx.as_ref() }.map_or(0, |c| c.err_op);
    row_names(op)
}

/// A prompt's settings as compiled code passes them: `temperature` NaN and `max_tokens`
/// 0 are unset.
fn settings_of(temperature: f64, max_tokens: u64) -> Settings {
    Settings {
        temperature: (!temperature.is_nan()).then_some(temperature),
        max_tokens: (max_tokens > 0).then_some(max_tokens),
    }
}

/// `complete(prompt, model: name)`: writes the answer (copied into the row's arena) at
/// `out` and returns 0, or records the row's failure at `site` (as `kiln_fail`) and
/// returns 1. `temperature` (NaN: none) and `max_tokens` (0: none) are the prompt file's
/// front matter settings, which win over the model's.
///
/// # Safety
/// `ctx` as for `kiln_fail`; `name` and `prompt` address `name_len` and `prompt_len`
/// readable bytes of UTF-8; `out` has room for a [`KStr`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_model_complete(
    ctx: *mut RowCtx,
    site: u32,
    temperature: f64,
    max_tokens: u64,
    name: *const u8,
    name_len: u64,
    prompt: *const u8,
    prompt_len: u64,
    out: *mut KStr,
) -> u32 {
    // SAFETY: per the contract.
    let text = |p: *const u8, n: u64| unsafe { text(p, n) };
    let r = std::panic::catch_unwind(|| {
        let Some(client) = active() else {
            return Err("no model client is active for this run".to_string());
        };
        // SAFETY: `ctx` per the contract.
        let (record, stage) = unsafe { names_at(&client, ctx) };
        let call = Call {
            model: text(name, name_len),
            prompt: text(prompt, prompt_len),
            schema: None,
            settings: settings_of(temperature, max_tokens),
            record: &record,
            stage: &stage,
        };
        client.complete(&call)
    })
    .unwrap_or_else(|_| Err("internal error in the model client".to_string()));
    match r {
        Ok(answer) => {
            if ctx.is_null() {
                return 1;
            }
            // SAFETY: `ctx` is live and not null (contract); its arena is this chunk's.
            let arena: *mut Arena = unsafe { (*ctx).arena };
            if arena.is_null() {
                return 1;
            }
            // SAFETY: the arena is live and not otherwise borrowed during the call.
            let p = unsafe { (*arena).alloc_copy(answer.as_bytes()) };
            if p.is_null() && !answer.is_empty() {
                let m = "out of memory for the model's answer";
                // SAFETY: `ctx` per the contract; `m` is a live string.
                return unsafe { kiln_fail(ctx, site, m.as_ptr(), m.len()) };
            }
            // SAFETY: `out` has room for a KStr (contract).
            unsafe { out.write(KStr { ptr: p, len: answer.len() as u64 }) };
            0
        }
        Err(m) => {
            let m = format!("{FAILED}: {m}");
            // SAFETY: `ctx` per the contract; `m` is a live string.
            unsafe { kiln_fail(ctx, site, m.as_ptr(), m.len()) }
        }
    }
}

/// # Safety
/// Unless null or `len == 0`, `p` addresses `len` readable bytes valid for `'a`.
unsafe fn text<'a>(p: *const u8, len: u64) -> &'a str {
    if p.is_null() || len == 0 {
        return "";
    }
    // SAFETY: per the caller's contract.
    let b = unsafe { std::slice::from_raw_parts(p, len as usize) };
    std::str::from_utf8(b).unwrap_or("")
}

/// A typed prompt's call site: the schema asked for and the decoder of the answer. Built
/// by the program loader from [`crate::program::Kept::Typed`]; compiled code passes its
/// address (read from the kept table) to [`kiln_model_typed`].
pub struct Typed {
    schema: Schema,
    settings: Settings,
    decoder: JsonDecoder,
    /// The type as the source writes it, for messages.
    shown: String,
}

impl Typed {
    /// Answers asked for with `schema` and decoded into values of `ty` (shown as `shown`
    /// in messages).
    pub fn new(schema: Schema, settings: Settings, ty: &TypeDesc, shown: String) -> Typed {
        Typed { schema, settings, decoder: JsonDecoder::new(ty), shown }
    }
}

/// The message of an answer that does not decode into the prompt's type (both engines).
pub fn not_fitting(model: &str, shown: &str, why: &str) -> String {
    format!("{FAILED}: the answer of model `{model}` is not a `{shown}`: {why}")
}

/// A typed prompt's model call: asks model `name` for `prompt` in the form of the schema of
/// typed prompt `typed` and decodes the answer into `out` (room for a value of the type, in the
/// row's arena): 0, or 1 with the row's failure recorded at `site`.
///
/// # Safety
/// As [`kiln_model_complete`]; `typed` is null or points to a live [`Typed`]; `out` has
/// room, aligned, for a value of its type.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_model_typed(
    ctx: *mut RowCtx,
    site: u32,
    typed: *const Typed,
    name: *const u8,
    name_len: u64,
    prompt: *const u8,
    prompt_len: u64,
    out: *mut u8,
) -> u32 {
    let fail = move |m: String| {
        // SAFETY: `ctx` per the contract; `m` is a live string.
        unsafe { kiln_fail(ctx, site, m.as_ptr(), m.len()) }
    };
    if ctx.is_null() || out.is_null() {
        return 1;
    }
    // SAFETY: per the contract.
    let (model, prompt) = unsafe { (text(name, name_len), text(prompt, prompt_len)) };
    // SAFETY: null or a live `Typed` (contract).
    let Some(typed) = (unsafe { typed.as_ref() }) else {
        return fail(format!("{FAILED}: no typed prompt"));
    };
    let answer = std::panic::catch_unwind(|| {
        let Some(client) = active() else {
            return Err("no model client is active for this run".to_string());
        };
        // SAFETY: `ctx` per the contract.
        let (record, stage) = unsafe { names_at(&client, ctx) };
        let call = Call {
            model,
            prompt,
            schema: Some(&typed.schema),
            settings: typed.settings,
            record: &record,
            stage: &stage,
        };
        client.complete(&call)
    })
    .unwrap_or_else(|_| Err("internal error in the model client".to_string()));
    let answer = match answer {
        Ok(a) => a,
        Err(m) => return fail(format!("{FAILED}: {m}")),
    };
    // SAFETY: `ctx` is live (contract); its arena is this chunk's, not otherwise borrowed.
    let arena = unsafe { &mut *(*ctx).arena };
    // The decoded strings may point into the text: it lives in the arena with the row.
    let p = arena.alloc_copy(answer.as_bytes());
    if p.is_null() && !answer.is_empty() {
        return fail("out of memory for the model's answer".to_string());
    }
    // SAFETY: just copied, `answer.len()` bytes in the arena.
    let line = unsafe { std::slice::from_raw_parts(p.cast_const(), answer.len()) };
    // SAFETY: `out` has room for the type (contract).
    let dst = unsafe { std::slice::from_raw_parts_mut(out, typed.decoder.size()) };
    match typed.decoder.decode(line, dst, arena) {
        Ok(()) => 0,
        Err(e) => fail(not_fitting(model, &typed.shown, &e.to_string())),
    }
}

/// The symbols compiled code imports from this module, for the JIT.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_model_complete", kiln_model_complete as *const u8),
        ("kiln_model_typed", kiln_model_typed as *const u8),
    ]
}
