//! The model client as compiled code reaches it: the run's [`Client`] is made active
//! before the run starts, and `kiln_model_complete` calls it from a row function.

use super::request::Schema;
use super::{Call, Client, Settings};
use crate::arena::Arena;
use crate::exec::abi::{RowCtx, kiln_fail};
use crate::io::JsonDecoder;
use crate::layout::KStr;
use crate::layout::TypeDesc;
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

/// `complete(prompt, model: name)`: writes the answer (copied into the row's arena) at
/// `out` and returns 0, or records the row's failure at `site` (as `kiln_fail`) and
/// returns 1.
///
/// # Safety
/// `ctx` as for `kiln_fail`; `name` and `prompt` address `name_len` and `prompt_len`
/// readable bytes of UTF-8; `out` has room for a [`KStr`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_complete(
    ctx: *mut RowCtx,
    site: u32,
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
        let call = Call {
            model: text(name, name_len),
            prompt: text(prompt, prompt_len),
            schema: None,
            settings: Settings::default(),
            record: "",
            stage: "",
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
        let call = Call {
            model,
            prompt,
            schema: Some(&typed.schema),
            settings: typed.settings,
            record: "",
            stage: "",
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
