//! The run: a reader thread cuts sources into chunks, `threads` workers push each chunk
//! through the plan ([`super::engine`]), and the calling thread consumes the results
//! strictly in chunk order: it writes sink bytes, merges group tables, counts errors and
//! finishes groups when their input ends.

use super::agg::{OwnedProv, Table, write_aggs};
use super::engine::{Batch, BatchOut, Engine, ErrEntry, Partial, Raw, Row, Shared, op_order};
use super::plan::{Failure, Options, PNode, Plan, SinkFormat, SourceKind, Streams, Summary};
use super::seq::{SeqCx, SeqState};
use crate::arena::Arena;
use crate::io::chunk::Chunk;
use crate::io::{ChunkReader, CsvDecoder, Format, JsonDecoder, decode_line};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

/// Arenas of finished ordered batches, for the workers to reuse (boxed: the engine hands
/// its arena's address to generated code).
#[allow(clippy::vec_box)]
type Pool = Mutex<Vec<Box<Arena>>>;

/// The stack reserved for each worker thread.
pub const WORKER_STACK: usize = 1 << 30;

/// Elements of a `range` per chunk.
const RANGE_CHUNK: i64 = 1 << 16;

enum Decoder {
    Json(JsonDecoder),
    Csv(CsvDecoder),
    Lines,
}

enum Job {
    Chunk {
        node: usize,
        chunk: Chunk,
        dec: Arc<Decoder>,
        format: Format,
        source: Arc<str>,
    },
    Range {
        node: usize,
        a: i64,
        lo: i64,
        hi: i64,
        source: Arc<str>,
    },
    /// All chunks of this source were sent.
    End(usize),
    Fail(Failure),
}

enum Done {
    Batch(BatchOut),
    /// A batch of an ordered plan, for the consumer to finish.
    Partial(Box<Partial>),
    End(usize),
    Fail(Failure),
}

/// Runs `plan`. See the module documentation of [`super`].
pub fn run(plan: &Plan, opts: &Options) -> Result<Summary, Failure> {
    let shared = Shared::new(plan)?;
    let streams = opts.streams.as_deref();
    guard_paths(plan, streams)?;
    let mut sinks = open_sinks(plan, streams)?;
    let r = run_open(plan, opts, &shared, &mut sinks);
    let flushed = flush_sinks(plan, &mut sinks);
    r.and_then(|s| flushed.map(|()| s))
}

struct SinkFile {
    out: Option<Box<dyn Write>>,
    path: String,
}

fn what(path: &str, out: bool) -> String {
    match path {
        "-" if out => "standard output".into(),
        "-" => "standard input".into(),
        p => format!("`{p}`"),
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a folder, not a file".into(),
        _ => e.to_string(),
    }
}

/// Refuses, before any sink file is created, a sink that would overwrite a source's input or
/// another sink's output, and a second source of standard input ([`crate::io::clobber`]).
fn guard_paths(plan: &Plan, streams: Option<&Streams>) -> Result<(), Failure> {
    let mut eps = Vec::new();
    let streamed = |name: &str, sink| streams.is_some_and(|s| s.has(name, sink));
    for node in &plan.nodes {
        match node {
            PNode::Source { name, .. } if streamed(name, false) => {}
            PNode::Sink { name, .. } if streamed(name, true) => {}
            PNode::Source { kind, path, name, .. } if !matches!(kind, SourceKind::Range(..)) => {
                eps.push(crate::io::clobber::Endpoint { path, name, is_sink: false });
            }
            PNode::Sink { format, path: Some(path), name, .. }
                if !matches!(format, SinkFormat::Stdout | SinkFormat::Discard) =>
            {
                eps.push(crate::io::clobber::Endpoint { path, name, is_sink: true });
            }
            _ => {}
        }
    }
    crate::io::clobber::check(&eps)
        .map_err(|c| Failure::Io { node: eps[c.at].name.to_string(), message: c.message })
}

