//! The model client as compiled code reaches it: the run's [`Client`] is made active
//! before the run starts, and `kiln_model_complete` calls it from a row function.

use super::{Call, Client};
use crate::arena::Arena;
use crate::exec::abi::{RowCtx, kiln_fail};
use crate::layout::KStr;
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
            record: "",
            stage: "",
        };
        client.complete(&call)
    })
    .unwrap_or_else(|_| Err("internal error in the model client".to_string()));
    match r {
        Ok(answer) => {
            // SAFETY: `ctx` is live (contract); its arena is this chunk's.
            let arena: *mut Arena =
                if ctx.is_null() { std::ptr::null_mut() } else { unsafe { (*ctx).arena } };
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

/// The symbols compiled code imports from this module, for the JIT.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![("kiln_model_complete", kiln_model_complete as *const u8)]
}
