//! What code generation reads while it compiles, and never while compiled code runs: the
//! pipeline (functions and constants are compiled from it), the loaded agents (their
//! weights become data of the program), and the table of failure sites that generated code
//! reports by index (`kiln_fail_at`). Nothing here comes from the reference interpreter.

use crate::agent::net::Agents;
use crate::diag::Code;
use crate::ir::Pipeline;
use crate::source::Span;
use std::cell::RefCell;

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
    /// The (optimized) pipeline being compiled.
    pub p: &'p Pipeline,
    /// The agents the pipeline calls, loaded (by agent index).
    pub agents: Agents,
    sites: RefCell<Vec<FailSite>>,
}

impl<'p> Context<'p> {
    pub fn new(p: &'p Pipeline, agents: Agents) -> Context<'p> {
        Context { p, agents, sites: RefCell::new(Vec::new()) }
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
