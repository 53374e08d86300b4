//! The compiled program as a value (issue "self-contained native code"): everything a run
//! needs besides the machine code, as plain serializable data. The code generator produces
//! a [`Spec`] beside its functions; the JIT loads it with the functions' addresses, and
//! `kiln build` writes its bytes ([`Spec::encode`]) into the object file next to a table of
//! function addresses, which the executable's `main` hands to [`main::program_main`].
//!
//! Functions are named by their index in [`Spec::functions`] (their symbol names, in the
//! order of the address table). What compiled code reads by address (type descriptions,
//! list-group plans, agents' forward passes) is listed in [`Spec::kept`]; [`load`] builds
//! each and writes its address into the program's kept table, a data object compiled code
//! loads from (`kiln_kept`), so no address is baked into the code.

pub mod load;
pub mod main;
pub mod params;
pub mod progress;
pub mod report;
pub mod session;

use crate::exec::arg::ArgValue;
use crate::exec::{AggSpec, SinkFormat};
use crate::layout::TypeDesc;
use report::Span;
use serde::{Deserialize, Serialize};

/// A compiled program, without its machine code.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Spec {
    /// The pipeline file, as `kiln build` was given it.
    pub pipeline: String,
    /// The version of kiln that built the program.
    pub kiln_version: String,
    /// Plan nodes, in topological order.
    pub nodes: Vec<NodeSpec>,
    /// The symbol names of the program's functions; [`FnRef`]s index this list.
    pub functions: Vec<String>,
    /// What compiled code reads through the kept table, by slot.
    pub kept: Vec<Kept>,
    /// Loaded agents, by agent index (`None`: not called).
    pub agents: Vec<Option<AgentSpec>>,
    /// The places compiled code can fail, by site number.
    pub sites: Vec<SiteSpec>,
    /// The params, in declaration order (the parameter block's fields).
    pub params: Vec<ParamSpec>,
    /// How failures are reported.
    pub report: ReportSpec,
    /// The model client's settings when the program calls language models.
    pub models: Option<ModelsSpec>,
}

/// A function of the program: an index into [`Spec::functions`].
pub type FnRef = u32;

/// An argument of the plan, computed when the program starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ArgSpec {
    Known(ArgValue),
    /// A projection of no row writing `{v: T}` (`ty` is `T`); `span` is the argument's.
    Compiled {
        f: FnRef,
        ty: TypeDesc,
        span: Span,
    },
}

/// A source's or sink's path: its argument and how a relative value resolves
/// ([`crate::exec::arg::data_path`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PathSpec {
    pub arg: ArgSpec,
    /// The folder of the declaring file.
    pub dir: String,
    /// The params the path reads (a value given from outside resolves against the current
    /// folder).
    pub params: Vec<usize>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum SourceSpec {
    Jsonl,
    Csv,
    Lines,
    Range(ArgSpec, ArgSpec),
}

/// An order-dependent operator; its key functions are [`NodeSpec::Seq::keys`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum SeqSpec {
    Take(ArgSpec),
    Skip(ArgSpec),
    Enumerate,
    /// The size, and its span (a size below 1 stops the run before it starts).
    Batch(ArgSpec, Span),
    Distinct,
    Sort {
        desc: Option<ArgSpec>,
    },
    Join {
        right: usize,
        outer: bool,
        right_ty: TypeDesc,
    },
    Union {
        other: usize,
    },
}

/// A plan node ([`crate::exec::PNode`]) with functions by reference and arguments still
/// to compute.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum NodeSpec {
    Errors,
    Source {
        kind: SourceSpec,
        unread: Vec<usize>,
        path: Option<PathSpec>,
        ty: TypeDesc,
        name: String,
    },
    Sink {
        input: usize,
        format: SinkFormat,
        path: Option<PathSpec>,
        ty: TypeDesc,
        name: String,
    },
    Stage {
        input: usize,
        name: String,
        f: FnRef,
        out: TypeDesc,
        parts: Vec<(u32, String)>,
    },
    Group {
        input: usize,
        name: String,
        proj: FnRef,
        proj_ty: TypeDesc,
        aggs: Vec<AggSpec>,
        out: TypeDesc,
        keyed: bool,
        any_arg: bool,
        site: u32,
    },
    Seq {
        input: usize,
        name: String,
        kind: SeqSpec,
        keys: Vec<(FnRef, TypeDesc)>,
        ty: TypeDesc,
        out: TypeDesc,
    },
    /// A batched agent call over the vector at byte offset `field` of every row.
    Agent {
        input: usize,
        name: String,
        field: usize,
        k: usize,
        m: usize,
        agent: usize,
        out: TypeDesc,
    },
}

