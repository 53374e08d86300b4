//! Pushing a batch of rows through the nodes downstream of one node: the per-chunk work of
//! a worker, and the single-threaded work of finishing a `group_by` / `aggregate`.
//!
//! A batch walks the plan once in topological order: a stage calls its function on every
//! input row, a sink encodes into the batch's byte buffer, a group adds to the batch's
//! partial table. Failures become error entries, ordered by the row they come from (input
//! order); with an errors stream they become error rows pushed from the `Errors` node in the
//! same batch, else the first one is the batch's fatal failure.

use super::abi::{ProjFn, RowCtx, failure_message};
use super::agg::{AggPlan, OwnedProv, OwnedRaw, Table};
use super::keep::{Input, find_map, intern_map};
use super::plan::{Failure, PNode, Plan, SinkFormat};
use super::seq::{SeqCx, SeqState};
use super::value::wr;
use crate::arena::Arena;
use crate::io::{CsvEncoder, JsonEncoder};
use crate::layout::{KStr, TypeDesc};
use std::sync::Arc;

/// A row in a batch: the value and the index of its provenance.
pub(crate) type Row = (*const u8, u32);

/// The text of the record a row comes from.
pub(crate) enum Raw {
    /// Bytes alive for the whole batch: of the chunk being processed, of a mapped input
    /// in the batch's `maps`, or of a provenance store that outlives the batch
    /// ([`super::keep::Provs::release`]).
    Ptr(*const u8, usize),
    /// A `range` element.
    Int(i64),
    Owned(Vec<u8>),
}

pub(crate) struct Prov {
    /// Index into the batch's source names.
    pub source: u32,
    pub line: u64,
    pub raw: Raw,
    pub from_errors: bool,
    /// Where the row sorts among the batch's rows for failures: its own index, except
    /// for a row an order-dependent operator releases on the arrival of a later row (a
    /// full `batch`), which sorts as that row.
    pub at: u32,
    /// The event the row belongs to, where a run that stops cuts the output: `at`,
    /// except for an error row (and the rows derived from it), which belongs to the
    /// record whose failure it reports.
    pub unit: u32,
}

impl Prov {
    pub fn raw_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match &self.raw {
            // SAFETY: the chunk is alive for the whole batch (see `Raw::Ptr`).
            Raw::Ptr(p, n) if *n > 0 => unsafe { std::slice::from_raw_parts(*p, *n) }.into(),
            Raw::Ptr(..) => (&[][..]).into(),
            Raw::Int(i) => i.to_string().into_bytes().into(),
            Raw::Owned(v) => v.as_slice().into(),
        }
    }
}

/// A failed row, before it becomes an error row or the run's failure.
pub(crate) struct ErrEntry {
    pub prov: u32,
    /// Where the failing operator is in the plan ([`op_order`]): one record's failures
    /// come in this order.
    pub order: u64,
    pub site: Option<u32>,
    /// The `stage` of the error record (the site's stage, or the source's name).
    pub stage: String,
    /// The bare message.
    pub message: String,
    /// `file:line:col`, appended to the message in error records.
    pub location: String,
}

/// How a sink encodes rows.
pub(crate) enum Encoder {
    Json(JsonEncoder),
    Csv(CsvEncoder),
    Text,
    Discard,
}

/// One group_by / aggregate node, compiled.
pub(crate) struct GroupPlan {
    pub plans: Vec<AggPlan>,
    pub key: Option<TypeDesc>,
    pub proj: Option<ProjFn>,
    pub proj_ty: TypeDesc,
}

/// What every batch needs, shared by all threads.
pub(crate) struct Shared<'p> {
    pub plan: &'p Plan,
    pub encoders: Vec<Option<Encoder>>,
    pub groups: Vec<Option<GroupPlan>>,
    pub errors_node: Option<usize>,
    pub error_ty: TypeDesc,
    /// Nodes at or downstream of an order-dependent operator ([`PNode::Seq`]): they run
    /// on the consumer thread, in input order.
    pub tail: Vec<bool>,
    /// Whether any node is in `tail`.
    pub ordered: bool,
    /// The size the reader cuts the next chunks at, lowered when batches take much more
    /// memory than their input (see `io::chunk::BATCH_MEMORY`).
    pub chunk_target: crate::io::chunk::ChunkTarget,
}

