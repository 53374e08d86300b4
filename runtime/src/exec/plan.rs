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
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkFormat {
    Jsonl,
    Csv,
    Lines,
    Stdout,
    Discard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug)]
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
    Source { kind: SourceKind, path: String, shown: String, ty: TypeDesc, name: String },
    /// The §1.6 errors stream: rows of [`super::error_row_type`]
    /// `{source: str, line: int, stage: str, message: str, raw: str}`.
    Errors,
    /// One row in, zero or more out through `kiln_emit`.
    Stage { input: usize, name: String, f: StageFn, out: TypeDesc },
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: crate::io::chunk::DEFAULT_CHUNK_SIZE,
            progress: None,
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
