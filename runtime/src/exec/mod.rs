//! The parallel, order-preserving executor of compiled plans.
//!
//! The compiler lowers a pipeline to a [`Plan`]: nodes in topological order (sources, the
//! errors stream, stages, `group_by` / `aggregate`, sinks) whose per-row work is done by
//! compiled functions with the C ABI of [`abi`] ([`StageFn`], [`ProjFn`], `kiln_emit`,
//! `kiln_fail`). [`run`] executes it:
//!
//! - Sources are read one after another, in plan order (a source nothing reads is not
//!   opened), cut into chunks at record boundaries (`range` into 65,536 elements).
//! - `Options::threads` workers process chunks: decode each record into a row (a decode
//!   failure is an error of the source), push the rows through every node downstream, in
//!   plan order; sinks encode into a per-chunk buffer, groups build a per-chunk partial
//!   table (values deep-copied out of the chunk's arena, which is reset afterwards).
//! - The calling thread consumes chunk results strictly in input order: writes sink bytes,
//!   merges group tables (see [`agg`] for the exact aggregate semantics), counts errors.
//!   At most `2 × threads` chunks are in flight, so memory stays bounded. Output is
//!   byte-identical for any number of threads.
//! - A `group_by` / `aggregate` finishes when its input ends: after the last chunk of
//!   its sources (or, reading the errors stream, after all sources), on the calling
//!   thread, where the nodes whose input ended finish in plan order (`finish_ready`); its
//!   rows go on through the nodes downstream (in group order).
//! - Order-dependent operators ([`PNode::Seq`]: take, skip, enumerate, batch, distinct,
//!   sort_by, join, union) run on the calling thread, in input order (`seq.rs`). In a plan
//!   with any of them, a worker runs only the nodes that are not downstream of one and
//!   hands the batch over with its arena and chunk; the consumer runs the rest of the
//!   batch, then turns its error entries into error rows (so they are numbered in order).
//!   A `sort_by` and a `batch` release what they keep when their input ends, a `join` its
//!   waiting left rows when its right side ends, a `union` its second stream's rows when
//!   the first one ends (rows released at an input's end form a batch of their own).
//! - Errors (§1.6): every failed row gives an entry {source, line, stage, message, raw}.
//!   A batch sorts its entries by the row's place (`Prov::at`: its input record, or the
//!   released row) and then by plan order: the plan node, then the operator inside a fused
//!   stage function (`RowCtx::err_op`), then the order they came in (element by element).
//!   The compiler builds the plan in the IR's plan order (`Pipeline::plan_order` in the
//!   compiler), which the interpreter follows too.
//!   With an [`PNode::Errors`] node in the plan (consumed or not, as in the interpreter),
//!   entries become error rows pushed from that node (per batch, after the batch's own
//!   rows, in that order) and `Summary::errors` counts them. A failure of a row derived
//!   from an error row, or of a batch released once the errors stream has ended (the
//!   consumer's last `finish_ready`), stops the run. Without one, the run stops at the
//!   first entry. A run that stops cuts every sink's output at the failing row's *unit*
//!   (`Prov::unit`: its input record or released row; for an error row, the record it
//!   reports): the units before it are written, flushed, and nothing of that unit.
//! - Sinks are created (truncated) when the run starts, in plan order; CSV sinks get their
//!   header then, even if no row follows (as the interpreter does).
//!
//! So the output is the interpreter's (`compiler/src/interp`) in every case, with one known
//! exception: a `map` with batched agent calls is split into the nodes before the agent
//! (its arguments) and after it (the rest of the body), so an element failing in both
//! reports the argument's failure, and when a record's `flat_map` elements fail in that
//! `map`, some in the arguments and some after, the former come first rather than element
//! by element.

pub mod abi;
pub mod agg;
pub mod arg;
mod engine;
pub mod eval;
pub mod fail;
pub mod interrupt;
mod keep;
pub mod listgroup;
pub mod plan;
mod run;
mod seq;
#[cfg(test)]
mod tests;
pub mod value;

pub use abi::{ProjFn, RowCtx, StageFn, kiln_emit, kiln_fail};
pub use engine::error_row_type;
pub use plan::{
    AgentFn, AggKind, AggSpec, Failure, KeyFn, Options, PNode, ParamBlock, ParamValue, Plan, SeqOp,
    SinkFormat, Site, SourceKind, Streams, Summary,
};
pub use run::{WORKER_STACK, run};