/// The §1.6 error row type `{source: str, line: int, stage: str, message: str, raw: str}`.
pub fn error_row_type() -> TypeDesc {
    TypeDesc::Record(vec![
        ("source".into(), TypeDesc::Str),
        ("line".into(), TypeDesc::Int),
        ("stage".into(), TypeDesc::Str),
        ("message".into(), TypeDesc::Str),
        ("raw".into(), TypeDesc::Str),
    ])
}

impl<'p> Shared<'p> {
    pub fn new(plan: &'p Plan) -> Result<Shared<'p>, Failure> {
        let mut encoders = Vec::new();
        let mut groups = Vec::new();
        let mut errors_node = None;
        for (i, node) in plan.nodes.iter().enumerate() {
            if let Some(inp) = node.inputs().find(|&inp| inp >= i) {
                return Err(Failure::Io {
                    node: node.name().to_string(),
                    message: format!("internal: node {i} reads node {inp}, which is not earlier"),
                });
            }
            encoders.push(match node {
                PNode::Sink { format, ty, name, .. } => Some(match format {
                    SinkFormat::Jsonl | SinkFormat::Stdout => Encoder::Json(JsonEncoder::new(ty)),
                    SinkFormat::Csv => Encoder::Csv(
                        CsvEncoder::new(ty)
                            .map_err(|m| Failure::Io { node: name.clone(), message: m })?,
                    ),
                    SinkFormat::Lines if *ty == TypeDesc::Str => Encoder::Text,
                    SinkFormat::Lines => Encoder::Json(JsonEncoder::new(ty)),
                    SinkFormat::Discard => Encoder::Discard,
                }),
                _ => None,
            });
            groups.push(match node {
                PNode::Group { proj, proj_ty, aggs, .. } => Some(GroupPlan {
                    plans: aggs.iter().map(|a| AggPlan::new(a, proj_ty)).collect(),
                    key: match proj_ty {
                        TypeDesc::Record(f) => f.first().map(|(_, t)| t.clone()),
                        _ => None,
                    },
                    proj: Some(*proj),
                    proj_ty: proj_ty.clone(),
                }),
                PNode::Aggregate { proj, proj_ty, aggs, .. } => Some(GroupPlan {
                    plans: aggs.iter().map(|a| AggPlan::new(a, proj_ty)).collect(),
                    key: None,
                    proj: *proj,
                    proj_ty: proj_ty.clone(),
                }),
                _ => None,
            });
            if matches!(node, PNode::Errors) {
                errors_node = Some(i);
            }
        }
        let mut tail = vec![false; plan.nodes.len()];
        for (i, node) in plan.nodes.iter().enumerate() {
            tail[i] = matches!(node, PNode::Seq { .. }) || node.inputs().any(|j| tail[j]);
        }
        let ordered = tail.iter().any(|&t| t);
        Ok(Shared {
            plan,
            encoders,
            groups,
            errors_node,
            error_ty: error_row_type(),
            tail,
            ordered,
            chunk_target: Default::default(),
        })
    }
}

/// A sink's output for one batch, with the byte offset where each unit's rows start
/// (to cut the output at a failing record when the run stops there).
#[derive(Default)]
pub(crate) struct SinkOut {
    pub buf: Vec<u8>,
    pub marks: Vec<(u32, usize)>,
}

impl SinkOut {
    /// The bytes produced by rows of the units ([`Prov::unit`]) before `unit`.
    pub fn before(&self, unit: u32) -> &[u8] {
        let end = self.marks.iter().find(|(u, _)| *u >= unit).map_or(self.buf.len(), |m| m.1);
        self.buf.get(..end).unwrap_or(&[])
    }
}

/// The sort key of a failure at operator `op` of the fused chain of plan node `node`.
pub(crate) fn op_order(node: usize, op: u32) -> u64 {
    ((node as u64) << 32) | u64::from(op)
}

/// A stopping failure found in a batch.
pub(crate) struct Fatal {
    pub failure: Failure,
    /// The failing row's unit ([`Prov::unit`]): sinks keep the output of the units
    /// before it, nothing of it.
    pub prov: u32,
    /// The failure's line counts error records of this batch: add those sent before it.
    pub from_errors: bool,
}

/// What a batch produced: per node, a sink's bytes or a group's partial table.
pub(crate) struct BatchOut {
    pub sinks: Vec<Option<SinkOut>>,
    pub tables: Vec<Option<Table>>,
    /// Error rows sent to the errors stream.
    pub errors: u64,
    pub fatal: Option<Fatal>,
    /// Input bytes this batch covered (for progress).
    pub bytes: u64,
    /// The line numbers of error-stream rows (in `fatal` and in group tables) are
    /// global already; else the consumer adds the errors sent before the batch.
    pub lines_global: bool,
}

/// A batch in the making: its provenance table and source names.
pub(crate) struct Batch {
    pub sources: Vec<Arc<str>>,
    /// The memory-mapped inputs the texts of `provs` may lie in (alive while the batch
    /// lives), so what is kept beyond the batch can refer to them instead of copying.
    pub maps: Vec<Input>,
    pub provs: Vec<Prov>,
    pub errors: Vec<ErrEntry>,
    /// Error records sent before this batch, when known (on the consumer thread): the
    /// line numbers of its error rows are then global ([`BatchOut::lines_global`]).
    pub errors_base: Option<u64>,
    /// The errors stream has ended (the batch releases what waited for it): any failure
    /// stops the run, as an error record could no longer be read by anything.
    pub errors_ended: bool,
}

impl Batch {
    pub fn new(sources: Vec<Arc<str>>) -> Batch {
        Batch {
            sources,
            maps: Vec::new(),
            provs: Vec::new(),
            errors: Vec::new(),
            errors_base: None,
            errors_ended: false,
        }
    }