/// Creates (truncates) every sink's file, in plan order, and writes CSV headers.
fn open_sinks(plan: &Plan, streams: Option<&Streams>) -> Result<Vec<Option<SinkFile>>, Failure> {
    let mut v = Vec::new();
    for node in &plan.nodes {
        let PNode::Sink { format, path, ty, name, .. } = node else {
            v.push(None);
            continue;
        };
        if let Some(w) = streams.and_then(|s| s.take_sink(name)) {
            let mut out: Box<dyn Write> = Box::new(w);
            if *format == SinkFormat::Csv {
                let fail = |message: String| Failure::Io { node: name.clone(), message };
                let enc = crate::io::CsvEncoder::new(ty).map_err(&fail)?;
                let mut h = Vec::new();
                enc.write_header(&mut h);
                out.write_all(&h).map_err(|e| fail(format!("cannot write sink `{name}`: {e}")))?;
            }
            v.push(Some(SinkFile { out: Some(out), path: format!("sink `{name}`") }));
            continue;
        }
        let path = match format {
            SinkFormat::Stdout => "-".to_string(),
            SinkFormat::Discard => String::new(),
            _ => path.clone().unwrap_or_else(|| "-".into()),
        };
        let fail = |message: String| Failure::Io { node: name.clone(), message };
        let mut out: Option<Box<dyn Write>> = match format {
            SinkFormat::Discard => None,
            _ if path == "-" => Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
            _ => {
                let p = std::path::Path::new(&path);
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| fail(format!("cannot create `{}`: {e}", dir.display())))?;
                }
                let f = std::fs::File::create(p)
                    .map_err(|e| fail(format!("cannot write `{path}`: {}", io_message(&e))))?;
                Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)))
            }
        };
        if *format == SinkFormat::Csv
            && let Some(w) = out.as_mut()
        {
            let enc = crate::io::CsvEncoder::new(ty).map_err(&fail)?;
            let mut h = Vec::new();
            enc.write_header(&mut h);
            w.write_all(&h).map_err(|e| fail(crate::io::write::write_error(&path, &e)))?;
        }
        v.push(Some(SinkFile { out, path }));
    }
    Ok(v)
}

fn flush_sinks(plan: &Plan, sinks: &mut [Option<SinkFile>]) -> Result<(), Failure> {
    let mut r = Ok(());
    for (node, s) in plan.nodes.iter().zip(sinks.iter_mut()) {
        if let Some(SinkFile { out: Some(w), path }) = s
            && let Err(e) = w.flush()
            && r.is_ok()
        {
            r = Err(Failure::Io {
                node: node.name().to_string(),
                message: crate::io::write::write_error(path, &e),
            });
        }
    }
    r
}

/// For every node, the sources (and errors node) its rows come from.
fn roots(plan: &Plan) -> Vec<Vec<usize>> {
    let mut r: Vec<Vec<usize>> = Vec::with_capacity(plan.nodes.len());
    for (i, n) in plan.nodes.iter().enumerate() {
        let mut mine: Vec<usize> = n.inputs().flat_map(|j| r[j].iter().copied()).collect();
        if n.input().is_none() {
            mine.push(i);
        }
        mine.sort_unstable();
        mine.dedup();
        r.push(mine);
    }
    r
}

