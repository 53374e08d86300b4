//! The plan the compiler hands to [`super::run`]: a topologically ordered list of nodes
//! whose per-row work is done by compiled functions ([`super::abi`]), plus the failure
//! sites those functions report, and the run's options and results.

use super::abi::{ProjFn, StageFn};
use crate::layout::TypeDesc;

/// A whole program. `nodes` are in topological order: every `input` refers to an earlier
/// index. `sites` are the places generated code can fail (`kiln_fail(ctx, site, ..)`).
pub struct Plan {
    pub nodes: Vec<PNode>,
    pub sites: Vec<Site>,
    /// The values of the pipeline's params, read by generated code.
    pub params: ParamBlock,
}

/// The params of a run as one record in the layout of [`crate::layout`] (a field per
/// param, in declaration order), which generated code reads through `RowCtx::params`.
/// Strings point into `strings`, owned here.
#[derive(Default, Debug)]
pub struct ParamBlock {
    bytes: Vec<u64>,
    strings: Vec<Box<[u8]>>,
}

/// One param's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ParamBlock {
    /// The block for params of types `tys` (each a scalar or an optional scalar) with the
    /// given values; `None` when a value does not fit its type.
    pub fn new(tys: &[TypeDesc], values: &[ParamValue]) -> Option<ParamBlock> {
        let rec = TypeDesc::Record(tys.iter().map(|t| (String::new(), t.clone())).collect());
        let mut block =
            ParamBlock { bytes: vec![0; rec.size().div_ceil(8).max(1)], strings: Vec::new() };
        let base = block.bytes.as_mut_ptr().cast::<u8>();
        for ((t, v), off) in tys.iter().zip(values).zip(rec.field_offsets()) {
            // SAFETY: `off` and the value's size lie inside the record, whose size the
            // buffer covers.
            let at = unsafe { base.add(off) };
            let (inner, at) = match t {
                TypeDesc::Optional(inner) if *v == ParamValue::Null => {
                    let _ = inner;
                    continue;
                }
                TypeDesc::Optional(inner) => {
                    // SAFETY: the tag byte of the optional, inside the record.
                    unsafe { at.write(1) };
                    // SAFETY: the payload, inside the record.
                    (&**inner, unsafe { at.add(t.optional_payload_offset()) })
                }
                t => (t, at),
            };
            // SAFETY: each write stays inside the field of its type (see above).
            unsafe {
                match (inner, v) {
                    (TypeDesc::Int, ParamValue::Int(n)) => at.cast::<i64>().write_unaligned(*n),
                    (TypeDesc::Float, ParamValue::Float(x)) => at.cast::<f64>().write_unaligned(*x),
                    (TypeDesc::Float, ParamValue::Int(n)) => {
                        at.cast::<f64>().write_unaligned(*n as f64)
                    }
                    (TypeDesc::Bool, ParamValue::Bool(b)) => at.write(u8::from(*b)),
                    (TypeDesc::Str, ParamValue::Str(s)) => {
                        let bytes: Box<[u8]> = s.as_bytes().into();
                        let k =
                            crate::layout::KStr { ptr: bytes.as_ptr(), len: bytes.len() as u64 };
                        at.cast::<crate::layout::KStr>().write_unaligned(k);
                        block.strings.push(bytes);
                    }
                    _ => return None,
                }
            }
        }
        Some(block)
    }

    /// The address generated code reads the params at.
    pub fn as_ptr(&self) -> *const u8 {
        self.bytes.as_ptr().cast()
    }
}

// SAFETY: the block is read-only once built; its string pointers address its own boxed
// bytes, which never move or change while it lives.
unsafe impl Send for ParamBlock {}
// SAFETY: as above: shared reads of immutable bytes only.
unsafe impl Sync for ParamBlock {}