    /// Appends a provenance; `at` and `unit` default to its own index.
    pub fn push(&mut self, source: u32, line: u64, raw: Raw, from_errors: bool) -> u32 {
        let at = self.provs.len() as u32;
        self.provs.push(Prov { source, line, raw, from_errors, at, unit: at });
        at
    }

    /// A copy of provenance `prov` that outlives the batch (its text a reference when it
    /// lies in a mapped input).
    pub fn owned(&self, prov: u32) -> OwnedProv {
        let pv = &self.provs[prov as usize];
        let raw = match pv.raw {
            Raw::Ptr(p, n) if n > 0 => match find_map(&self.maps, p, n) {
                Some((k, off)) => OwnedRaw::Mapped(self.maps[k].clone(), off, n),
                None => OwnedRaw::Bytes(pv.raw_bytes().into_owned()),
            },
            _ => OwnedRaw::Bytes(pv.raw_bytes().into_owned()),
        };
        OwnedProv {
            source: self.sources.get(pv.source as usize).cloned().unwrap_or_else(|| Arc::from("")),
            line: pv.line,
            raw,
            from_errors: pv.from_errors,
        }
    }

    /// Adds a kept provenance back (sorting as `at` and in unit `unit` when given).
    pub fn push_owned(&mut self, p: OwnedProv, at: Option<(u32, u32)>) -> u32 {
        let source = match self.sources.iter().position(|s| Arc::ptr_eq(s, &p.source)) {
            Some(i) => i as u32,
            None => {
                self.sources.push(p.source);
                self.sources.len() as u32 - 1
            }
        };
        let raw = match p.raw {
            OwnedRaw::Bytes(v) => Raw::Owned(v),
            OwnedRaw::Mapped(m, off, n) => {
                let k = intern_map(&mut self.maps, &m);
                match self.maps[k].as_ref().as_ref().get(off..off + n) {
                    Some(b) => Raw::Ptr(b.as_ptr(), b.len()),
                    None => Raw::Ptr(std::ptr::null(), 0),
                }
            }
        };
        let i = self.push(source, p.line, raw, p.from_errors);
        if let Some((at, unit)) = at {
            self.provs[i as usize].at = at;
            self.provs[i as usize].unit = unit;
        }
        i
    }

