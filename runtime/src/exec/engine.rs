//! Pushing a batch of rows through the nodes downstream of one node: the per-chunk work of
//! a worker, and the single-threaded work of finishing a `group_by` / `aggregate`.
//!
//! A batch walks the plan once in topological order: a stage calls its function on every
//! input row, a sink encodes into the batch's byte buffer, a group adds to the batch's
//! partial table. Failures become error entries, ordered by the row they come from (input
//! order); with an errors stream they become error rows pushed from the `Errors` node in the
//! same batch, else the first one is the batch's fatal failure.

use super::abi::{ProjFn, RowCtx, failure_message};
use super::agg::{AggPlan, OwnedProv, Table};
use super::plan::{Failure, PNode, Plan, SinkFormat};
use super::value::wr;
use crate::arena::Arena;
use crate::io::{CsvEncoder, JsonEncoder};
use crate::layout::{KStr, TypeDesc};
use std::sync::Arc;

/// A row in a batch: the value and the index of its provenance.
pub(crate) type Row = (*const u8, u32);

/// The text of the record a row comes from.
pub(crate) enum Raw {
    /// Bytes of the chunk being processed (alive for the whole batch).
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
            if let Some(inp) = node.input()
                && inp >= i
            {
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
        Ok(Shared { plan, encoders, groups, errors_node, error_ty: error_row_type() })
    }
}

/// A sink's output for one batch, with the byte offset where each provenance's rows start
/// (to cut the output at a failing row when the run stops there).
#[derive(Default)]
pub(crate) struct SinkOut {
    pub buf: Vec<u8>,
    pub marks: Vec<(u32, usize)>,
}

impl SinkOut {
    /// The bytes produced by rows of provenance before `prov`.
    pub fn before(&self, prov: u32) -> &[u8] {
        let end = self.marks.iter().find(|(p, _)| *p >= prov).map_or(self.buf.len(), |m| m.1);
        self.buf.get(..end).unwrap_or(&[])
    }
}

/// A stopping failure found in a batch.
pub(crate) struct Fatal {
    pub failure: Failure,
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
}

/// A batch in the making: its provenance table and source names.
pub(crate) struct Batch {
    pub sources: Vec<Arc<str>>,
    pub provs: Vec<Prov>,
    pub errors: Vec<ErrEntry>,
}