fn run_open(
    plan: &Plan,
    opts: &Options,
    sh: &Shared,
    sinks: &mut [Option<SinkFile>],
) -> Result<Summary, Failure> {
    let threads = opts.threads.max(1);
    let cap = 2 * threads;
    let consumed: Vec<bool> = {
        let mut c = vec![false; plan.nodes.len()];
        for n in &plan.nodes {
            for i in n.inputs() {
                if let Some(x) = c.get_mut(i) {
                    *x = true;
                }
            }
        }
        c
    };
    let sources: Vec<usize> = (0..plan.nodes.len())
        .filter(|&i| matches!(plan.nodes[i], PNode::Source { .. }) && consumed[i])
        .collect();
    let total: u64 = sources
        .iter()
        .map(|&i| match &plan.nodes[i] {
            PNode::Source { kind: SourceKind::Range(..), .. } => Some(0),
            PNode::Source { path, .. } if path != "-" => {
                std::fs::metadata(path).ok().map(|m| m.len())
            }
            _ => None,
        })
        .try_fold(0u64, |acc, x| x.map(|x| acc + x))
        .unwrap_or(0);
    let stop = AtomicBool::new(false);
    if small_input(plan, opts, &sources) {
        // A few records: read, compute and write them on this thread, one step after the
        // other, rather than wake threads for them (a built executable's cold start). The
        // input is at most one chunk per source, so every job fits the channels.
        let cap = 8 * sources.len() + 8;
        let (job_tx, job_rx) = sync_channel::<(u64, Job)>(cap);
        let (tok_tx, tok_rx) = sync_channel::<()>(cap);
        for _ in 0..cap {
            let _ = tok_tx.send(());
        }
        let (res_tx, res_rx) = channel::<(u64, Done)>();
        let pool: Pool = Mutex::new(Vec::new());
        reader(plan, opts, &sh.chunk_target, &sources, job_tx, tok_rx, &stop);
        worker(sh, &Mutex::new(job_rx), res_tx, &stop, &pool);
        return Consumer::new(plan, sh, sinks, total, opts, &pool).consume(res_rx, tok_tx);
    }
    let (job_tx, job_rx) = sync_channel::<(u64, Job)>(cap);
    let job_rx = Mutex::new(job_rx);
    let (tok_tx, tok_rx) = sync_channel::<()>(cap);
    for _ in 0..cap {
        let _ = tok_tx.send(());
    }
    let (res_tx, res_rx) = channel::<(u64, Done)>();
    let pool: Pool = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        let stop = &stop;
        let sources = &sources;
        let pool = &pool;
        let target = &sh.chunk_target;
        s.spawn(move || reader(plan, opts, target, sources, job_tx, tok_rx, stop));
        for _ in 0..threads {
            let job_rx = &job_rx;
            // Compiled code may recurse (user fns and prompts, 10,000 calls deep at most):
            // workers reserve as much stack as the thread `kiln run` runs on (committed
            // only as it is used).
            let tx = res_tx.clone();
            let big = std::thread::Builder::new()
                .name("kiln-worker".into())
                .stack_size(WORKER_STACK)
                .spawn_scoped(s, move || worker(sh, job_rx, tx, stop, pool));
            if big.is_err() {
                let tx = res_tx.clone();
                s.spawn(move || worker(sh, job_rx, tx, stop, pool));
            }
        }
        drop(res_tx);
        let r = Consumer::new(plan, sh, sinks, total, opts, pool).consume(res_rx, tok_tx);
        stop.store(true, Ordering::Relaxed);
        r
    })
}

/// Whether every source of the run is small enough to run on the calling thread: a `range`
/// of at most one range chunk, or a regular file of at most one chunk of the smallest size
/// the reader cuts ([`crate::io::chunk::MIN_CHUNK_SIZE`]) and of the run's chunk size (not
/// standard input, not a stream fed by a host).
fn small_input(plan: &Plan, opts: &Options, sources: &[usize]) -> bool {
    sources.iter().all(|&i| match &plan.nodes[i] {
        PNode::Source { kind: SourceKind::Range(a, b), .. } => b.saturating_sub(*a) <= RANGE_CHUNK,
        PNode::Source { path, name, .. } => {
            path != "-"
                && !opts.streams.as_ref().is_some_and(|s| s.has(name, false))
                && std::fs::metadata(path).is_ok_and(|m| {
                    let one_chunk = opts.chunk_size.min(crate::io::chunk::MIN_CHUNK_SIZE);
                    m.is_file() && m.len() <= one_chunk as u64
                })
        }
        _ => true,
    })
}