    pub fn at(&self, prov: u32) -> u32 {
        self.provs.get(prov as usize).map_or(prov, |p| p.at)
    }

    pub fn unit(&self, prov: u32) -> u32 {
        self.provs.get(prov as usize).map_or(prov, |p| p.unit)
    }
}

/// Which nodes a walk runs (see [`Shared::tail`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every node downstream of the origin.
    All,
    /// A worker's share of an ordered plan: the nodes not downstream of an
    /// order-dependent operator.
    Worker,
    /// The consumer's share: the rest.
    Tail,
}

/// A batch a worker took as far as it may in an ordered plan; the consumer finishes it
/// ([`Engine::resume`]). It owns the memory its rows live in.
pub(crate) struct Partial {
    pub origin: usize,
    pub outs: Vec<Vec<Row>>,
    pub batch: Batch,
    pub out: BatchOut,
    pub arena: Box<Arena>,
    /// The chunk the rows and provenances point into.
    pub chunk: Option<crate::io::chunk::Chunk>,
}

// SAFETY: the raw pointers in a `Partial` point into its own `arena` and `chunk` (or into
// memory that lives for the whole run, like compiled constants), which move with it; the
// worker that made it keeps no reference to them.
unsafe impl Send for Partial {}

/// One thread's working memory.
pub(crate) struct Engine {
    /// Boxed so its address, handed to generated code, never changes.
    pub arena: Box<Arena>,
}

/// The rows out of each of `n` nodes when a walk starts: `rows` out of `origin`.
fn outputs(n: usize, origin: usize, rows: Vec<Row>) -> Vec<Vec<Row>> {
    let mut outs: Vec<Vec<Row>> = (0..n).map(|_| Vec::new()).collect();
    if let Some(o) = outs.get_mut(origin) {
        *o = rows;
    }
    outs
}

fn new_out(n: usize) -> BatchOut {
    BatchOut {
        sinks: (0..n).map(|_| None).collect(),
        tables: (0..n).map(|_| None).collect(),
        errors: 0,
        fatal: None,
        bytes: 0,
        lines_global: false,
    }
}

impl Engine {
    pub fn new() -> Engine {
        Engine { arena: Box::new(Arena::new()) }
    }

    /// Pushes `rows` (outputs of node `origin`) through every node downstream, then
    /// turns the batch's error entries (and those already in `batch.errors`) into error
    /// rows or a fatal failure. `seq` (the consumer's) runs order-dependent operators.
    pub fn run(
        &mut self,
        sh: &Shared,
        origin: usize,
        rows: Vec<Row>,
        mut batch: Batch,
        mut seq: Option<&mut [SeqState]>,
    ) -> BatchOut {
        let n = sh.plan.nodes.len();
        let mut out = new_out(n);
        let mut outs = outputs(n, origin, rows);
        self.walk(sh, origin, &mut outs, &mut batch, &mut out, Mode::All, seq.as_deref_mut());
        self.finish(sh, batch, out, seq)
    }

    /// A worker's share of a batch of an ordered plan: the nodes before any
    /// order-dependent operator. The rows' memory (this engine's arena, and `chunk`) goes
    /// with the result; the engine takes `fresh` as its new arena.
    pub fn start(
        &mut self,
        sh: &Shared,
        origin: usize,
        rows: Vec<Row>,
        mut batch: Batch,
        chunk: Option<crate::io::chunk::Chunk>,
        fresh: Box<Arena>,
    ) -> Partial {
        let n = sh.plan.nodes.len();
        let mut out = new_out(n);
        let mut outs = outputs(n, origin, rows);
        self.walk(sh, origin, &mut outs, &mut batch, &mut out, Mode::Worker, None);
        let arena = std::mem::replace(&mut self.arena, fresh);
        Partial { origin, outs, batch, out, arena, chunk }
    }

