//! The executor: a push-based walk of the dataflow graph, single-threaded and in order.
//!
//! Sources are read one after another, in read order ([`Pipeline::read_order`]: the right
//! sides of joins first, else declaration order); every record is pushed
//! through the operator chain of each consumer and on to the sinks. Stateless operators
//! pass elements on at once; `sort_by`, `group_by`, `aggregate` and `batch` hold them until
//! their input ends; `join` holds its left elements until the right side has been read
//! completely; `union` holds its second operand until the first one has ended. So every
//! sink sees its elements in the order of LANGUAGE.md §1.5, whatever the graph.
//!
//! Work happens in *units*: one input record, or one row released when an input ends, is
//! pushed through every branch downstream before the next. A unit's sink rows are staged
//! and written when it completes, and its failures (cannot be decoded, or an expression
//! fails) are collected and ordered by where they happened in the plan order
//! ([`Pipeline::plan_order`]: stage by stage, operator by operator, element by element).
//! With an `errors` node they then become error records, one after the other (each goes
//! through the stages reading `errors` before the next); without one, or for a row
//! derived from an error record, or once the errors stream has ended, the first failure
//! stops the run with a diagnostic that names the input file and line, the stage and the
//! failing expression (§1.6), and nothing of that unit is written. When an input ends, the
//! operators waiting for it release their rows in plan order. This is what the compiled
//! executor does (`kiln_runtime::exec`), so both engines give the same output.

use super::agg::{Group, Spec};
use super::input::Reader;
use super::lists::{check_batch, sort_keyed};
use super::output::Sink;
use super::value::{Value, key_of};
use super::{EvalError, Interp};
use crate::check::hir::{SinkFormat, SourceFormat};
use crate::diag::{Diagnostic, codes};
use crate::ir::{NodeKind, Op, Pipeline};
use crate::source::{SourceMap, Span};
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Where an element came from, for error records and messages.
#[derive(Debug)]
pub struct Prov {
    /// The input path (or `range(a, b)`, or `errors`).
    pub source: Rc<str>,
    pub line: u64,
    pub raw: Rc<str>,
    /// The element derives from a record of the `errors` stream.
    pub from_errors: bool,
}

#[derive(Clone)]
struct Item {
    v: Value,
    prov: Rc<Prov>,
}

type Fatal = Box<Diagnostic>;

enum OpState {
    None,
    Count { n: i64, seen: i64 },
    Batch { n: usize, buf: Vec<Value>, prov: Option<Rc<Prov>> },
    Enumerate(i64),
    Distinct(HashSet<Vec<u8>>),
    Sort { desc: bool, items: Vec<(Value, Item)> },
    Group { index: HashMap<Vec<u8>, usize>, groups: Vec<(Value, Group, Rc<Prov>)> },
    Aggregate { group: Option<Group>, prov: Option<Rc<Prov>> },
    Join { table: HashMap<Vec<u8>, Vec<Value>>, pending: Vec<Item>, right_done: bool },
    Union { left_done: bool, other: Vec<Item> },
}

/// A failure of the current unit, before it becomes an error record or stops the run.
struct Failure {
    /// (plan position of the stage, operator index): the unit's failures come in this
    /// order (stable: element by element at one operator).
    order: (usize, usize),
    node: NodeIndex,
    kind: FailKind,
    prov: Rc<Prov>,
}

enum FailKind {
    /// An expression failed: the error record's message ends with its location.
    Eval(EvalError),
    /// A `group_by` / `aggregate` group could not be finished (an int sum that does not
    /// fit): the message alone.
    Group(EvalError),
    /// The record cannot be read (the node is its source).
    Read(String),
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Records sent to the `errors` stream.
    pub errors: u64,
}

pub struct Exec<'p> {
    pub cx: Interp<'p>,
    p: &'p Pipeline,
    map: &'p SourceMap,
    consumers: HashMap<NodeIndex, Vec<(NodeIndex, usize)>>,
    ops: HashMap<NodeIndex, Vec<OpState>>,
    /// For each stage, the op index fed by each extra input edge.
    extra: HashMap<(NodeIndex, usize), usize>,
    sinks: HashMap<NodeIndex, Sink>,
    errors_node: Option<NodeIndex>,
    summary: Summary,
    /// The plan order, and each node's position in it.
    order: Vec<NodeIndex>,
    pos: HashMap<NodeIndex, usize>,
    /// For each operator that waits for an input to end (`(stage, op)`): the sources (or
    /// the errors node) that input comes from.
    awaited: HashMap<(NodeIndex, usize), HashSet<NodeIndex>>,
    /// Operators whose awaited input has ended and that released what they held.
    finished: HashSet<(NodeIndex, usize)>,
    /// Sources read to the end (and the errors node, once every source has).
    ended: HashSet<NodeIndex>,
    errors_ended: bool,
    /// The current unit's sink rows, written when it completes.
    staged: Vec<(NodeIndex, Value)>,
    /// The current unit's failures.
    failures: Vec<Failure>,
}

