//! What code generation reads while it compiles, and never while compiled code runs: the
//! values of consts and params, the loaded agents and the data paths (evaluated once, by
//! the reference interpreter, before the run starts), and the table of failure sites that
//! generated code reports by index (`kiln_fail_at`).

use crate::diag::Code;
use crate::interp::Interp;
use crate::source::Span;
use std::cell::{RefCell, RefMut};

/// A failure site: what `RowCtx::err_site` indexes (shared by every compiled function).
#[derive(Clone, Debug)]
pub struct FailSite {
    pub code: Code,
    pub span: Span,
    /// A fixed message; empty when the runtime builds it (`kiln_fail_at`, aggregates).
    pub message: String,
    /// An expression's failure: its error records end with ` (at FILE:LINE:COL)`.
    pub located: bool,
}

/// The compile-time context of one program.
pub struct Context<'p> {
    interp: RefCell<Interp<'p>>,
    sites: RefCell<Vec<FailSite>>,
}

impl<'p> Context<'p> {
    pub fn new(interp: Interp<'p>) -> Context<'p> {
        Context { interp: RefCell::new(interp), sites: RefCell::new(Vec::new()) }
    }

    /// The interpreter holding the run's params and agents (compile time only).
    pub fn interp(&self) -> RefMut<'_, Interp<'p>> {
        self.interp.borrow_mut()
    }

    /// Registers a failure site; returns its index.
    pub fn site(&self, s: FailSite) -> u32 {
        let mut g = self.sites.borrow_mut();
        g.push(s);
        (g.len() - 1) as u32
    }

    pub fn site_at(&self, i: u32) -> Option<FailSite> {
        self.sites.borrow().get(i as usize).cloned()
    }

    /// Every failure site, by index.
    pub fn sites(&self) -> Vec<FailSite> {
        self.sites.borrow().clone()
    }
}