    /// The consumer's share of a batch [`Engine::start`] began, in input order. Returns
    /// the result and the memory the batch's rows lived in (no longer referenced).
    pub fn resume(
        &mut self,
        sh: &Shared,
        p: Partial,
        seq: &mut [SeqState],
    ) -> (BatchOut, Box<Arena>, Option<crate::io::chunk::Chunk>) {
        let Partial { origin, mut outs, mut batch, mut out, mut arena, chunk } = p;
        std::mem::swap(&mut self.arena, &mut arena);
        self.walk(sh, origin, &mut outs, &mut batch, &mut out, Mode::Tail, Some(&mut *seq));
        let out = self.finish(sh, batch, out, Some(seq));
        std::mem::swap(&mut self.arena, &mut arena);
        (out, arena, chunk)
    }

    /// Turns the batch's failures into error rows pushed from the errors node, or into the
    /// run's stopping failure. One record's failures come in plan order ([`op_order`]);
    /// the run stops at the first failure that cannot become an error row (no errors
    /// stream, the errors stream has ended, or the row derives from an error row) and the
    /// output of that failure's unit, error rows included, is cut.
    fn finish(
        &mut self,
        sh: &Shared,
        mut batch: Batch,
        mut out: BatchOut,
        seq: Option<&mut [SeqState]>,
    ) -> BatchOut {
        out.lines_global = batch.errors_base.is_some();
        let mut entries = std::mem::take(&mut batch.errors);
        entries.sort_by_key(|e| (batch.at(e.prov), e.order));
        let stops = |batch: &Batch, e: &ErrEntry| {
            sh.errors_node.is_none()
                || batch.errors_ended
                || batch.provs[e.prov as usize].from_errors
        };
        let mut cut: Option<u32> = None;
        if let Some(e) = entries.iter().find(|e| stops(&batch, e)) {
            out.fatal = Some(fatal(&batch, e));
            cut = Some(batch.unit(e.prov));
        }
        let Some(errors_node) = sh.errors_node else { return out };
        if batch.errors_ended {
            return out;
        }
        entries.retain(|e| cut.is_none_or(|u| batch.unit(e.prov) < u));
        if entries.is_empty() {
            return out;
        }
        // Error rows, pushed from the errors node.
        let errors_source = batch.sources.len() as u32;
        batch.sources.push(Arc::from("errors"));
        let base = batch.errors_base.unwrap_or(0);
        let mut rows = Vec::with_capacity(entries.len());
        let size = sh.error_ty.size();
        let offs = sh.error_ty.field_offsets();
        for (k, e) in entries.iter().enumerate() {
            let message = if e.location.is_empty() {
                e.message.clone()
            } else {
                format!("{} (at {})", e.message, e.location)
            };
            let (text, row) = {
                let pv = &batch.provs[e.prov as usize];
                let source =
                    batch.sources.get(pv.source as usize).cloned().unwrap_or_else(|| Arc::from(""));
                let raw = pv.raw_bytes();
                let mut text = Vec::new();
                crate::io::error_record(&mut text, &source, pv.line, &e.stage, &message, &raw);
                text.pop();
                let row = self.arena.alloc_zeroed(size, 8);
                if !row.is_null() {
                    let raw_text = String::from_utf8_lossy(&raw);
                    let strs = [
                        (offs[0], source.as_bytes()),
                        (offs[2], e.stage.as_bytes()),
                        (offs[3], message.as_bytes()),
                        (offs[4], raw_text.as_bytes()),
                    ];
                    for (off, s) in strs {
                        let p = self.arena.alloc_copy(s);
                        // SAFETY: `row` holds a zeroed error record; `off` is a str field.
                        unsafe {
                            wr(
                                row,
                                off,
                                KStr { ptr: p, len: if p.is_null() { 0 } else { s.len() as u64 } },
                            )
                        };
                    }
                    // SAFETY: `offs[1]` is the int field of the record.
                    unsafe { wr(row, offs[1], i64::try_from(pv.line).unwrap_or(i64::MAX)) };
                }
                (text, row)
            };
            let unit = batch.unit(e.prov);
            let prov = batch.push(errors_source, base + k as u64 + 1, Raw::Owned(text), true);
            batch.provs[prov as usize].unit = unit;
            if !row.is_null() {
                rows.push((row as *const u8, prov));
            }
        }
        let n = sh.plan.nodes.len();
        let mut outs = outputs(n, errors_node, rows);
        self.walk(sh, errors_node, &mut outs, &mut batch, &mut out, Mode::All, seq);
        // Every failure of a row derived from an error row stops the run (no error loops).
        let mut more = std::mem::take(&mut batch.errors);
        more.sort_by_key(|e| (batch.at(e.prov), e.order));
        if let Some(e) = more.first() {
            let u = batch.unit(e.prov);
            if cut.is_none_or(|c| u < c) {
                out.fatal = Some(fatal(&batch, e));
                cut = Some(u);
            }
        }
        out.errors +=
            entries.iter().filter(|e| cut.is_none_or(|u| batch.unit(e.prov) < u)).count() as u64;
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        sh: &Shared,
        origin: usize,
        outs: &mut [Vec<Row>],
        batch: &mut Batch,
        out: &mut BatchOut,
        mode: Mode,
        mut seq: Option<&mut [SeqState]>,
    ) {
        let nodes = &sh.plan.nodes;
        let arena: *mut Arena = &mut *self.arena;
        for (i, node) in nodes.iter().enumerate().skip(origin + 1) {
            let runs = match mode {
                Mode::All => true,
                Mode::Worker => !sh.tail[i],
                Mode::Tail => sh.tail[i],
            };
            if !runs {
                continue;
            }
            let Some(inp) = node.input() else { continue };
            let (before, after) = outs.split_at_mut(i);
            let input = &before[inp];
            let second: &[Row] = node.second_input().map_or(&[], |j| &before[j]);
            if input.is_empty() && second.is_empty() {
                continue;
            }
            let mine = &mut after[0];
            match node {
                PNode::Stage { f, name, parts, .. } => {
                    let mut emitted: Vec<*const u8> = Vec::new();
                    let mut fails: Vec<(u32, KStr, u32)> = Vec::new();
                    let mut ctx = RowCtx {
                        arena,
                        out: &mut emitted,
                        err_site: 0,
                        err_msg: KStr { ptr: std::ptr::null(), len: 0 },
                        fails: &mut fails,
                        err_op: 0,
                        params: sh.plan.params.as_ptr(),
                    };
                    let traced = crate::model::ffi::tracing();
                    for &(row, prov) in input {
                        if traced {
                            trace_row(batch, prov, name, parts);
                        }
                        // SAFETY: `ctx.out` and `ctx.fails` are `emitted` and `fails`,
                        // accessed only through the context here.
                        unsafe {
                            (*ctx.out).clear();
                            (*ctx.fails).clear();
                        }
                        // SAFETY: `row` is a live value of the stage's input type; the
                        // context's arena and vectors are alive for the call.
                        let rc = unsafe { f(&mut ctx, row) };
                        // SAFETY: as above.
                        mine.extend(unsafe { &*ctx.out }.iter().map(|&r| (r, prov)));
                        if rc != 0 {
                            // SAFETY: as above.
                            let all = unsafe { std::mem::take(&mut *ctx.fails) };
                            if all.is_empty() {
                                let stage = part_name(name, parts, ctx.err_op);
                                batch.errors.push(site_entry(sh, &ctx, prov, stage, i));
                            }
                            // The failures kept when a `flat_map` went on with its other
                            // elements, in order.
                            for (site, msg, op) in all {
                                ctx.err_site = site;
                                ctx.err_msg = msg;
                                ctx.err_op = op;
                                let stage = part_name(name, parts, op);
                                batch.errors.push(site_entry(sh, &ctx, prov, stage, i));
                            }
                        }
                    }
                    if traced {
                        crate::model::ffi::clear_row();
                    }
                }
                PNode::Sink { .. } => {
                    let so = out.sinks[i].get_or_insert_with(SinkOut::default);
                    let Some(enc) = &sh.encoders[i] else { continue };
                    for &(row, prov) in input {
                        let unit = batch.unit(prov);
                        if so.marks.last().is_none_or(|m| m.0 != unit) {
                            so.marks.push((unit, so.buf.len()));
                        }
                        // SAFETY: `row` is a live value of the sink's type, which the
                        // encoder was built for.
                        unsafe {
                            match enc {
                                Encoder::Json(e) => e.write_line(row, &mut so.buf),
                                Encoder::Csv(e) => e.write_row(row, &mut so.buf),
                                Encoder::Text => crate::io::write::write_str_line(row, &mut so.buf),
                                Encoder::Discard => {}
                            }
                        }
                    }
                }
                PNode::Group { name, .. } | PNode::Aggregate { name, .. } => {
                    let Some(gp) = &sh.groups[i] else { continue };
                    let table = out.tables[i].get_or_insert_with(Table::default);
                    // SAFETY: the arena is this engine's, not otherwise borrowed here.
                    let size = gp.proj_ty.size();
                    // SAFETY: as above.
                    let buf = unsafe { (*arena).alloc(size, gp.proj_ty.align()) };
                    if buf.is_null() {
                        continue;
                    }
                    let mut emitted: Vec<*const u8> = Vec::new();
                    let mut ctx = RowCtx {
                        arena,
                        out: &mut emitted,
                        err_site: 0,
                        err_msg: KStr { ptr: std::ptr::null(), len: 0 },
                        fails: std::ptr::null_mut(),
                        err_op: 0,
                        params: sh.plan.params.as_ptr(),
                    };
                    let traced = crate::model::ffi::tracing();
                    for &(row, prov) in input {
                        if traced {
                            trace_row(batch, prov, name, &[]);
                        }
                        // SAFETY: `buf` holds `size` bytes.
                        unsafe { std::ptr::write_bytes(buf, 0, size) };
                        if let Some(proj) = gp.proj {
                            // SAFETY: `row` is a live input value; `buf` is a zeroed,
                            // aligned projection buffer.
                            if unsafe { proj(&mut ctx, row, buf) } != 0 {
                                batch.errors.push(site_entry(sh, &ctx, prov, name, i));
                                continue;
                            }
                        }
                        let owned = || batch.owned(prov);
                        // SAFETY: `buf` holds a projection written by `proj`.
                        if unsafe { table.add(&gp.plans, gp.key.as_ref(), buf, owned) }.is_err() {
                            batch.errors.push(ErrEntry {
                                prov,
                                order: op_order(i, 0),
                                site: None,
                                stage: name.clone(),
                                message: "out of memory".into(),
                                location: String::new(),
                            });
                        }
                    }
                    if traced {
                        crate::model::ffi::clear_row();
                    }
                }
                PNode::Agent { field, k, m, forward, name, .. } => {
                    self.agent(input, (*field, *k, *m), forward, (name, i), batch, mine);
                }
                PNode::Seq { op, ty, out: oty, name, .. } => {
                    let Some(st) = seq.as_deref_mut().and_then(|s| s.get_mut(i)) else {
                        continue;
                    };
                    let mut cx = SeqCx { sh, arena, batch: &mut *batch, name, node: i };
                    cx.step(op, st, ty, oty, input, second, mine);
                }
                PNode::Source { .. } | PNode::Errors => {}
            }
        }
    }
}