impl<'p> Exec<'p> {
    /// Prepares a run: evaluates operator arguments (`take(n)`, `desc:`) and opens sinks.
    pub fn new(cx: Interp<'p>, map: &'p SourceMap) -> Result<Exec<'p>, Fatal> {
        let p = cx.p;
        let mut ex = Exec {
            cx,
            p,
            map,
            consumers: HashMap::new(),
            ops: HashMap::new(),
            extra: HashMap::new(),
            sinks: HashMap::new(),
            errors_node: None,
            summary: Summary::default(),
            order: p.plan_order(),
            pos: HashMap::new(),
            awaited: HashMap::new(),
            finished: HashSet::new(),
            ended: HashSet::new(),
            errors_ended: false,
            staged: Vec::new(),
            failures: Vec::new(),
        };
        ex.pos = ex.order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        ex.awaited = awaited(p, &ex.order);
        let order = ex.order.clone();
        // Operator arguments first, so a bad one (`batch(0)`) stops the run before any
        // sink has created (truncated) its file, as with compiled code.
        for &n in &order {
            let mut cons: Vec<(NodeIndex, usize)> = p
                .graph
                .edges_directed(n, Direction::Outgoing)
                .map(|e| (e.target(), *e.weight()))
                .collect();
            cons.sort_by_key(|(t, w)| (t.index(), *w));
            ex.consumers.insert(n, cons);
            match &p.graph[n].kind {
                NodeKind::Errors => ex.errors_node = Some(n),
                NodeKind::Stage { ops, .. } => {
                    let mut states = Vec::with_capacity(ops.len());
                    let mut w = 0;
                    for (i, op) in ops.iter().enumerate() {
                        if matches!(op, Op::Join { .. } | Op::Union { .. }) {
                            w += 1;
                            ex.extra.insert((n, w), i);
                        }
                        let st = ex.init_op(op).map_err(|e| ex.eval_fatal(n, e, None))?;
                        states.push(st);
                    }
                    ex.ops.insert(n, states);
                }
                NodeKind::Sink { .. } | NodeKind::Source { .. } => {}
            }
        }
        // Every path (and `range` bound) next, so a sink that would overwrite an input is refused before any
        // file is created (the runtime's guard, as with compiled code).
        let mut paths: Vec<(NodeIndex, Option<String>)> = Vec::new();
        for &n in &order {
            let e = match &p.graph[n].kind {
                NodeKind::Source { format: SourceFormat::Range, args, .. } => {
                    // A bound that fails stops the run before any sink creates its file.
                    for a in args {
                        ex.cx.eval(a).map_err(|err| ex.eval_fatal(n, err, None))?;
                    }
                    continue;
                }
                NodeKind::Sink { path, .. } => path.as_ref(),
                NodeKind::Source { format, args, .. } if *format != SourceFormat::Range => {
                    args.first()
                }
                _ => continue,
            };
            let path = match e {
                Some(e) => match ex.cx.eval(e).map_err(|err| ex.eval_fatal(n, err, None))? {
                    Value::Str(s) => Some(ex.data_path(e, &s)),
                    _ => None,
                },
                None => None,
            };
            paths.push((n, path));
        }
        ex.guard_paths(&paths)?;
        for (n, path) in paths {
            let NodeKind::Sink { format, .. } = &p.graph[n].kind else { continue };
            let sink = Sink::open(*format, path.as_deref(), &p.graph[n].elem).map_err(|m| {
                Box::new(Diagnostic::new(codes::E0608, p.graph[n].span, m).label("this sink"))
            })?;
            ex.sinks.insert(n, sink);
        }
        Ok(ex)
    }

    /// [`kiln_runtime::io::clobber::check`] on the paths the run opens.
    fn guard_paths(&self, paths: &[(NodeIndex, Option<String>)]) -> Result<(), Fatal> {
        use kiln_runtime::io::clobber::{Endpoint, check};
        let p = self.p;
        let mut nodes = Vec::new();
        let mut names = Vec::new();
        for (n, path) in paths {
            let Some(path) = path.as_deref() else { continue };
            let is_sink = match &p.graph[*n].kind {
                NodeKind::Sink { format: SinkFormat::Stdout | SinkFormat::Discard, .. } => continue,
                NodeKind::Sink { .. } => true,
                _ => false,
            };
            nodes.push((*n, path, is_sink));
            names.push(crate::failure::stage_name(p, self.map, *n));
        }
        let eps: Vec<Endpoint> = nodes
            .iter()
            .zip(&names)
            .map(|(&(_, path, is_sink), name)| Endpoint { path, name, is_sink })
            .collect();
        check(&eps).map_err(|c| {
            let (n, _, is_sink) = nodes[c.at];
            let label =
                if is_sink { "this sink".to_string() } else { format!("source `{}`", names[c.at]) };
            Box::new(Diagnostic::new(codes::E0608, p.graph[n].span, c.message).label(label))
        })
    }

    fn init_op(&mut self, op: &Op) -> Result<OpState, EvalError> {
        let count = |cx: &mut Interp, e| match cx.eval(e)? {
            Value::Int(n) => Ok(n),
            _ => Err(EvalError::internal(e.span, "count is not an int")),
        };
        Ok(match op {
            Op::Take(e) | Op::Skip(e) => OpState::Count { n: count(&mut self.cx, e)?, seen: 0 },
            Op::Batch(e) => {
                let n = count(&mut self.cx, e)?;
                check_batch(n, e.span)?;
                OpState::Batch {
                    n: usize::try_from(n).unwrap_or(usize::MAX),
                    buf: Vec::new(),
                    prov: None,
                }
            }
            Op::Enumerate => OpState::Enumerate(0),
            Op::Distinct(_) => OpState::Distinct(HashSet::new()),
            Op::SortBy { desc, .. } => {
                let desc = match desc {
                    Some(d) => matches!(self.cx.eval(d)?, Value::Bool(true)),
                    None => false,
                };
                OpState::Sort { desc, items: Vec::new() }
            }
            Op::GroupBy { .. } => OpState::Group { index: HashMap::new(), groups: Vec::new() },
            Op::Aggregate { aggs } => {
                let specs: Vec<Spec> = aggs.iter().map(Spec::of_agg).collect();
                OpState::Aggregate { group: Some(Group::new(&specs)), prov: None }
            }
            Op::Join { .. } => {
                OpState::Join { table: HashMap::new(), pending: Vec::new(), right_done: false }
            }
            Op::Union { .. } => OpState::Union { left_done: false, other: Vec::new() },
            Op::Map(_) | Op::Filter(_) | Op::FlatMap(_) | Op::Agent { .. } => OpState::None,
        })
    }

    /// Runs the whole pipeline.
    /// Where a source or sink path points: paths written in the source (a literal, a
    /// constant, params left at their defaults) are relative to the declaring file's folder,
    /// like `use`, `agent` and `prompt` paths; a value given with `--param` or the
    /// environment is relative to the current folder, as typed in the shell.
    fn data_path(&self, e: &crate::check::hir::TExpr, value: &str) -> String {
        data_path(&self.cx, self.map, e, value)
    }

    pub fn run(mut self) -> Result<Summary, Fatal> {
        let r = self.run_all();
        if r.is_err() {
            // Keep what was produced before the failure.
            for sink in self.sinks.values_mut() {
                let _ = sink.finish();
            }
        }
        r.map(|()| self.summary)
    }

    fn run_all(&mut self) -> Result<(), Fatal> {
        let p = self.p;
        let sources: Vec<NodeIndex> = self
            .order
            .iter()
            .copied()
            .filter(|&n| matches!(p.graph[n].kind, NodeKind::Source { .. }))
            .filter(|n| self.consumers.get(n).is_some_and(|c| !c.is_empty()))
            .collect();
        for s in sources {
            self.read_source(s)?;
            self.ended.insert(s);
            self.finish_ready()?;
        }
        // The errors stream ends once every source has ended and released its rows.
        self.errors_ended = true;
        if let Some(e) = self.errors_node {
            self.ended.insert(e);
        }
        self.finish_ready()?;
        for n in self.order.clone() {
            if let Some(sink) = self.sinks.get_mut(&n) {
                sink.finish().map_err(|m| {
                    Box::new(Diagnostic::new(codes::E0608, p.graph[n].span, m).label("this sink"))
                })?;
            }
        }
        Ok(())
    }

    fn read_source(&mut self, n: NodeIndex) -> Result<(), Fatal> {
        let p = self.p;
        let node = &p.graph[n];
        let NodeKind::Source { format, args, .. } = &node.kind else { return Ok(()) };
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.cx.eval(a).map_err(|e| self.eval_fatal(n, e, None))?);
        }
        if *format == SourceFormat::Range {
            let (Some(Value::Int(a)), Some(Value::Int(b))) = (vals.first(), vals.get(1)) else {
                return Ok(());
            };
            let (a, b) = (*a, *b);
            let source: Rc<str> = Rc::from(format!("range({a}, {b})"));
            for i in a..b {
                let prov = Rc::new(Prov {
                    source: source.clone(),
                    line: i.wrapping_sub(a) as u64 + 1,
                    raw: Rc::from(i.to_string()),
                    from_errors: false,
                });
                self.unit(|ex| ex.emit(n, vec![Item { v: Value::Int(i), prov }]))?;
            }
            return Ok(());
        }
        let path = match (vals.first(), args.first()) {
            (Some(Value::Str(s)), Some(e)) => self.data_path(e, s),
            _ => "-".to_string(),
        };
        let io_fatal = |m: String| {
            let what = if path == "-" { "standard input".to_string() } else { format!("`{path}`") };
            Box::new(
                Diagnostic::new(codes::E0608, node.span, format!("cannot read {what}: {m}"))
                    .label(format!("source `{}`", node.name)),
            )
        };
        let mut reader = Reader::open(&path, *format, &node.elem).map_err(&io_fatal)?;
        // Error records name the input as the pipeline does, whatever the current folder.
        let source: Rc<str> = match vals.first() {
            Some(Value::Str(s)) => s.clone(),
            _ => Rc::from("-"),
        };
        while let Some(rec) = reader.next_record().map_err(&io_fatal)? {
            let raw: Rc<str> = Rc::from(String::from_utf8_lossy(&rec.raw).as_ref());
            let prov =
                Rc::new(Prov { source: source.clone(), line: rec.line, raw, from_errors: false });
            match rec.value {
                Ok(v) => self.unit(|ex| ex.emit(n, vec![Item { v, prov }]))?,
                Err(m) => self.unit(|ex| {
                    ex.failures.push(Failure {
                        order: (ex.pos[&n], 0),
                        node: n,
                        kind: FailKind::Read(m),
                        prov,
                    });
                    Ok(())
                })?,
            }
        }
        Ok(())
    }

    fn emit(&mut self, n: NodeIndex, items: Vec<Item>) -> Result<(), Fatal> {
        if items.is_empty() {
            return Ok(());
        }
        let cons = self.consumers.get(&n).cloned().unwrap_or_default();
        for (c, w) in cons {
            for item in &items {
                self.push(c, w, item.clone())?;
            }
        }
        Ok(())
    }

    fn push(&mut self, n: NodeIndex, w: usize, item: Item) -> Result<(), Fatal> {
        let p = self.p;
        match &p.graph[n].kind {
            NodeKind::Sink { .. } => {
                self.staged.push((n, item.v));
                Ok(())
            }
            NodeKind::Stage { .. } if w == 0 => {
                let out = self.feed(n, 0, vec![item])?;
                self.emit(n, out)
            }
            NodeKind::Stage { ops, .. } => {
                let Some(&k) = self.extra.get(&(n, w)) else { return Ok(()) };
                match &ops[k] {
                    Op::Join { right_key, .. } => {
                        match self.cx.apply_row(right_key, item.v.clone()) {
                            Ok(key) => {
                                if let Some(OpState::Join { table, .. }) = self.state(n, k) {
                                    table.entry(key_of(&key)).or_default().push(item.v);
                                }
                                Ok(())
                            }
                            Err(e) => {
                                self.fail(n, k, e, &item.prov);
                                Ok(())
                            }
                        }
                    }
                    _ => {
                        let pass = match self.state(n, k) {
                            Some(OpState::Union { left_done: true, .. }) => true,
                            Some(OpState::Union { other, .. }) => {
                                other.push(item.clone());
                                false
                            }
                            _ => false,
                        };
                        if pass {
                            let out = self.feed(n, k + 1, vec![item])?;
                            self.emit(n, out)?;
                        }
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    fn state(&mut self, n: NodeIndex, k: usize) -> Option<&mut OpState> {
        self.ops.get_mut(&n).and_then(|v| v.get_mut(k))
    }

    /// Runs `items` through the ops of stage `n` from op `start`; returns what comes out.
    fn feed(
        &mut self,
        n: NodeIndex,
        start: usize,
        mut items: Vec<Item>,
    ) -> Result<Vec<Item>, Fatal> {
        let p = self.p;
        let NodeKind::Stage { ops, .. } = &p.graph[n].kind else { return Ok(items) };
        for (i, op) in ops.iter().enumerate().skip(start) {
            if items.is_empty() {
                break;
            }
            let mut out = Vec::new();
            let mut failed = Vec::new();
            if self.cx.models.is_some() {
                let stage: Rc<str> = Rc::from(self.stage_name(n));
                if let Some(m) = &mut self.cx.models {
                    m.stage = stage;
                }
            }
            if let Some(st) = self.ops.get_mut(&n).and_then(|v| v.get_mut(i)) {
                for item in items {
                    if let Err(e) = step(&mut self.cx, op, st, &item, &mut out) {
                        failed.push((e, item.prov));
                    }
                }
            }
            for (e, prov) in failed {
                self.fail(n, i, e, &prov);
            }
            items = out;
        }
        Ok(items)
    }

    /// Releases, in plan order, what the operators whose awaited input has ended hold:
    /// `group_by`, `aggregate`, `sort_by`, `batch` and `union` (their input), `join` (its
    /// right side). What they release flows on downstream, where it may be held again by
    /// an operator later in the plan order.
    fn finish_ready(&mut self) -> Result<(), Fatal> {
        let p = self.p;
        for n in self.order.clone() {
            let NodeKind::Stage { ops, .. } = &p.graph[n].kind else { continue };
            for (k, op) in ops.iter().enumerate() {
                let ready = match self.awaited.get(&(n, k)) {
                    Some(a) => a.iter().all(|r| self.ended.contains(r)),
                    None => false,
                };
                if !ready || !self.finished.insert((n, k)) {
                    continue;
                }
                match self.state(n, k) {
                    Some(OpState::Join { pending, right_done, .. }) => {
                        *right_done = true;
                        let pending = std::mem::take(pending);
                        self.release(n, k, k, pending.into_iter().map(Ok).collect())?;
                    }
                    Some(st) => {
                        let out = flush(op, st);
                        self.release(n, k, k + 1, out)?;
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// Rows released by op `k` of `n` when an input ended (by `sort_by`, `group_by`,
    /// `aggregate`, `batch`, a `union`'s second stream, a join's waiting left rows) go on
    /// from op `from`, each a unit of its own, as on compiled code. A group whose
    /// aggregates failed (`Err`) is one failure with the group's first row.
    fn release(
        &mut self,
        n: NodeIndex,
        k: usize,
        from: usize,
        rows: Vec<Result<Item, (EvalError, Rc<Prov>)>>,
    ) -> Result<(), Fatal> {
        for r in rows {
            match r {
                Ok(item) => self.unit(|ex| {
                    let out = ex.feed(n, from, vec![item])?;
                    ex.emit(n, out)
                })?,
                Err((e, prov)) => self.unit(|ex| {
                    let order = (ex.pos[&n], k);
                    ex.failures.push(Failure { order, node: n, kind: FailKind::Group(e), prov });
                    Ok(())
                })?,
            }
        }
        Ok(())
    }

    // ---- failures ----------------------------------------------------------------------

    /// A human name for a node: its declared name, or `op@line:col` for anonymous ones.
    pub fn stage_name(&self, n: NodeIndex) -> String {
        crate::failure::stage_name(self.p, self.map, n)
    }

    fn location(&self, span: Span) -> String {
        crate::failure::location(self.map, span)
    }

    /// Expression `e` of op `k` of stage `n` failed on an element of `prov`.
    fn fail(&mut self, n: NodeIndex, k: usize, e: EvalError, prov: &Rc<Prov>) {
        let order = (self.pos.get(&n).copied().unwrap_or(usize::MAX), k);
        self.failures.push(Failure { order, node: n, kind: FailKind::Eval(e), prov: prov.clone() });
    }

    /// Runs `work` as one unit, then completes it (see the module documentation).
    fn unit(&mut self, work: impl FnOnce(&mut Self) -> Result<(), Fatal>) -> Result<(), Fatal> {
        let r = work(self).and_then(|()| self.end_unit());
        if r.is_err() {
            self.staged.clear();
            self.failures.clear();
        }
        r
    }

    /// Completes the current unit: its failures become error records (each pushed
    /// through the stages reading `errors` before the next) or stop the run; then its
    /// staged sink rows are written.
    fn end_unit(&mut self) -> Result<(), Fatal> {
        let mut fails = std::mem::take(&mut self.failures);
        fails.sort_by_key(|f| f.order);
        let stops = |ex: &Self, f: &Failure| {
            ex.errors_node.is_none() || ex.errors_ended || f.prov.from_errors
        };
        if let Some(i) = fails.iter().position(|f| stops(self, f)) {
            return Err(self.fatal(fails.swap_remove(i)));
        }
        for f in fails {
            self.error_record(f)?;
            // A failure of a row derived from an error record stops the run (no loops).
            let mut more = std::mem::take(&mut self.failures);
            if !more.is_empty() {
                more.sort_by_key(|f| f.order);
                return Err(self.fatal(more.swap_remove(0)));
            }
        }
        let p = self.p;
        for (n, v) in std::mem::take(&mut self.staged) {
            if let Some(sink) = self.sinks.get_mut(&n) {
                sink.write(&v).map_err(|m| {
                    Box::new(Diagnostic::new(codes::E0608, p.graph[n].span, m).label("this sink"))
                })?;
            }
        }
        Ok(())
    }

    /// The diagnostic that stops the run at failure `f`.
    fn fatal(&self, f: Failure) -> Fatal {
        match f.kind {
            FailKind::Eval(e) | FailKind::Group(e) => self.eval_fatal(f.node, e, Some(&f.prov)),
            FailKind::Read(m) => crate::failure::read_fatal(
                self.p,
                f.node,
                &f.prov.source,
                f.prov.line,
                &f.prov.raw,
                &m,
            ),
        }
    }

    /// Failure `f` as a record of the errors stream, pushed downstream of it.
    fn error_record(&mut self, f: Failure) -> Result<(), Fatal> {
        let Some(errors) = self.errors_node else { return Ok(()) };
        let (stage, message) = match f.kind {
            FailKind::Eval(e) => {
                (self.stage_name(f.node), format!("{} (at {})", e.message, self.location(e.span)))
            }
            FailKind::Group(e) => (self.stage_name(f.node), e.message),
            FailKind::Read(m) => (self.p.graph[f.node].name.to_string(), m),
        };
        let prov = &f.prov;
        self.summary.errors += 1;
        let mut raw_json = Vec::new();
        kiln_runtime::io::error_record(
            &mut raw_json,
            &prov.source,
            prov.line,
            &stage,
            &message,
            prov.raw.as_bytes(),
        );
        let v = Value::record(vec![
            Value::Str(prov.source.clone()),
            Value::Int(i64::try_from(prov.line).unwrap_or(i64::MAX)),
            Value::str(&stage),
            Value::str(&message),
            Value::Str(prov.raw.clone()),
        ]);
        let text =
            String::from_utf8_lossy(raw_json.strip_suffix(b"\n").unwrap_or(&raw_json)).into_owned();
        let prov = Rc::new(Prov {
            source: Rc::from("errors"),
            line: self.summary.errors,
            raw: Rc::from(text),
            from_errors: true,
        });
        self.emit(errors, vec![Item { v, prov }])
    }

    fn eval_fatal(&self, n: NodeIndex, e: EvalError, prov: Option<&Rc<Prov>>) -> Fatal {
        let at = prov.map(|p| (&*p.source, p.line, &*p.raw));
        crate::failure::eval_fatal(self.p, self.map, n, e, at)
    }
}

/// For every operator that waits for an input to end, the roots (sources, the errors
/// node) of that input: the stage's input (and the other inputs of the joins and unions
/// before it) for `group_by`, `aggregate`, `sort_by`, `batch` and `union`, the right side
/// for `join`. The compiled executor finishes its nodes on the same condition.
fn awaited(p: &Pipeline, order: &[NodeIndex]) -> HashMap<(NodeIndex, usize), HashSet<NodeIndex>> {
    let mut roots: HashMap<NodeIndex, HashSet<NodeIndex>> = HashMap::new();
    let mut out = HashMap::new();
    for &n in order {
        let mine = match &p.graph[n].kind {
            NodeKind::Source { .. } | NodeKind::Errors => HashSet::from([n]),
            NodeKind::Sink { .. } => continue,
            NodeKind::Stage { input, ops } => {
                let mut cur = roots.get(input).cloned().unwrap_or_default();
                for (k, op) in ops.iter().enumerate() {
                    match op {
                        Op::Join { right, .. } => {
                            let r = roots.get(right).cloned().unwrap_or_default();
                            out.insert((n, k), r.clone());
                            cur.extend(r);
                        }
                        Op::Union { other } => {
                            out.insert((n, k), cur.clone());
                            cur.extend(roots.get(other).cloned().unwrap_or_default());
                        }
                        Op::SortBy { .. }
                        | Op::GroupBy { .. }
                        | Op::Aggregate { .. }
                        | Op::Batch(_) => {
                            out.insert((n, k), cur.clone());
                        }
                        _ => {}
                    }
                }
                cur
            }
        };
        roots.insert(n, mine);
    }
    out
}

pub fn data_path(
    cx: &Interp,
    map: &SourceMap,
    e: &crate::check::hir::TExpr,
    value: &str,
) -> String {
    use crate::check::hir::{Global, TExprKind};
    // Written in the source unless some param it uses was given from outside.
    let mut written_in_source = true;
    crate::check::hir::visit(e, &mut |x| {
        if let TExprKind::Global(Global::Param(i)) = x.kind {
            written_in_source &= !cx.param_given.get(i).copied().unwrap_or(false);
        }
    });
    let file = std::path::Path::new(&map.get(e.span.file).name);
    let dir = file.parent().map(|d| d.display().to_string()).unwrap_or_default();
    kiln_runtime::exec::arg::data_path(value, &dir, written_in_source)
}

/// Applies one op to one element.
fn step(
    cx: &mut Interp,
    op: &Op,
    st: &mut OpState,
    item: &Item,
    out: &mut Vec<Item>,
) -> Result<(), EvalError> {
    let with = |v: Value| Item { v, prov: item.prov.clone() };
    if let Some(m) = &mut cx.models {
        m.source = item.prov.source.clone();
        m.line = item.prov.line;
    }
    match (op, st) {
        (Op::Map(f), _) => out.push(with(cx.apply_row(f, item.v.clone())?)),
        (Op::Agent { agent, field, .. }, _) => {
            let Value::Record(fields) = &item.v else {
                return Err(EvalError::internal(Span::default(), "agent op on a non-record"));
            };
            let mut fields = (**fields).clone();
            let x = fields.get(*field).cloned().unwrap_or(Value::Null);
            fields[*field] = cx.agent(*agent, x, Span::default())?;
            out.push(with(Value::record(fields)));
        }
        (Op::Filter(f), _) => {
            if matches!(cx.apply_row(f, item.v.clone())?, Value::Bool(true)) {
                out.push(item.clone());
            }
        }
        (Op::FlatMap(f), _) => {
            if let Value::List(xs) = cx.apply_row(f, item.v.clone())? {
                out.extend(xs.iter().map(|x| with(x.clone())));
            }
        }
        (Op::Take(_), OpState::Count { n, seen }) => {
            if *seen < *n {
                *seen += 1;
                out.push(item.clone());
            }
        }
        (Op::Skip(_), OpState::Count { n, seen }) => {
            if *seen < *n {
                *seen += 1;
            } else {
                out.push(item.clone());
            }
        }
        (Op::Batch(_), OpState::Batch { n, buf, prov }) => {
            if buf.is_empty() {
                *prov = Some(item.prov.clone());
            }
            buf.push(item.v.clone());
            if buf.len() >= *n {
                let v = Value::list(std::mem::take(buf));
                out.push(Item { v, prov: prov.take().unwrap_or_else(|| item.prov.clone()) });
            }
        }
        (Op::Enumerate, OpState::Enumerate(i)) => {
            out.push(with(Value::record(vec![Value::Int(*i), item.v.clone()])));
            *i += 1;
        }
        (Op::Distinct(f), OpState::Distinct(seen)) => {
            if seen.insert(key_of(&cx.apply_row(f, item.v.clone())?)) {
                out.push(item.clone());
            }
        }
        (Op::SortBy { key, .. }, OpState::Sort { items, .. }) => {
            let k = cx.apply_row(key, item.v.clone())?;
            items.push((k, item.clone()));
        }
        (Op::GroupBy { key, aggs }, OpState::Group { index, groups }) => {
            let specs: Vec<Spec> = aggs.iter().map(Spec::of_agg).collect();
            let k = cx.apply_row(key, item.v.clone())?;
            let kb = key_of(&k);
            match index.get(&kb) {
                Some(&i) => {
                    if let Some(g) = groups.get_mut(i) {
                        g.1.add(cx, &specs, &item.v)?;
                    }
                }
                None => {
                    let mut g = Group::new(&specs);
                    g.add(cx, &specs, &item.v)?;
                    index.insert(kb, groups.len());
                    groups.push((k, g, item.prov.clone()));
                }
            }
        }
        (Op::Aggregate { aggs }, OpState::Aggregate { group: Some(g), prov }) => {
            let specs: Vec<Spec> = aggs.iter().map(Spec::of_agg).collect();
            g.add(cx, &specs, &item.v)?;
            if prov.is_none() {
                *prov = Some(item.prov.clone());
            }
        }
        (Op::Join { left_key, outer, .. }, OpState::Join { table, pending, right_done, .. }) => {
            if !*right_done {
                pending.push(item.clone());
                return Ok(());
            }
            let k = cx.apply_row(left_key, item.v.clone())?;
            match table.get(&key_of(&k)) {
                Some(rs) => out.extend(
                    rs.iter().map(|r| with(Value::record(vec![item.v.clone(), r.clone()]))),
                ),
                None if *outer => out.push(with(Value::record(vec![item.v.clone(), Value::Null]))),
                None => {}
            }
        }
        (Op::Union { .. }, _) => out.push(item.clone()),
        _ => {
            return Err(EvalError::internal(
                Span::default(),
                format!("`{}` in a bad state", op.name()),
            ));
        }
    }
    Ok(())
}

/// What an op releases when its input ends: rows, or a group that failed.
type Released = Vec<Result<Item, (EvalError, Rc<Prov>)>>;

/// Ends op `op`'s input: what it releases.
fn flush(op: &Op, st: &mut OpState) -> Released {
    match st {
        OpState::Batch { buf, prov, .. } => match prov.take() {
            Some(prov) if !buf.is_empty() => {
                vec![Ok(Item { v: Value::list(std::mem::take(buf)), prov })]
            }
            _ => Vec::new(),
        },
        OpState::Sort { desc, items } => {
            let mut v = std::mem::take(items);
            sort_keyed(&mut v, *desc);
            v.into_iter().map(|(_, it)| Ok(it)).collect()
        }
        OpState::Group { groups, index } => {
            index.clear();
            let specs = specs_of(op);
            std::mem::take(groups)
                .into_iter()
                .map(|(k, g, prov)| match g.finish(&specs) {
                    Ok(vals) => {
                        let mut fields = vec![k];
                        fields.extend(vals);
                        Ok(Item { v: Value::record(fields), prov })
                    }
                    Err(e) => Err((e, prov)),
                })
                .collect()
        }
        OpState::Aggregate { group, prov } => match group.take() {
            Some(g) => {
                // Over an empty stream the row comes from no record.
                let prov = prov.take().unwrap_or_else(|| {
                    Rc::new(Prov {
                        source: Rc::from(""),
                        line: 0,
                        raw: Rc::from(""),
                        from_errors: false,
                    })
                });
                match g.finish(&specs_of(op)) {
                    Ok(vals) => vec![Ok(Item { v: Value::record(vals), prov })],
                    Err(e) => vec![Err((e, prov))],
                }
            }
            None => Vec::new(),
        },
        OpState::Union { left_done, other } => {
            *left_done = true;
            std::mem::take(other).into_iter().map(Ok).collect()
        }
        _ => Vec::new(),
    }
}

/// The aggregates of a `group_by` / `aggregate` op.
fn specs_of(op: &Op) -> Vec<Spec<'_>> {
    match op {
        Op::GroupBy { aggs, .. } | Op::Aggregate { aggs } => {
            aggs.iter().map(Spec::of_agg).collect()
        }
        _ => Vec::new(),
    }
}
