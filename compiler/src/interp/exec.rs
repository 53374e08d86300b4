//! The executor: a push-based walk of the dataflow graph, single-threaded and in order.
//!
//! Sources are read one after another, in declaration order; every record is pushed
//! through the operator chain of each consumer and on to the sinks. Stateless operators
//! pass elements on at once; `sort_by`, `group_by`, `aggregate` and `batch` hold them until
//! their input ends; `join` holds its left elements until the right side has been read
//! completely; `union` holds its second operand until the first one has ended. So every
//! sink sees its elements in the order of LANGUAGE.md §1.5, whatever the graph.
//!
//! A record that fails (cannot be decoded, or an expression fails on it) goes to the
//! `errors` node when the program has one, else the run stops with a diagnostic that names
//! the input file and line, the stage and the failing expression (§1.6).

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
    Count {
        n: i64,
        seen: i64,
    },
    Batch {
        n: usize,
        buf: Vec<Value>,
        prov: Option<Rc<Prov>>,
    },
    Enumerate(i64),
    Distinct(HashSet<Vec<u8>>),
    Sort {
        desc: bool,
        items: Vec<(Value, Item)>,
    },
    Group {
        index: HashMap<Vec<u8>, usize>,
        groups: Vec<(Value, Group, Rc<Prov>)>,
    },
    Aggregate {
        group: Option<Group>,
        prov: Option<Rc<Prov>>,
    },
    Join {
        table: HashMap<Vec<u8>, Vec<Value>>,
        pending: Vec<Item>,
        left_done: bool,
        right_done: bool,
    },
    Union {
        left_done: bool,
        other: Vec<Item>,
        other_done: bool,
    },
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
        };
        // Operator arguments first, so a bad one (`batch(0)`) stops the run before any
        // sink has created (truncated) its file, as with compiled code.
        for n in p.graph.node_indices() {
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
        // Every path first, so a sink that would overwrite an input is refused before any
        // file is created (the runtime's guard, as with compiled code).
        let mut paths: Vec<(NodeIndex, Option<String>)> = Vec::new();
        for n in p.graph.node_indices() {
            let e = match &p.graph[n].kind {
                NodeKind::Sink { path, .. } => path.as_ref(),
                NodeKind::Source { format, args } if *format != SourceFormat::Range => args.first(),
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
            names.push(super::report::stage_name(p, self.map, *n));
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
            Op::Join { .. } => OpState::Join {
                table: HashMap::new(),
                pending: Vec::new(),
                left_done: false,
                right_done: false,
            },
            Op::Union { .. } => {
                OpState::Union { left_done: false, other: Vec::new(), other_done: false }
            }
            Op::Map(_) | Op::Filter(_) | Op::FlatMap(_) => OpState::None,
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
        let sources: Vec<NodeIndex> = p
            .graph
            .node_indices()
            .filter(|&n| matches!(p.graph[n].kind, NodeKind::Source { .. }))
            .filter(|n| self.consumers.get(n).is_some_and(|c| !c.is_empty()))
            .collect();
        for s in sources {
            self.read_source(s)?;
            self.finish_node(s)?;
        }
        if let Some(e) = self.errors_node {
            self.finish_node(e)?;
        }
        for n in p.graph.node_indices() {
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
        let NodeKind::Source { format, args } = &node.kind else { return Ok(()) };
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
                self.emit(n, vec![Item { v: Value::Int(i), prov }])?;
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
                Ok(v) => self.emit(n, vec![Item { v, prov }])?,
                Err(m) => self.read_failure(n, m, &prov)?,
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
                if let Some(sink) = self.sinks.get_mut(&n) {
                    sink.write(&item.v).map_err(|m| {
                        Box::new(
                            Diagnostic::new(codes::E0608, p.graph[n].span, m).label("this sink"),
                        )
                    })?;
                }
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
                            Err(e) => self.fail(n, e, &item.prov),
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
            if let Some(st) = self.ops.get_mut(&n).and_then(|v| v.get_mut(i)) {
                for item in items {
                    if let Err(e) = step(&mut self.cx, op, st, &item, &mut out) {
                        failed.push((e, item.prov));
                    }
                }
            }
            for (e, prov) in failed {
                self.fail(n, e, &prov)?;
            }
            items = out;
        }
        Ok(items)
    }

    /// The primary input of `n` (or the extra input `w`) has ended.
    fn finish_input(&mut self, n: NodeIndex, w: usize) -> Result<(), Fatal> {
        let p = self.p;
        let NodeKind::Stage { ops, .. } = &p.graph[n].kind else { return Ok(()) };
        if w == 0 {
            return self.flush_from(n, 0);
        }
        let Some(&k) = self.extra.get(&(n, w)) else { return Ok(()) };
        match &ops[k] {
            Op::Join { .. } => {
                let (pending, left_done) = match self.state(n, k) {
                    Some(OpState::Join { pending, left_done, right_done, .. }) => {
                        *right_done = true;
                        (std::mem::take(pending), *left_done)
                    }
                    _ => return Ok(()),
                };
                self.release(n, k, pending.into_iter().map(Ok).collect())?;
                if left_done { self.flush_from(n, k + 1) } else { Ok(()) }
            }
            _ => {
                let left_done = match self.state(n, k) {
                    Some(OpState::Union { other_done, left_done, .. }) => {
                        *other_done = true;
                        *left_done
                    }
                    _ => return Ok(()),
                };
                if left_done { self.flush_from(n, k + 1) } else { Ok(()) }
            }
        }
    }

    /// Flushes the ops of `n` from `k` on (their input has ended), then ends `n`'s output.
    fn flush_from(&mut self, n: NodeIndex, k: usize) -> Result<(), Fatal> {
        let count = self.ops.get(&n).map_or(0, Vec::len);
        let p = self.p;
        let NodeKind::Stage { ops, .. } = &p.graph[n].kind else { return Ok(()) };
        for (i, op) in ops.iter().enumerate().take(count).skip(k) {
            let (out, go_on) = match self.ops.get_mut(&n).and_then(|v| v.get_mut(i)) {
                Some(st) => flush(op, st),
                None => (Vec::new(), true),
            };
            self.release(n, i + 1, out)?;
            if !go_on {
                return Ok(());
            }
        }
        self.finish_node(n)
    }

    /// Rows released when an input ended (by `sort_by`, `group_by`, `aggregate`, `batch`,
    /// a `union`'s second stream, a join's waiting left rows) go on from op `k` one at a
    /// time, each all the way downstream before the next, as on compiled code. A group
    /// whose aggregates failed (`Err`) is one error record with the group's first row.
    fn release(
        &mut self,
        n: NodeIndex,
        k: usize,
        rows: Vec<Result<Item, (EvalError, Rc<Prov>)>>,
    ) -> Result<(), Fatal> {
        for r in rows {
            match r {
                Ok(item) => {
                    let out = self.feed(n, k, vec![item])?;
                    self.emit(n, out)?;
                }
                Err((e, prov)) => {
                    if !self.errors_enabled(&prov) {
                        return Err(self.eval_fatal(n, e, Some(&prov)));
                    }
                    let stage = self.stage_name(n);
                    self.error_record(&stage, e.message, &prov)?;
                }
            }
        }
        Ok(())
    }

    fn finish_node(&mut self, n: NodeIndex) -> Result<(), Fatal> {
        let cons = self.consumers.get(&n).cloned().unwrap_or_default();
        for (c, w) in cons {
            self.finish_input(c, w)?;
        }
        Ok(())
    }

    // ---- failures ----------------------------------------------------------------------

    /// A human name for a node: its declared name, or `op@line:col` for anonymous ones.
    pub fn stage_name(&self, n: NodeIndex) -> String {
        super::report::stage_name(self.p, self.map, n)
    }

    fn location(&self, span: Span) -> String {
        super::report::location(self.map, span)
    }

    fn errors_enabled(&self, prov: &Prov) -> bool {
        self.errors_node.is_some() && !prov.from_errors
    }

    fn fail(&mut self, n: NodeIndex, e: EvalError, prov: &Rc<Prov>) -> Result<(), Fatal> {
        if !self.errors_enabled(prov) {
            return Err(self.eval_fatal(n, e, Some(prov)));
        }
        let message = format!("{} (at {})", e.message, self.location(e.span));
        let stage = self.stage_name(n);
        self.error_record(&stage, message, prov)
    }

    fn read_failure(
        &mut self,
        n: NodeIndex,
        message: String,
        prov: &Rc<Prov>,
    ) -> Result<(), Fatal> {
        let node = &self.p.graph[n];
        if !self.errors_enabled(prov) {
            return Err(super::report::read_fatal(
                self.p,
                n,
                &prov.source,
                prov.line,
                &prov.raw,
                &message,
            ));
        }
        let stage = node.name.to_string();
        self.error_record(&stage, message, prov)
    }

    fn error_record(&mut self, stage: &str, message: String, prov: &Prov) -> Result<(), Fatal> {
        let Some(errors) = self.errors_node else { return Ok(()) };
        self.summary.errors += 1;
        let mut raw_json = Vec::new();
        kiln_runtime::io::error_record(
            &mut raw_json,
            &prov.source,
            prov.line,
            stage,
            &message,
            prov.raw.as_bytes(),
        );
        let v = Value::record(vec![
            Value::Str(prov.source.clone()),
            Value::Int(i64::try_from(prov.line).unwrap_or(i64::MAX)),
            Value::str(stage),
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
        super::report::eval_fatal(self.p, self.map, n, e, at)
    }
}

pub fn data_path(
    cx: &Interp,
    map: &SourceMap,
    e: &crate::check::hir::TExpr,
    value: &str,
) -> String {
    use crate::check::hir::{Global, TExprKind};
    let path = std::path::Path::new(value);
    if value == "-" || path.is_absolute() {
        return value.to_string();
    }
    // Written in the source unless some param it uses was given from outside.
    let mut written_in_source = true;
    crate::check::hir::visit(e, &mut |x| {
        if let TExprKind::Global(Global::Param(i)) = x.kind {
            written_in_source &= !cx.param_given.get(i).copied().unwrap_or(false);
        }
    });
    if !written_in_source {
        return value.to_string();
    }
    let file = std::path::Path::new(&map.get(e.span.file).name);
    match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.join(path).display().to_string(),
        None => value.to_string(),
    }
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
    match (op, st) {
        (Op::Map(f), _) => out.push(with(cx.apply_row(f, item.v.clone())?)),
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

/// Ends op `op`'s input: what it releases, and whether its own output has ended too.
type Released = Vec<Result<Item, (EvalError, Rc<Prov>)>>;

fn flush(op: &Op, st: &mut OpState) -> (Released, bool) {
    match st {
        OpState::Batch { buf, prov, .. } => {
            let out = match prov.take() {
                Some(prov) if !buf.is_empty() => {
                    vec![Ok(Item { v: Value::list(std::mem::take(buf)), prov })]
                }
                _ => Vec::new(),
            };
            (out, true)
        }
        OpState::Sort { desc, items } => {
            let mut v = std::mem::take(items);
            sort_keyed(&mut v, *desc);
            (v.into_iter().map(|(_, it)| Ok(it)).collect(), true)
        }
        OpState::Group { groups, index } => {
            index.clear();
            let specs = specs_of(op);
            let out = std::mem::take(groups)
                .into_iter()
                .map(|(k, g, prov)| match g.finish(&specs) {
                    Ok(vals) => {
                        let mut fields = vec![k];
                        fields.extend(vals);
                        Ok(Item { v: Value::record(fields), prov })
                    }
                    Err(e) => Err((e, prov)),
                })
                .collect();
            (out, true)
        }
        OpState::Aggregate { group, prov } => {
            let out = match group.take() {
                Some(g) => {
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
            };
            (out, true)
        }
        OpState::Join { left_done, right_done, .. } => {
            *left_done = true;
            (Vec::new(), *right_done)
        }
        OpState::Union { left_done, other, other_done } => {
            *left_done = true;
            (std::mem::take(other).into_iter().map(Ok).collect(), *other_done)
        }
        _ => (Vec::new(), true),
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