fn reader(
    plan: &Plan,
    opts: &Options,
    target: &crate::io::chunk::ChunkTarget,
    sources: &[usize],
    job_tx: SyncSender<(u64, Job)>,
    tok_rx: Receiver<()>,
    stop: &AtomicBool,
) {
    let mut seq = 0u64;
    let mut send = |job: Job| -> bool {
        if stop.load(Ordering::Relaxed) || tok_rx.recv().is_err() {
            return false;
        }
        let ok = job_tx.send((seq, job)).is_ok();
        seq += 1;
        ok
    };
    for &node in sources {
        let PNode::Source { kind, path, shown, ty, name, unread } = &plan.nodes[node] else {
            continue;
        };
        let fail = |m: String| {
            Job::Fail(Failure::Io {
                node: name.clone(),
                message: format!("cannot read {}: {m}", what(path, false)),
            })
        };
        match kind {
            SourceKind::Range(a, b) => {
                let source: Arc<str> = Arc::from(format!("range({a}, {b})"));
                let mut lo = *a;
                while lo < *b {
                    let hi = lo.saturating_add(RANGE_CHUNK).min(*b);
                    if !send(Job::Range { node, a: *a, lo, hi, source: source.clone() }) {
                        return;
                    }
                    lo = hi;
                }
            }
            _ => {
                let format = match kind {
                    SourceKind::Jsonl => Format::Jsonl,
                    SourceKind::Csv => Format::Csv,
                    _ => Format::Lines,
                };
                let streamed = opts.streams.as_ref().and_then(|s| s.take_source(name));
                let opened = match streamed {
                    Some(r) => Ok(ChunkReader::from_reader(r, format)),
                    None => ChunkReader::open(path, format),
                };
                let mut chunks = match opened {
                    Ok(r) => r.with_chunk_size(opts.chunk_size),
                    Err(e) => {
                        send(fail(io_message(&e)));
                        return;
                    }
                };
                let dec = match kind {
                    SourceKind::Jsonl => {
                        Some(Decoder::Json(JsonDecoder::new(ty).with_unread(unread)))
                    }
                    SourceKind::Csv => match chunks.read_header() {
                        Err(e) => {
                            send(fail(io_message(&e)));
                            return;
                        }
                        Ok(None) => {
                            send(fail(crate::io::csv::NO_HEADER.into()));
                            return;
                        }
                        Ok(Some((_, h))) => match CsvDecoder::new(ty, &h) {
                            Ok(d) => Some(Decoder::Csv(d)),
                            Err(m) => {
                                send(fail(m));
                                return;
                            }
                        },
                    },
                    _ => Some(Decoder::Lines),
                };
                if let Some(dec) = dec {
                    let dec = Arc::new(dec);
                    let format = chunks.format();
                    let source: Arc<str> = Arc::from(shown.as_str());
                    loop {
                        chunks.set_chunk_size(target.limit(opts.chunk_size));
                        match chunks.next_chunk() {
                            Ok(Some(chunk)) => {
                                let job = Job::Chunk {
                                    node,
                                    chunk,
                                    dec: dec.clone(),
                                    format,
                                    source: source.clone(),
                                };
                                if !send(job) {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                send(fail(io_message(&e)));
                                return;
                            }
                        }
                    }
                }
            }
        }
        if !send(Job::End(node)) {
            return;
        }
    }
}

fn worker(
    sh: &Shared,
    job_rx: &Mutex<Receiver<(u64, Job)>>,
    res_tx: std::sync::mpsc::Sender<(u64, Done)>,
    stop: &AtomicBool,
    pool: &Pool,
) {
    let mut engine = Engine::new();
    loop {
        let next = match job_rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, job)) = next else { return };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let done = match job {
            Job::Chunk { node, chunk, dec, format, source } => {
                chunk_batch(&mut engine, sh, node, chunk, &dec, format, source, pool)
            }
            Job::Range { node, a, lo, hi, source } => {
                range_batch(&mut engine, sh, node, a, lo, hi, source, pool)
            }
            Job::End(n) => Done::End(n),
            Job::Fail(f) => Done::Fail(f),
        };
        if res_tx.send((seq, done)).is_err() {
            return;
        }
    }
}