/// A value compiled code reads by address, through slot `i` of the kept table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kept {
    /// A type description (`kiln_value_*` kernels).
    Desc(TypeDesc),
    /// A list `group_by` / `aggregate` plan (`kiln_list_group`).
    Group { proj: TypeDesc, keyed: bool, aggs: Vec<AggSpec>, out: TypeDesc },
    /// Agent `i`'s forward pass for one row at a time (`kiln_agent_call`).
    Agent(usize),
    /// A typed prompt's call site (`kiln_model_typed`): the prompt's name, the JSON Schema
    /// of its result type (as JSON text), its request settings, the type and the type as
    /// the source writes it.
    Typed {
        name: String,
        schema: String,
        settings: crate::model::Settings,
        ty: TypeDesc,
        shown: String,
    },
}

/// An agent's packed layers and its thread cap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    pub layers: Vec<LayerSpec>,
    /// `resources.limits.cpu_cores`: the most threads in its forward pass at once.
    pub threads: Option<u32>,
}

/// One dense layer, packed for the GEMM kernels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub inputs: usize,
    pub outputs: usize,
    /// [`crate::kernels::Act`]'s code.
    pub act: u32,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A failure site: the code and span of what fails, and a fixed message (empty: the
/// runtime's message).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteSpec {
    pub code: String,
    pub span: Span,
    pub message: String,
    /// An expression's failure: error records end with ` (at FILE:LINE:COL)`.
    pub located: bool,
}

/// A param: name, type, the type as declared (for messages), span and default.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    pub ty: TypeDesc,
    pub shown_ty: String,
    pub span: Span,
    pub default: Option<ArgSpec>,
    /// The default as written (`--help` shows it).
    pub shown_default: Option<String>,
}

/// What a node is, for the labels of its failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Source,
    Sink,
    Other,
}

/// A plan node as failures name it: its shown name (`op@line:col` for an anonymous
/// stage), declared name, span, role, and the stages fused into it (shown name and span).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeInfo {
    pub shown: String,
    pub name: String,
    pub span: Span,
    pub role: Role,
    pub parts: Vec<(String, Span)>,
}

/// How failures are reported: the source files spans point into, the IR nodes by name,
/// whether the program has an errors stream, and the compile warnings `kiln run` prints
/// before running (already rendered).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReportSpec {
    pub files: Vec<(String, String)>,
    pub nodes: Vec<NodeInfo>,
    pub has_errors: bool,
    pub warnings: String,
}

/// The model client of a program that calls language models: `kiln.toml`'s settings (no
/// key: keys are read from the environment when a call is made) and the folder of the
/// cache.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelsSpec {
    pub config: crate::model::Config,
    pub cache_dir: String,
    /// The sum of `max_concurrency` over the models called (and their fallbacks).
    pub concurrency: usize,
}

impl Spec {
    /// The spec as bytes (what `kiln build` embeds).
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        postcard::to_stdvec(self).map_err(|e| format!("encoding the program description: {e}"))
    }

    /// A spec from [`Spec::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<Spec, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("a corrupt program description: {e}"))
    }

    /// The report sources.
    pub fn sources(&self) -> report::Sources {
        report::Sources {
            files: self
                .report
                .files
                .iter()
                .map(|(n, t)| report::SourceText::new(n.clone(), t.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_round_trips_through_its_bytes() {
        let mut config = crate::model::Config::default();
        config.models.push(crate::model::ModelConfig::new("default", "http://x/v1", "m"));
        let spec = Spec {
            pipeline: "p.kiln".into(),
            kept: vec![
                Kept::Desc(TypeDesc::Record(vec![("a".into(), TypeDesc::Int)])),
                Kept::Typed {
                    name: "classify".into(),
                    schema: "{\"type\":\"object\"}".into(),
                    settings: crate::model::Settings::default(),
                    ty: TypeDesc::Str,
                    shown: "str".into(),
                },
            ],
            params: vec![ParamSpec {
                name: "n".into(),
                ty: TypeDesc::Optional(Box::new(TypeDesc::Float)),
                shown_ty: "float?".into(),
                span: Span::default(),
                default: Some(ArgSpec::Known(ArgValue::Null)),
                shown_default: Some("null".into()),
            }],
            models: Some(ModelsSpec { config, cache_dir: "c".into(), concurrency: 4 }),
            ..Spec::default()
        };
        let back = Spec::decode(&spec.encode().unwrap()).unwrap();
        assert_eq!(back.encode(), spec.encode());
        assert_eq!(back.kept, spec.kept);
    }
}
