//! The optimizer: named passes over the dataflow IR ([`crate::ir::Pipeline`]), each
//! followed by the IR verifier. `kiln view FILE --passes` prints the graph after each.
//!
//! A pass is either *required* (it defines what runs: both engines see its result) or an
//! *optimization* (only compiled code sees its result; the reference interpreter runs the
//! graph before it, so the differential tests check that the optimization keeps the
//! meaning). See docs/run.md, "The optimizer".
//!
//! - [`dead`] (required): removes the stages and `errors` streams that feed no sink.
//! - [`fold`]: constant folding: every `const` and every closed scalar expression becomes
//!   a literal, computed once at compile time.
//! - [`pushdown`]: the fields of a `jsonl` source nothing reads are decoded and checked but
//!   not stored.
//! - [`fuse`]: a stateless stage read by one stage only is merged into it (one compiled
//!   loop), each operator's failures still reported as its own stage's.
//! - [`batch`]: per-row agent calls inside `map` are marked to run batched over many
//!   rows (the compiled executor's agent node).

pub mod batch;
pub mod dead;
pub mod fold;
pub mod fuse;
pub mod pushdown;

use crate::ir::Pipeline;

/// One optimizer pass.
pub struct Pass {
    pub name: &'static str,
    /// One line, as `kiln view --passes` shows it.
    pub doc: &'static str,
    /// Required passes define what runs; both engines see their result.
    pub required: bool,
    /// Rewrites the pipeline; returns whether anything changed.
    pub run: fn(&mut Pipeline) -> bool,
}

/// Every pass, in the order they run.
pub static PASSES: &[&Pass] =
    &[&dead::PASS, &fold::PASS, &pushdown::PASS, &fuse::PASS, &batch::PASS];

/// What [`optimize`] gives back.
pub struct Optimized {
    /// The graph after the required passes: what the reference interpreter runs.
    pub reference: Pipeline,
    /// The graph after every pass: what code generation compiles.
    pub optimized: Pipeline,
}

/// Runs every pass over `p` (lowered and verified) but the optimizations named in `skip`
/// (`KILN_SKIP_PASSES`; required passes always run), verifying after each; `observe` sees
/// the graph after each pass (with whether the pass changed it). A verifier failure is a
/// compiler bug: `Err` names the pass and the broken invariant.
pub fn optimize(
    p: Pipeline,
    skip: &[String],
    observe: &mut dyn FnMut(&Pass, bool, &Pipeline),
) -> Result<Optimized, String> {
    let mut cur = p;
    let mut reference = None;
    for pass in PASSES {
        if !pass.required && reference.is_none() {
            reference = Some(cur.clone());
        }
        if !pass.required && skip.iter().any(|s| s == pass.name) {
            continue;
        }
        let changed = (pass.run)(&mut cur);
        crate::ir::verify::verify(&cur)
            .map_err(|e| format!("the IR verifier failed after pass `{}`: {e}", pass.name))?;
        observe(pass, changed, &cur);
    }
    let reference = reference.unwrap_or_else(|| cur.clone());
    Ok(Optimized { reference, optimized: cur })
}

#[cfg(test)]
mod tests;