/// Rows per call of a batched agent (bounds the gathered inputs' memory).
const AGENT_BATCH: usize = 256;

impl Engine {
    /// [`PNode::Agent`]: gathers the rows' input vectors, runs the agent on groups of up to
    /// [`AGENT_BATCH`] rows, and writes each output vector (in the batch's arena) over the
    /// row's field.
    fn agent(
        &mut self,
        input: &[Row],
        (field, k, m): (usize, usize, usize),
        forward: &super::plan::AgentFn,
        (name, node): (&str, usize),
        batch: &mut Batch,
        mine: &mut Vec<Row>,
    ) {
        let mut xs = vec![0f32; AGENT_BATCH.min(input.len()) * k];
        let mut ys = vec![0f32; AGENT_BATCH.min(input.len()) * m];
        for group in input.chunks(AGENT_BATCH) {
            let n = group.len();
            for (r, &(row, _)) in group.iter().enumerate() {
                // SAFETY: `row` is a live record whose field at `field` is a `vec[k]`: a
                // pointer to `k` floats (null only for a zero-length vector).
                let p: *const f32 = unsafe { super::value::rd(row, field) };
                let dst = &mut xs[r * k..(r + 1) * k];
                if p.is_null() {
                    dst.fill(0.0);
                } else {
                    // SAFETY: as above, `p` addresses `k` floats.
                    dst.copy_from_slice(unsafe { std::slice::from_raw_parts(p, k) });
                }
            }
            let ok = forward(&xs[..n * k], &mut ys[..n * m], n);
            for (r, &(row, prov)) in group.iter().enumerate() {
                let out =
                    if ok { self.arena.alloc(m.max(1) * 4, 32) } else { std::ptr::null_mut() };
                if out.is_null() {
                    batch.errors.push(ErrEntry {
                        prov,
                        order: op_order(node, 0),
                        site: None,
                        stage: name.to_string(),
                        message: if ok { "out of memory" } else { "agent: bad input shape" }
                            .to_string(),
                        location: String::new(),
                    });
                    continue;
                }
                // SAFETY: `out` holds `m` floats of the arena; `row` is the record the
                // upstream stage allocated for this node alone (its only consumer), so
                // writing its field in place is not seen by anything else.
                unsafe {
                    std::ptr::copy_nonoverlapping(ys[r * m..].as_ptr(), out.cast::<f32>(), m);
                    wr(row.cast_mut(), field, out as *const f32);
                }
                mine.push((row, prov));
            }
        }
    }
}