/// One thread's working memory.
pub(crate) struct Engine {
    /// Boxed so its address, handed to generated code, never changes.
    pub arena: Box<Arena>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine { arena: Box::new(Arena::new()) }
    }

    /// Pushes `rows` (outputs of node `origin`) through the downstream nodes, then turns
    /// the batch's error entries (and those already in `batch.errors`) into error rows or a
    /// fatal failure.
    pub fn run(
        &mut self,
        sh: &Shared,
        origin: usize,
        rows: Vec<Row>,
        mut batch: Batch,
    ) -> BatchOut {
        let n = sh.plan.nodes.len();
        let mut out = BatchOut {
            sinks: (0..n).map(|_| None).collect(),
            tables: (0..n).map(|_| None).collect(),
            errors: 0,
            fatal: None,
            bytes: 0,
        };
        self.walk(sh, origin, rows, &mut batch, &mut out);
        let mut entries = std::mem::take(&mut batch.errors);
        entries.sort_by_key(|e| e.prov);
        let fatal_at = match sh.errors_node {
            None => entries.first().map(|e| e.prov),
            Some(_) => {
                entries.iter().find(|e| batch.provs[e.prov as usize].from_errors).map(|e| e.prov)
            }
        };
        if let Some(p) = fatal_at {
            let e = entries.iter().find(|e| e.prov == p);
            if let Some(e) = e {
                out.fatal = Some(fatal(&batch, e));
            }
            entries.retain(|e| e.prov < p);
            if sh.errors_node.is_none() {
                return out;
            }
        }
        let Some(errors_node) = sh.errors_node else { return out };
        if entries.is_empty() {
            return out;
        }
        // Error rows, pushed from the errors node.
        let errors_source = batch.sources.len() as u32;
        batch.sources.push(Arc::from("errors"));
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
            let prov = batch.provs.len() as u32;
            batch.provs.push(Prov {
                source: errors_source,
                line: k as u64 + 1,
                raw: Raw::Owned(text),
                from_errors: true,
            });
            if !row.is_null() {
                rows.push((row as *const u8, prov));
            }
        }
        out.errors += entries.len() as u64;
        if out.fatal.is_none() {
            self.walk(sh, errors_node, rows, &mut batch, &mut out);
            let mut more = std::mem::take(&mut batch.errors);
            more.sort_by_key(|e| e.prov);
            if let Some(e) = more.first() {
                out.fatal = Some(fatal(&batch, e));
            }
        }
        out
    }

    fn walk(
        &mut self,
        sh: &Shared,
        origin: usize,
        rows: Vec<Row>,
        batch: &mut Batch,
        out: &mut BatchOut,
    ) {
        let nodes = &sh.plan.nodes;
        let mut outs: Vec<Vec<Row>> = (0..nodes.len()).map(|_| Vec::new()).collect();
        if let Some(o) = outs.get_mut(origin) {
            *o = rows;
        }
        let arena: *mut Arena = &mut *self.arena;
        for (i, node) in nodes.iter().enumerate().skip(origin + 1) {
            let Some(inp) = node.input() else { continue };
            let (before, after) = outs.split_at_mut(i);
            let input = &before[inp];
            if input.is_empty() {
                continue;
            }
            let mine = &mut after[0];
            match node {
                PNode::Stage { f, name, .. } => {
                    let mut emitted: Vec<*const u8> = Vec::new();
                    let mut ctx = RowCtx {
                        arena,
                        out: &mut emitted,
                        err_site: 0,
                        err_msg: KStr { ptr: std::ptr::null(), len: 0 },
                    };
                    for &(row, prov) in input {
                        // SAFETY: `ctx.out` is `emitted`, accessed only through it here.
                        unsafe { (*ctx.out).clear() };
                        // SAFETY: `row` is a live value of the stage's input type; the
                        // context's arena and vector are alive for the call.
                        let rc = unsafe { f(&mut ctx, row) };
                        // SAFETY: as above.
                        mine.extend(unsafe { &*ctx.out }.iter().map(|&r| (r, prov)));
                        if rc != 0 {
                            batch.errors.push(site_entry(sh, &ctx, prov, name));
                        }
                    }
                }
                PNode::Sink { .. } => {
                    let so = out.sinks[i].get_or_insert_with(SinkOut::default);
                    let Some(enc) = &sh.encoders[i] else { continue };
                    for &(row, prov) in input {
                        if so.marks.last().is_none_or(|m| m.0 != prov) {
                            so.marks.push((prov, so.buf.len()));
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
                    let buf = unsafe { (*arena).alloc(gp.proj_ty.size(), gp.proj_ty.align()) };
                    if buf.is_null() {
                        continue;
                    }
                    let mut emitted: Vec<*const u8> = Vec::new();
                    let mut ctx = RowCtx {
                        arena,
                        out: &mut emitted,
                        err_site: 0,
                        err_msg: KStr { ptr: std::ptr::null(), len: 0 },
                    };
                    for &(row, prov) in input {
                        // SAFETY: `buf` holds `proj_ty.size()` bytes.
                        unsafe { std::ptr::write_bytes(buf, 0, gp.proj_ty.size()) };
                        if let Some(proj) = gp.proj {
                            // SAFETY: `row` is a live input value; `buf` is a zeroed,
                            // aligned projection buffer.
                            if unsafe { proj(&mut ctx, row, buf) } != 0 {
                                batch.errors.push(site_entry(sh, &ctx, prov, name));
                                continue;
                            }
                        }
                        let pv = &batch.provs[prov as usize];
                        let owned = || OwnedProv {
                            source: batch
                                .sources
                                .get(pv.source as usize)
                                .cloned()
                                .unwrap_or_else(|| Arc::from("")),
                            line: pv.line,
                            raw: pv.raw_bytes().into_owned(),
                            from_errors: pv.from_errors,
                        };
                        // SAFETY: `buf` holds a projection written by `proj`.
                        if unsafe { table.add(&gp.plans, gp.key.as_ref(), buf, owned) }.is_err() {
                            batch.errors.push(ErrEntry {
                                prov,
                                site: None,
                                stage: name.clone(),
                                message: "out of memory".into(),
                                location: String::new(),
                            });
                        }
                    }
                }
                PNode::Source { .. } | PNode::Errors => {}
            }
        }
    }
}

fn site_entry(sh: &Shared, ctx: &RowCtx, prov: u32, node: &str) -> ErrEntry {
    let site = sh.plan.sites.get(ctx.err_site as usize);
    ErrEntry {
        prov,
        site: Some(ctx.err_site),
        stage: site.map_or_else(|| node.to_string(), |s| s.stage.clone()),
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
        prov: e.prov,
        from_errors: pv.from_errors,
    }
}