/// Finishes a batch on a worker: all of it, or (ordered plans) the worker's share, the
/// rest going to the consumer with the memory its rows live in.
fn hand_over(
    engine: &mut Engine,
    sh: &Shared,
    node: usize,
    rows: Vec<Row>,
    batch: Batch,
    chunk: Option<Chunk>,
    pool: &Pool,
) -> Done {
    if sh.ordered {
        let fresh = pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
        let p = engine.start(sh, node, rows, batch, chunk, fresh);
        if let Some(c) = &p.chunk {
            sh.chunk_target.observe(c.len(), p.arena.used());
        }
        return Done::Partial(Box::new(p));
    }
    let mut out = engine.run(sh, node, rows, batch, None);
    if let Some(chunk) = chunk {
        out.bytes = chunk.len() as u64;
        sh.chunk_target.observe(chunk.len(), engine.arena.used());
        // Nothing refers to the chunk's bytes any more.
        chunk.release();
    }
    Done::Batch(out)
}

#[allow(clippy::too_many_arguments)]
fn chunk_batch(
    engine: &mut Engine,
    sh: &Shared,
    node: usize,
    chunk: Chunk,
    dec: &Decoder,
    format: Format,
    source: Arc<str>,
    pool: &Pool,
) -> Done {
    engine.arena.reset();
    let mut batch = Batch::new(vec![source]);
    batch.maps.extend(chunk.mapped_input());
    let PNode::Source { ty, name, .. } = &sh.plan.nodes[node] else {
        return Done::Batch(engine.run(sh, node, Vec::new(), batch, None));
    };
    let (size, align) = (ty.size(), ty.align());
    let mut rows: Vec<Row> = Vec::new();
    for (line, rec) in chunk.records(format) {
        let prov = batch.push(0, line, Raw::Ptr(rec.as_ptr(), rec.len()), false);
        let p = engine.arena.alloc(size.max(16), align);
        let r = if p.is_null() {
            Err(crate::io::RecordError::new("out of memory"))
        } else {
            // SAFETY: `p` holds `size.max(16)` fresh bytes of the arena, used only here.
            let out = unsafe { std::slice::from_raw_parts_mut(p, size.max(16)) };
            out.fill(0);
            match dec {
                Decoder::Json(d) => d.decode(rec, out, &mut engine.arena),
                Decoder::Csv(d) => d.decode(rec, out, &mut engine.arena),
                Decoder::Lines => decode_line(rec, out),
            }
        };
        match r {
            Ok(()) => rows.push((p as *const u8, prov)),
            Err(e) => batch.errors.push(ErrEntry {
                prov,
                order: op_order(node, 0),
                site: None,
                stage: name.clone(),
                message: e.message,
                location: String::new(),
            }),
        }
    }
    hand_over(engine, sh, node, rows, batch, Some(chunk), pool)
}

#[allow(clippy::too_many_arguments)]
fn range_batch(
    engine: &mut Engine,
    sh: &Shared,
    node: usize,
    a: i64,
    lo: i64,
    hi: i64,
    source: Arc<str>,
    pool: &Pool,
) -> Done {
    engine.arena.reset();
    let mut batch = Batch::new(vec![source]);
    let n = usize::try_from(hi.saturating_sub(lo)).unwrap_or(0);
    let base = engine.arena.alloc(n * 8, 8).cast::<i64>();
    let mut rows = Vec::with_capacity(n);
    if !base.is_null() {
        for (k, i) in (lo..hi).enumerate() {
            // SAFETY: `base` holds `n` i64 slots; `k < n`.
            unsafe { base.add(k).write(i) };
            let prov = batch.push(0, i.wrapping_sub(a) as u64 + 1, Raw::Int(i), false);
            // SAFETY: as above.
            rows.push((unsafe { base.add(k) } as *const u8, prov));
        }
    }
    hand_over(engine, sh, node, rows, batch, None, pool)
}

/// The ordered consumer (the calling thread).
struct Consumer<'a, 'p> {
    plan: &'p Plan,
    sh: &'a Shared<'p>,
    sinks: &'a mut [Option<SinkFile>],
    tables: Vec<Option<Table>>,
    /// The order-dependent operators' states, by node.
    seq: Vec<SeqState>,
    roots: Vec<Vec<usize>>,
    done: Vec<bool>,
    finished: Vec<bool>,
    /// Every source has ended and so has the errors stream: what is released now may
    /// not fail into it.
    errors_ended: bool,
    engine: Engine,
    summary: Summary,
    bytes: u64,
    total: u64,
    opts: &'a Options,
    pool: &'a Pool,
}