/// The stage a failure at operator `op` of a stage function belongs to: the last part
/// starting at or before it (`PNode::Stage::parts`), else the node's `name`.
/// Names the row of provenance `prov` as the one the model calls on this thread are for
/// (the `--trace` file's record and stage).
fn trace_row(batch: &Batch, prov: u32, name: &str, parts: &[(u32, String)]) {
    if let Some(pv) = batch.provs.get(prov as usize)
        && let Some(source) = batch.sources.get(pv.source as usize)
    {
        crate::model::ffi::set_row(source, pv.line, name, parts);
    }
}

fn part_name<'a>(name: &'a str, parts: &'a [(u32, String)], op: u32) -> &'a str {
    parts.iter().rev().find(|(first, _)| *first <= op).map_or(name, |(_, n)| n.as_str())
}

/// The failure `ctx` recorded, of a row of plan node `index` (named `node`).
pub(crate) fn site_entry(
    sh: &Shared,
    ctx: &RowCtx,
    prov: u32,
    node: &str,
    index: usize,
) -> ErrEntry {
    let site = sh.plan.sites.get(ctx.err_site as usize);
    ErrEntry {
        prov,
        order: op_order(index, ctx.err_op),
        site: Some(ctx.err_site),
        stage: site
            .filter(|s| !s.stage.is_empty())
            .map_or_else(|| node.to_string(), |s| s.stage.clone()),
        message: failure_message(ctx),
        location: site.map(|s| s.location.clone()).unwrap_or_default(),
    }
}

fn fatal(batch: &Batch, e: &ErrEntry) -> Fatal {
    let pv = &batch.provs[e.prov as usize];
    Fatal {
        failure: Failure::Record {
            site: e.site,
            node: e.stage.clone(),
            source: batch
                .sources
                .get(pv.source as usize)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            line: pv.line,
            raw: String::from_utf8_lossy(&pv.raw_bytes()).into_owned(),
            message: e.message.clone(),
        },
        prov: pv.unit,
        from_errors: pv.from_errors,
    }
}