/// A place where a row can fail. The compiler keeps the span; the runtime reports the site
/// index back in [`Failure::Record`].
#[derive(Clone, Debug, Default)]
pub struct Site {
    /// The stage name written in error records (`stage` field); empty: the name of the
    /// node where the row failed.
    pub stage: String,
    /// `file:line:col` of the failing expression; when not empty, error records say
    /// `<message> (at <location>)`, as the interpreter does. Fail-fast failures carry the
    /// bare message (the compiler renders the span itself).
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Jsonl,
    Csv,
    Lines,
    /// `range(a, b)`: a ≤ i < b.
    Range(i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SinkFormat {
    Jsonl,
    Csv,
    Lines,
    Stdout,
    Discard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AggKind {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
    Collect,
}

/// One aggregate of a `group_by` / `aggregate`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AggSpec {
    pub kind: AggKind,
    /// The field of the projection (`proj_ty`) holding the aggregate's argument; `None`
    /// for `count()`.
    pub field: Option<usize>,
    /// The aggregate's output type (a field of the node's `out`).
    pub out: TypeDesc,
}

pub enum PNode {
    /// `path` `"-"` is standard input; ignored for `Range`. `shown` is the path as the
    /// pipeline names it (as written, relative to its file, or as given in a param): error
    /// records and messages use it, so they do not depend on the current folder. `ty` is
    /// the element type.
    /// `unread`: top-level fields of a record element the program never reads (the
    /// compiler's `pushdown` pass); the decoder checks but does not store them.
    Source {
        kind: SourceKind,
        path: String,
        shown: String,
        ty: TypeDesc,
        name: String,
        unread: Vec<usize>,
    },
    /// The §1.6 errors stream: rows of [`super::error_row_type`]
    /// `{source: str, line: int, stage: str, message: str, raw: str}`.
    Errors,
    /// One row in, zero or more out through `kiln_emit`. `parts`: when the function runs
    /// the operators of several stages (the compiler's `fuse` pass), `(first operator,
    /// stage name)` in order: a failure at operator `RowCtx::err_op` is that stage's
    /// (empty: every failure is `name`'s).
    Stage { input: usize, name: String, f: StageFn, out: TypeDesc, parts: Vec<(u32, String)> },
    /// `group_by`: `proj` writes `{key, a0, a1, ..}` (`proj_ty`) per row; the output is
    /// `{key, name0, name1, ..}` (`out`) per group, in order of first appearance. `site` is
    /// reported for an int sum that does not fit in `int`.
    Group {
        input: usize,
        name: String,
        proj: ProjFn,
        proj_ty: TypeDesc,
        aggs: Vec<AggSpec>,
        out: TypeDesc,
        site: u32,
    },
    /// `aggregate`: as `Group` without a key; `proj` (absent when no aggregate has an
    /// argument) writes `{a0, a1, ..}`. One output row, even over an empty stream.
    Aggregate {
        input: usize,
        name: String,
        proj: Option<ProjFn>,
        proj_ty: TypeDesc,
        aggs: Vec<AggSpec>,
        out: TypeDesc,
        site: u32,
    },
    /// An agent over a vector field of every row, batched: the `vec[k]` at byte offset
    /// `field` of each row is replaced, in place, by the agent's `vec[m]` for it. `forward`
    /// runs `n` rows at once (`k` / `m` floats each, row-major) and returns false on a
    /// shape mismatch.
    Agent {
        input: usize,
        name: String,
        field: usize,
        k: usize,
        m: usize,
        forward: AgentFn,
        out: TypeDesc,
    },
    /// An order-dependent operator (`take`, `skip`, `enumerate`, `batch`, `distinct`,
    /// `sort_by`, `join` / `left_join`, `union`): run by the consumer thread, in input
    /// order. `ty` is the input's element type, `out` the output's.
    Seq { input: usize, name: String, op: SeqOp, ty: TypeDesc, out: TypeDesc },
    /// `path` is required for Jsonl/Csv/Lines (`"-"` is standard output).
    Sink { input: usize, format: SinkFormat, path: Option<String>, ty: TypeDesc, name: String },
}

/// A batched forward pass ([`PNode::Agent`]): `(inputs, outputs, n) -> ok`.
pub type AgentFn = std::sync::Arc<dyn Fn(&[f32], &mut [f32], usize) -> bool + Send + Sync>;

/// A key function of a [`SeqOp`]: `f` writes `{key: K}` (`key_ty`) per row, so the key
/// is at offset 0 with type `K`.
#[derive(Clone)]
pub struct KeyFn {
    pub f: ProjFn,
    /// The key's type `K` (not the one-field record).
    pub key_ty: TypeDesc,
}

/// The operators of [`PNode::Seq`], with the interpreter's semantics (LANGUAGE.md §1.5).
#[derive(Clone)]
pub enum SeqOp {
    /// The first n elements (none when n ≤ 0).
    Take(i64),
    /// All but the first n elements.
    Skip(i64),
    /// `{index: int, item: T}`, index from 0.
    Enumerate,
    /// Lists of n ≥ 1 elements, the last one possibly shorter.
    Batch(usize),
    /// The first element of each key (keys compared as the interpreter's `key_bytes`).
    Distinct(KeyFn),
    /// A stable sort by key (the interpreter's total order), descending when `desc`.
    Sort { key: KeyFn, desc: bool },
    /// `{left: L, right: R}` (`R?` when `outer`) per match; `right` (a node index) is
    /// materialized first; left rows that come before the right side ended wait.
    Join { right: usize, left_key: KeyFn, right_key: KeyFn, outer: bool, right_ty: TypeDesc },
    /// The elements of the input, then those of `other` (a node index).
    Union { other: usize },
}

impl PNode {
    /// The node's (first) input, if it has one.
    pub fn input(&self) -> Option<usize> {
        match self {
            PNode::Source { .. } | PNode::Errors => None,
            PNode::Stage { input, .. }
            | PNode::Group { input, .. }
            | PNode::Aggregate { input, .. }
            | PNode::Seq { input, .. }
            | PNode::Agent { input, .. }
            | PNode::Sink { input, .. } => Some(*input),
        }
    }

    /// The second input of a `join` (its right side) or a `union` (its other side).
    pub fn second_input(&self) -> Option<usize> {
        match self {
            PNode::Seq { op: SeqOp::Join { right, .. }, .. } => Some(*right),
            PNode::Seq { op: SeqOp::Union { other }, .. } => Some(*other),
            _ => None,
        }
    }

    /// Every input of the node.
    pub fn inputs(&self) -> impl Iterator<Item = usize> {
        self.input().into_iter().chain(self.second_input())
    }

    /// The node's name (`errors` for the errors stream).
    pub fn name(&self) -> &str {
        match self {
            PNode::Errors => "errors",
            PNode::Source { name, .. }
            | PNode::Stage { name, .. }
            | PNode::Group { name, .. }
            | PNode::Aggregate { name, .. }
            | PNode::Seq { name, .. }
            | PNode::Agent { name, .. }
            | PNode::Sink { name, .. } => name,
        }
    }
}

/// How to run.
pub struct Options {
    /// Worker threads (at least 1 is used).
    pub threads: usize,
    /// Target chunk size in bytes ([`crate::io::chunk::DEFAULT_CHUNK_SIZE`] by default).
    pub chunk_size: usize,
    /// Called after every chunk with (bytes done, total bytes or 0 when unknown).
    #[allow(clippy::type_complexity)]
    pub progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
    /// Sources read from, and sinks written to, something other than their files (a
    /// static library's host feeding bytes from memory, `crate::program::session`).
    pub streams: Option<std::sync::Arc<Streams>>,
}

/// Readers and writers that replace the files of sources and sinks, by node name. Each is
/// taken by the run that uses it.
#[derive(Default)]
pub struct Streams {
    pub sources: std::sync::Mutex<Vec<(String, Box<dyn std::io::Read + Send>)>>,
    pub sinks: std::sync::Mutex<Vec<(String, Box<dyn std::io::Write + Send>)>>,
}

impl Streams {
    /// Whether source (or, with `sink`, sink) `name` is streamed.
    pub fn has(&self, name: &str, sink: bool) -> bool {
        if sink {
            self.sinks.lock().is_ok_and(|v| v.iter().any(|(n, _)| n == name))
        } else {
            self.sources.lock().is_ok_and(|v| v.iter().any(|(n, _)| n == name))
        }
    }

    fn take<T>(v: &std::sync::Mutex<Vec<(String, T)>>, name: &str) -> Option<T> {
        let mut v = v.lock().ok()?;
        let i = v.iter().position(|(n, _)| n == name)?;
        Some(v.swap_remove(i).1)
    }

    /// The reader of source `name`, if it is streamed.
    pub fn take_source(&self, name: &str) -> Option<Box<dyn std::io::Read + Send>> {
        Streams::take(&self.sources, name)
    }

    /// The writer of sink `name`, if it is streamed.
    pub fn take_sink(&self, name: &str) -> Option<Box<dyn std::io::Write + Send>> {
        Streams::take(&self.sinks, name)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: crate::io::chunk::DEFAULT_CHUNK_SIZE,
            progress: None,
            streams: None,
        }
    }
}

/// What a successful run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records sent to the errors stream.
    pub errors: u64,
}

