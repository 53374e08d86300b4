//! The compiled program as a value: [`spec`] gathers what code generation produced beside
//! the machine code (plan nodes, function table, kept values, failure sites, params, what
//! failures are reported with) into a [`kiln_runtime::program::Spec`], which the JIT loads
//! and `kiln build` embeds.

use super::layout::desc;
use super::module::Shared;
use crate::diag::render::human::span;
use crate::ir::{NodeKind, Pipeline};
use crate::source::SourceMap;
use cranelift_module::Module;
use kiln_runtime::program::{
    AgentSpec, ArgSpec, LayerSpec, NodeInfo, NodeSpec, ParamSpec, ReportSpec, Role, SiteSpec, Spec,
};

/// Compiles the default of every param of `p` that has one (before the module is
/// finished): by param index.
pub fn param_defaults<M: Module>(
    p: &Pipeline,
    sh: &mut Shared<'_, '_, M>,
) -> Result<Vec<Option<ArgSpec>>, String> {
    p.params
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.default {
            Some(e) => super::args::arg(sh, &format!("param_default{i}"), e).map(Some),
            None => Ok(None),
        })
        .collect()
}

/// The spec of `p` compiled into `sh`: `nodes` from the plan builder, `defaults` from
/// [`param_defaults`]; `warnings` is what `kiln run` prints before running.
pub fn spec<M: Module>(
    p: &Pipeline,
    map: &SourceMap,
    sh: &Shared<'_, '_, M>,
    nodes: Vec<NodeSpec>,
    defaults: Vec<Option<ArgSpec>>,
    warnings: String,
) -> Result<Spec, String> {
    let functions = sh
        .functions
        .iter()
        .map(|id| sh.m.declarations().get_function_decl(*id).linkage_name(*id).into_owned())
        .collect();
    let agents = agents(p, sh);
    let sites = sh
        .cx
        .sites()
        .into_iter()
        .map(|s| SiteSpec {
            code: s.code.as_str().to_string(),
            span: span(s.span),
            message: s.message,
            located: s.located,
        })
        .collect();
    let mut params = Vec::with_capacity(p.params.len());
    for (d, default) in p.params.iter().zip(defaults) {
        params.push(ParamSpec {
            name: d.name.to_string(),
            ty: desc(&d.ty).ok_or_else(|| format!("a param of type `{}`", d.ty))?,
            shown_ty: d.ty.to_string(),
            span: span(d.span),
            default,
            shown_default: d.default.as_ref().map(|e| map.text(e.span).to_string()),
        });
    }
    let report = ReportSpec {
        files: map
            .ids()
            .map(|id| {
                let f = map.get(id);
                (f.name.clone(), f.text.clone())
            })
            .collect(),
        nodes: report_nodes(p, map),
        has_errors: p.graph.node_indices().any(|n| matches!(p.graph[n].kind, NodeKind::Errors)),
        warnings,
    };
    Ok(Spec {
        pipeline: String::new(),
        kiln_version: env!("CARGO_PKG_VERSION").to_string(),
        nodes,
        functions,
        kept: sh.kept.clone(),
        agents,
        sites,
        params,
        report,
        models: None,
    })
}

/// Every IR node of `p` in plan order, as failures name it.
fn report_nodes(p: &Pipeline, map: &SourceMap) -> Vec<NodeInfo> {
    p.plan_order()
        .into_iter()
        .map(|n| {
            let node = &p.graph[n];
            NodeInfo {
                shown: crate::failure::stage_name(p, map, n),
                name: node.name.to_string(),
                span: span(node.span),
                role: match node.kind {
                    NodeKind::Source { .. } => Role::Source,
                    NodeKind::Sink { .. } => Role::Sink,
                    _ => Role::Other,
                },
                parts: node
                    .parts
                    .iter()
                    .map(|q| (crate::failure::shown_name(map, &q.name, q.span), span(q.span)))
                    .collect(),
            }
        })
        .collect()
}

/// The loaded agents of the program compiled into `sh`, as the spec holds them.
fn agents<M: Module>(p: &Pipeline, sh: &Shared<'_, '_, M>) -> Vec<Option<AgentSpec>> {
    sh.cx
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.as_ref().map(|layers| AgentSpec {
                layers: layers
                    .iter()
                    .map(|l| LayerSpec {
                        inputs: l.inputs,
                        outputs: l.outputs,
                        act: l.act as u32,
                        weights: l.weights.clone(),
                        bias: l.bias.clone(),
                    })
                    .collect(),
                threads: p.agents.get(i).and_then(|a| a.threads),
            })
        })
        .collect()
}

/// A spec holding only the kept values of what was compiled into `sh` (and the agents
/// they name): enough to fill the kept table of a function run on its own (`kiln repl`).
pub fn kept_only<M: Module>(p: &Pipeline, sh: &Shared<'_, '_, M>) -> Spec {
    Spec { kept: sh.kept.clone(), agents: agents(p, sh), ..Spec::default() }
}