impl<'a, 'p> Consumer<'a, 'p> {
    fn new(
        plan: &'p Plan,
        sh: &'a Shared<'p>,
        sinks: &'a mut [Option<SinkFile>],
        total: u64,
        opts: &'a Options,
        pool: &'a Pool,
    ) -> Self {
        let n = plan.nodes.len();
        Consumer {
            plan,
            sh,
            sinks,
            tables: (0..n).map(|_| None).collect(),
            seq: plan
                .nodes
                .iter()
                .map(|n| match n {
                    PNode::Seq { op, .. } => SeqState::new(op),
                    _ => SeqState::Done,
                })
                .collect(),
            roots: roots(plan),
            done: vec![false; n],
            finished: vec![false; n],
            errors_ended: false,
            engine: Engine::new(),
            summary: Summary::default(),
            bytes: 0,
            total,
            opts,
            pool,
        }
    }

    fn consume(
        mut self,
        res_rx: Receiver<(u64, Done)>,
        tok_tx: SyncSender<()>,
    ) -> Result<Summary, Failure> {
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        while let Ok((seq, done)) = res_rx.recv() {
            pending.insert(seq, done);
            while let Some(done) = pending.remove(&next) {
                next += 1;
                // `kiln repl`: Ctrl-C during `:run` (see `interrupt`).
                if super::interrupt::requested() {
                    let message = super::interrupt::MESSAGE.to_string();
                    return Err(Failure::Io { node: String::new(), message });
                }
                match done {
                    Done::Batch(out) => {
                        self.bytes += out.bytes;
                        self.apply(out)?;
                        if let Some(p) = &self.opts.progress {
                            p(self.bytes, self.total);
                        }
                    }
                    Done::Partial(mut part) => {
                        part.batch.errors_base = Some(self.summary.errors);
                        let (out, mut arena, chunk) =
                            self.engine.resume(self.sh, *part, &mut self.seq);
                        if let Some(chunk) = chunk {
                            self.bytes += chunk.len() as u64;
                            chunk.release();
                        }
                        arena.reset();
                        if let Ok(mut p) = self.pool.lock() {
                            p.push(arena);
                        }
                        self.apply(out)?;
                        if let Some(p) = &self.opts.progress {
                            p(self.bytes, self.total);
                        }
                    }
                    Done::End(src) => {
                        self.done[src] = true;
                        self.finish_ready(false)?;
                    }
                    Done::Fail(f) => return Err(f),
                }
                let _ = tok_tx.send(());
            }
        }
        drop(tok_tx);
        self.finish_ready(true)?;
        Ok(self.summary)
    }

    /// Writes a batch's sink bytes, merges its tables, counts its errors.
    fn apply(&mut self, out: BatchOut) -> Result<(), Failure> {
        let errors_before = self.summary.errors;
        let shift = if out.lines_global { 0 } else { errors_before };
        let cut = out.fatal.as_ref().map(|f| f.prov);
        for (i, so) in out.sinks.iter().enumerate() {
            let Some(so) = so else { continue };
            let bytes = match cut {
                Some(p) => so.before(p),
                None => &so.buf[..],
            };
            if let Some(Some(SinkFile { out: Some(w), path })) = self.sinks.get_mut(i)
                && !bytes.is_empty()
            {
                w.write_all(bytes).map_err(|e| Failure::Io {
                    node: self.plan.nodes[i].name().to_string(),
                    message: crate::io::write::write_error(path, &e),
                })?;
            }
        }
        self.summary.errors += out.errors;
        if let Some(f) = out.fatal {
            let mut failure = f.failure;
            if f.from_errors
                && let Failure::Record { line, .. } = &mut failure
            {
                *line += shift;
            }
            return Err(failure);
        }
        for (i, t) in out.tables.into_iter().enumerate() {
            let Some(t) = t else { continue };
            let Some(gp) = &self.sh.groups[i] else { continue };
            let global = self.tables[i].get_or_insert_with(Table::default);
            if global.merge(&gp.plans, gp.key.as_ref(), t, shift).is_err() {
                return Err(Failure::Io {
                    node: self.plan.nodes[i].name().to_string(),
                    message: "out of memory".into(),
                });
            }
        }
        Ok(())
    }