/// Why a run stopped. Everything the sinks received before is written and flushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A record failed and the program has no errors stream (or the row derives from the
    /// errors stream itself).
    Record {
        /// `None`: the record could not be decoded (`node` is the source's name).
        site: Option<u32>,
        /// The stage (the site's stage name) or the source name.
        node: String,
        /// The input path (`-` for standard input), `range(a, b)` or `errors`.
        source: String,
        line: u64,
        raw: String,
        message: String,
    },
    /// A file cannot be opened, read or written; `message` names it, e.g.
    /// ``cannot read `in.jsonl`: no such file``.
    Io { node: String, message: String },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Record { node, source, line, message, .. } => {
                write!(f, "stage `{node}` failed on line {line} of {source}: {message}")
            }
            Failure::Io { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod param_tests {
    use super::{ParamBlock, ParamValue};
    use crate::layout::{KStr, TypeDesc};

    #[test]
    fn params_are_laid_out_as_a_record() {
        let tys = [
            TypeDesc::Bool,
            TypeDesc::Optional(Box::new(TypeDesc::Int)),
            TypeDesc::Str,
            TypeDesc::Optional(Box::new(TypeDesc::Float)),
        ];
        let vals = [
            ParamValue::Bool(true),
            ParamValue::Int(-7),
            ParamValue::Str("straße".into()),
            ParamValue::Null,
        ];
        let b = ParamBlock::new(&tys, &vals).unwrap();
        let rec = TypeDesc::Record(tys.iter().map(|t| (String::new(), t.clone())).collect());
        let offs = rec.field_offsets();
        let p = b.as_ptr();
        // SAFETY: reads inside the block at the record's field offsets.
        unsafe {
            assert_eq!(p.add(offs[0]).read(), 1);
            assert_eq!(p.add(offs[1]).read(), 1);
            let pay = offs[1] + tys[1].optional_payload_offset();
            assert_eq!(p.add(pay).cast::<i64>().read_unaligned(), -7);
            let s = p.add(offs[2]).cast::<KStr>().read_unaligned();
            assert_eq!(std::slice::from_raw_parts(s.ptr, s.len as usize), "straße".as_bytes());
            assert_eq!(p.add(offs[3]).read(), 0);
        }
        assert!(ParamBlock::new(&[TypeDesc::Int], &[ParamValue::Str("x".into())]).is_none());
    }
}
