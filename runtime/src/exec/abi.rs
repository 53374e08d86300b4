//! The contract between generated row functions and the executor.
//!
//! A *row* is a pointer to one value laid out as in [`crate::layout`] for the node's element
//! type (a record: its fields; a `str` element: a `KStr`; an `int` element: an `i64`).
//! Generated code allocates output rows (and their strings, lists, vectors) in the chunk's
//! arena with `kiln_arena_alloc(ctx.arena, size, align)`; they stay valid until the executor
//! resets that arena after the chunk.
//!
//! A stage function takes one row and emits zero or more rows with [`kiln_emit`]; it
//! returns 0, or 1 after [`kiln_fail`] recorded the failing site and message. Rows emitted
//! before a failure are kept (a fused `flat_map` then `map` whose map fails on the second
//! element still passes the first on, as in the interpreter).

use crate::arena::Arena;
use crate::layout::KStr;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What generated code receives for every call.
#[repr(C)]
pub struct RowCtx {
    /// The per-chunk arena; allocate with `kiln_arena_alloc(ctx.arena, size, align)`.
    pub arena: *mut Arena,
    /// Where `kiln_emit` pushes; opaque to generated code.
    pub out: *mut Vec<*const u8>,
    /// Set by `kiln_fail`: an index into `Plan::sites`.
    pub err_site: u32,
    /// Set by `kiln_fail`: the message (copied into the arena).
    pub err_msg: KStr,
    /// Failures kept with `kiln_fail_keep` by a stage function that went on after them
    /// (the other elements of a `flat_map`), in order, each with its `err_op`; null when
    /// the caller keeps none. The row's failure is then all of them (the last one is also
    /// in `err_*`).
    pub fails: *mut Vec<(u32, KStr, u32)>,
    /// Set by a stage function's failure path: the index, in its fused chain, of the
    /// operator that failed (failures of one record are reported operator by operator).
    pub err_op: u32,
    /// The run's parameter block ([`super::plan::ParamBlock`]): generated code reads each
    /// `param` from it, so one compiled program runs with any param values.
    pub params: *const u8,
}

/// One element in, zero or more out (via `kiln_emit`). 0 = ok, 1 = the element failed
/// (`err_*` set).
pub type StageFn = unsafe extern "C" fn(ctx: *mut RowCtx, row: *const u8) -> u32;

/// Writes one value of a known type at `out` (for `group_by`: a record `{key, a0, a1, ...}`).
/// 0 ok / 1 failed (`err_*` set). `out` is zeroed and aligned for the type.
pub type ProjFn = unsafe extern "C" fn(ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32;

/// Emits one output row (a pointer to a value of the stage's output type, alive until the
/// chunk's arena is reset).
///
/// # Safety
/// `ctx` must be the context the executor passed to the running stage function (or null,
/// which does nothing).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_emit(ctx: *mut RowCtx, row: *const u8) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: per the contract `ctx` is the live context of the current call, and its `out`
    // is null or the executor's vector, not otherwise borrowed during the call.
    let out = unsafe { (*ctx).out };
    if out.is_null() {
        return;
    }
    // Pushing can only fail by running out of memory; nothing unwinds into generated code.
    // SAFETY: `out` is the executor's live vector (see above).
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { (*out).push(row) }));
}

/// Records a failure of the current row at `site` with the message `msg[..len]` (UTF-8,
/// copied into the arena) and returns 1, so generated code can `return kiln_fail(...)`.
///
/// # Safety
/// `ctx` as for [`kiln_emit`]; `msg` must address `len` readable bytes (or be null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_fail(ctx: *mut RowCtx, site: u32, msg: *const u8, len: usize) -> u32 {
    if ctx.is_null() {
        return 1;
    }
    // SAFETY: `ctx` is the live context of the current call (see `kiln_emit`).
    let ctx = unsafe { &mut *ctx };
    ctx.err_site = site;
    ctx.err_msg = KStr { ptr: std::ptr::null(), len: 0 };
    if msg.is_null() || len == 0 || ctx.arena.is_null() {
        return 1;
    }
    // SAFETY: the caller passes `len` readable bytes at `msg`.
    let text = unsafe { std::slice::from_raw_parts(msg, len) };
    // SAFETY: `ctx.arena` is the executor's live arena for this chunk, not borrowed
    // elsewhere during the call.
    let p = unsafe { (*ctx.arena).alloc_copy(text) };
    if !p.is_null() {
        ctx.err_msg = KStr { ptr: p, len: len as u64 };
    }
    1
}

/// Keeps the failure `kiln_fail` recorded last (in `ctx.err_*`) in `ctx.fails`, before
/// generated code goes on with the row (the next element of a `flat_map`).
///
/// # Safety
/// `ctx` as for [`kiln_emit`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_fail_keep(ctx: *mut RowCtx) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: `ctx` is the live context of the current call (see `kiln_emit`).
    let ctx = unsafe { &mut *ctx };
    if !ctx.fails.is_null() {
        let f = (ctx.err_site, ctx.err_msg, ctx.err_op);
        // Pushing can only fail by running out of memory; nothing unwinds.
        // SAFETY: `fails` is null or the executor's live vector, not otherwise borrowed
        // during the call.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { (*ctx.fails).push(f) }));
    }
}

/// Calls the forward pass `f` of an agent on one input vector (`k` floats at `x`),
/// writing its `m` outputs at `y`: 0, or 1 when the pass fails (a shape mismatch).
///
/// # Safety
/// `f` addresses a live [`super::AgentFn`]; `x` holds `k` readable floats and `y` room for
/// `m`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_agent_call(
    f: *const super::AgentFn,
    x: *const f32,
    k: u64,
    y: *mut f32,
    m: u64,
) -> u32 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let (f, xs, ys) = unsafe {
            (
                &*f,
                std::slice::from_raw_parts(x, k as usize),
                std::slice::from_raw_parts_mut(y, m as usize),
            )
        };
        f(xs, ys, 1)
    }));
    u32::from(!matches!(r, Ok(true)))
}

/// The executor's C ABI functions with their addresses, for `JITBuilder::symbol` (also
/// included in [`crate::io::ffi::c_symbols`]).
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_emit", kiln_emit as *const u8),
        ("kiln_fail", kiln_fail as *const u8),
        ("kiln_fail_keep", kiln_fail_keep as *const u8),
        ("kiln_fail_at", super::fail::kiln_fail_at as *const u8),
        ("kiln_agent_call", kiln_agent_call as *const u8),
    ]
}

/// The message recorded by `kiln_fail`, as text.
pub(crate) fn failure_message(ctx: &RowCtx) -> String {
    if ctx.err_msg.ptr.is_null() || ctx.err_msg.len == 0 {
        return String::new();
    }
    // SAFETY: `err_msg` was set by `kiln_fail` to bytes copied into the still-live arena.
    let b = unsafe { std::slice::from_raw_parts(ctx.err_msg.ptr, ctx.err_msg.len as usize) };
    String::from_utf8_lossy(b).into_owned()
}