    /// Whether every source (and, with `all`, the errors stream) feeding node `n` ended.
    fn ended(&self, n: usize, all: bool) -> bool {
        self.roots[n].iter().all(|&r| match &self.plan.nodes[r] {
            PNode::Source { .. } => self.done[r] || all,
            _ => all,
        })
    }

    /// Finishes, in plan order, the nodes whose awaited input has ended: groups and
    /// aggregates, `sort_by` and `batch` (their input), `join` (its right side), `union`
    /// (its first stream). With `all`, every input has ended, the errors stream too.
    fn finish_ready(&mut self, all: bool) -> Result<(), Failure> {
        self.errors_ended = all;
        for g in 0..self.plan.nodes.len() {
            if self.finished[g] {
                continue;
            }
            let awaited = match &self.plan.nodes[g] {
                PNode::Group { input, .. } | PNode::Aggregate { input, .. } => Some(*input),
                PNode::Seq { op: super::plan::SeqOp::Join { right, .. }, .. } => Some(*right),
                PNode::Seq {
                    op:
                        super::plan::SeqOp::Sort { .. }
                        | super::plan::SeqOp::Batch(_)
                        | super::plan::SeqOp::Union { .. },
                    input,
                    ..
                } => Some(*input),
                _ => None,
            };
            let Some(awaited) = awaited else { continue };
            if self.ended(awaited, all) {
                self.finished[g] = true;
                if self.sh.groups[g].is_some() {
                    self.finish(g)?;
                } else {
                    self.flush(g)?;
                }
            }
        }
        Ok(())
    }

    /// A fresh batch on the consumer thread.
    fn batch(&self) -> Batch {
        let mut b = Batch::new(Vec::new());
        b.errors_base = Some(self.summary.errors);
        b.errors_ended = self.errors_ended;
        b
    }

    /// Releases what order-dependent operator `g` kept, down the plan, a part at a time
    /// (see [`SeqCx::flush`]).
    fn flush(&mut self, g: usize) -> Result<(), Failure> {
        loop {
            if !self.flush_part(g)? {
                return Ok(());
            }
        }
    }

    /// Releases the next part of what operator `g` kept; true when more is left.
    fn flush_part(&mut self, g: usize) -> Result<bool, Failure> {
        let PNode::Seq { op, ty, out, name, .. } = &self.plan.nodes[g] else { return Ok(false) };
        self.engine.arena.reset();
        let mut batch = self.batch();
        let mut rows = Vec::new();
        let (keep, more) = {
            let arena: *mut Arena = &mut *self.engine.arena;
            let mut cx = SeqCx { sh: self.sh, arena, batch: &mut batch, name, node: g };
            cx.flush(op, &mut self.seq[g], ty, out, &mut rows)
        };
        // Each released row is a unit of its own (docs/run.md): when a stage reads the
        // errors stream, a unit's error records must go through it before the next unit
        // is released, so the release goes down unit by unit; otherwise all at once.
        let reads_errors = self
            .sh
            .errors_node
            .is_some_and(|e| self.plan.nodes.iter().any(|n| n.inputs().any(|i| i == e)));
        if !reads_errors || batch.provs.len() <= 1 {
            let out = self.engine.run(self.sh, g, rows, batch, Some(&mut self.seq));
            drop(keep);
            return self.apply(out).map(|()| more);
        }
        let Batch { sources, maps, mut provs, errors, .. } = batch;
        let mut errors: Vec<Option<ErrEntry>> = errors.into_iter().map(Some).collect();
        let mut rows: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
        for (k, pv) in provs.iter_mut().enumerate() {
            let mut b = self.batch();
            b.sources = sources.clone();
            b.maps = maps.clone();
            let raw = std::mem::replace(&mut pv.raw, Raw::Int(0));
            let at = b.push(pv.source, pv.line, raw, pv.from_errors);
            let mine: Vec<Row> = rows
                .iter_mut()
                .filter(|r| r.is_some_and(|(_, p)| p as usize == k))
                .filter_map(|r| r.take().map(|(row, _)| (row, at)))
                .collect();
            for e in errors.iter_mut().filter(|e| e.as_ref().is_some_and(|e| e.prov as usize == k))
            {
                if let Some(mut e) = e.take() {
                    e.prov = at;
                    b.errors.push(e);
                }
            }
            if mine.is_empty() && b.errors.is_empty() {
                continue;
            }
            let out = self.engine.run(self.sh, g, mine, b, Some(&mut self.seq));
            self.apply(out)?;
        }
        drop(keep);
        // Every row and error of the release belongs to one of its provenances.
        if rows.iter().any(Option::is_some) || errors.iter().any(Option::is_some) {
            return Err(Failure::Io {
                node: self.plan.nodes[g].name().to_string(),
                message: "internal error: a released row lost its provenance".into(),
            });
        }
        Ok(more)
    }

