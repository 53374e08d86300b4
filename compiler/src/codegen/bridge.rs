//! Expressions that compiled code hands to the reference interpreter: the ones the code
//! generator does not translate natively yet, and the failure paths of native code (an
//! overflowing `+` re-evaluates its expression here, so the error message, code and span
//! are exactly the interpreter's).
//!
//! Generated code spills the expression's free locals into a record in memory and calls
//! [`kiln_bridge`], which reads them as values ([`super::values`]), evaluates the
//! expression with the interpreter and writes the result into the chunk's arena. The
//! interpreter's values and expression trees use `Rc`, which is not thread-safe, so every
//! bridged evaluation runs under one lock (see [`Locked`]): correct, but serial, which is
//! why hot expressions are compiled natively.

use super::values;
use crate::check::hir::{LocalId, TExpr};
use crate::check::types::Ty;
use crate::diag::Code;
use crate::interp::Interp;
use crate::source::Span;
use kiln_runtime::arena::Arena;
use kiln_runtime::exec::abi::{RowCtx, kiln_fail};
use std::sync::Mutex;

/// A failure site: what `RowCtx::err_site` indexes (shared by every compiled function).
#[derive(Clone, Debug)]
pub struct FailSite {
    pub code: Code,
    pub span: Span,
    /// The interpreter's message (without the location); empty when the runtime builds
    /// it (`kiln_fail_at`, aggregates).
    pub message: String,
    /// An expression's failure: its error records end with ` (at FILE:LINE:COL)`.
    pub located: bool,
}

/// An expression evaluated by the interpreter, with the layout of its inputs.
pub struct BridgeExpr {
    pub expr: TExpr,
    /// The free locals, each with its type and offset in the argument record.
    pub locals: Vec<(LocalId, Ty, usize)>,
}

/// Wraps what is only touched under [`Bridge`]'s lock.
pub struct Locked<T>(pub T);

// SAFETY: `Locked` values live only inside `Bridge::inner`'s mutex; every access (and so
// every `Rc` clone or drop inside the interpreter, the expression trees and the values
// made from them) happens while holding the lock, so no two threads touch the same `Rc`
// counts at once. The pipeline the interpreter borrows is not used by any other thread
// while a run is in progress (the compiler thread waits for the executor).
unsafe impl<T> Send for Locked<T> {}

pub struct Inner<'p> {
    pub interp: Interp<'p>,
    pub exprs: Vec<BridgeExpr>,
}

/// Everything compiled code may call back into, for one run.
pub struct Bridge<'p> {
    pub inner: Mutex<Locked<Inner<'p>>>,
    pub sites: Mutex<Vec<FailSite>>,
    /// When failing records go to the errors stream, their messages end with the failing
    /// expression's location, as the interpreter writes them.
    locations: Option<&'p crate::source::SourceMap>,
}

impl<'p> Bridge<'p> {
    pub fn new(interp: Interp<'p>, locations: Option<&'p crate::source::SourceMap>) -> Bridge<'p> {
        Bridge {
            inner: Mutex::new(Locked(Inner { interp, exprs: Vec::new() })),
            sites: Mutex::new(Vec::new()),
            locations,
        }
    }

    /// Registers an expression; returns its index for [`kiln_bridge`].
    pub fn add(&self, e: BridgeExpr) -> u32 {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.exprs.push(e);
        (g.0.exprs.len() - 1) as u32
    }

    pub fn site(&self, s: FailSite) -> u32 {
        let mut g = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        g.push(s);
        (g.len() - 1) as u32
    }

    pub fn site_at(&self, i: u32) -> Option<FailSite> {
        self.sites.lock().unwrap_or_else(|p| p.into_inner()).get(i as usize).cloned()
    }

    /// Evaluates expression `index` on the locals at `args`, writing the result at `out`.
    ///
    /// # Safety
    /// `args` holds the expression's locals as registered; `out` addresses the result
    /// type's size in writable bytes; `arena` is the chunk's live arena.
    unsafe fn call(
        &self,
        index: u32,
        args: *const u8,
        out: *mut u8,
        arena: &mut Arena,
    ) -> Result<(), FailSite> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut g.0;
        let Some(be) = inner.exprs.get(index as usize) else {
            let message = "internal error: unknown bridged expression".to_string();
            let site = FailSite {
                code: crate::diag::codes::E0611,
                span: Span::default(),
                message,
                located: false,
            };
            return Err(site);
        };
        let mut binds = Vec::with_capacity(be.locals.len());
        for (id, ty, off) in &be.locals {
            // SAFETY: generated code stored a value of `ty` at this offset.
            binds.push((*id, unsafe { values::read(ty, args.add(*off)) }));
        }
        let expr = be.expr.clone();
        let r = inner.interp.eval_with(&binds, &expr);
        match r {
            Ok(v) => {
                // SAFETY: per the caller, `out` holds a value of the expression's type.
                if unsafe { values::write(&expr.ty, &v, arena, out) } {
                    Ok(())
                } else {
                    let message = "out of memory".to_string();
                    Err(FailSite {
                        code: crate::diag::codes::E0611,
                        span: expr.span,
                        message,
                        located: false,
                    })
                }
            }
            Err(e) => {
                Err(FailSite { code: e.code, span: e.span, message: e.message, located: false })
            }
        }
    }
}

/// Called by generated code: evaluates bridged expression `index` (0 ok, 1 failed with
/// the failure recorded in `ctx`).
///
/// # Safety
/// `ctx` is the executor's live context; `bridge` is the run's [`Bridge`] (alive for the
/// run); `args` and `out` as for [`Bridge::call`].
pub unsafe extern "C" fn kiln_bridge(
    ctx: *mut RowCtx,
    bridge: *const Bridge<'static>,
    index: u32,
    args: *const u8,
    out: *mut u8,
) -> u32 {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: per the contract, both pointers are live for the call.
        let (bridge, ctx_ref) = unsafe { (&*bridge, &mut *ctx) };
        // SAFETY: the executor's arena for this chunk, used by this thread only.
        let arena = unsafe { &mut *ctx_ref.arena };
        // SAFETY: forwarded from the caller.
        match unsafe { bridge.call(index, args, out, arena) } {
            Ok(()) => 0,
            Err(site) => {
                let msg = match bridge.locations {
                    Some(map) => {
                        format!(
                            "{} (at {})",
                            site.message,
                            crate::interp::report::location(map, site.span)
                        )
                    }
                    None => site.message.clone(),
                };
                let id = bridge.site(site);
                // SAFETY: `ctx` is live; `msg` is a live string.
                unsafe { kiln_fail(ctx, id, msg.as_ptr(), msg.len()) }
            }
        }
    }));
    r.unwrap_or(1)
}