    fn finish(&mut self, g: usize) -> Result<(), Failure> {
        let Some(gp) = &self.sh.groups[g] else { return Ok(()) };
        let (out_ty, site) = match &self.plan.nodes[g] {
            PNode::Group { out, site, .. } | PNode::Aggregate { out, site, .. } => (out, *site),
            _ => return Ok(()),
        };
        let is_group = matches!(self.plan.nodes[g], PNode::Group { .. });
        let mut table = self.tables[g].take().unwrap_or_default();
        if !is_group && table.groups.is_empty() {
            // `aggregate` over an empty stream: one row of empty aggregates.
            table.groups.push(super::agg::GroupState {
                key: Vec::new(),
                kb: Vec::new(),
                prov: OwnedProv::default(),
                accs: gp.plans.iter().map(super::agg::AggPlan::empty_acc).collect(),
            });
        }
        self.engine.arena.reset();
        let offs = out_ty.field_offsets();
        let agg_offs = if is_group { offs.get(1..).unwrap_or(&[]) } else { &offs[..] };
        let mut batch = self.batch();
        let mut rows = Vec::with_capacity(table.groups.len());
        let oom = || Failure::Io {
            node: self.plan.nodes[g].name().to_string(),
            message: "out of memory".into(),
        };
        for grp in &table.groups {
            let prov = batch.push_owned(grp.prov.clone(), None);
            let row = self.engine.arena.alloc_zeroed(out_ty.size(), out_ty.align());
            if row.is_null() {
                return Err(oom());
            }
            if is_group && let Some(kt) = &gp.key {
                // SAFETY: the key is the record's first field (offset 0); `grp.key` holds
                // its bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        grp.key.as_ptr(),
                        row,
                        kt.size().min(grp.key.len()),
                    )
                };
            }
            // SAFETY: `row` is a zeroed record of `out_ty`, whose aggregate fields are at
            // `agg_offs` with the plans' output types.
            match unsafe { write_aggs(&gp.plans, &grp.accs, agg_offs, row, &mut self.engine.arena) }
            {
                Err(_) => return Err(oom()),
                Ok(Err((i, message))) => {
                    // The node's sites: one per aggregate, from `site` on.
                    let site = site.saturating_add(i as u32);
                    let stage = self.plan.sites.get(site as usize);
                    batch.errors.push(ErrEntry {
                        prov,
                        order: op_order(g, 0),
                        site: Some(site),
                        stage: stage.filter(|s| !s.stage.is_empty()).map_or_else(
                            || self.plan.nodes[g].name().to_string(),
                            |s| s.stage.clone(),
                        ),
                        message,
                        location: stage.map(|s| s.location.clone()).unwrap_or_default(),
                    });
                }
                Ok(Ok(())) => rows.push((row as *const u8, prov)),
            }
        }
        let out = self.engine.run(self.sh, g, rows, batch, Some(&mut self.seq));
        drop(table);
        self.apply(out)
    }
}
