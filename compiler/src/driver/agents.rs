//! Checks made before a run reads anything: the agents the pipeline calls, templates
//! included, are loaded (weights packed for the runtime kernels), and [`models_called`]
//! says which language models it calls (the run then starts a model client).

use crate::agent::net::pack_layers;
use crate::check::hir::{Callee, Global, TExpr, TExprKind, visit, visit_pieces};
use crate::diag::{Diagnostic, codes};
use crate::ir::{NodeKind, Op, Pipeline};
use crate::source::SourceMap;
use std::collections::HashSet;
use std::rc::Rc;

pub use crate::agent::net::Agents;

#[derive(Default)]
struct Scan {
    fns: HashSet<usize>,
    consts: HashSet<usize>,
    agents: HashSet<usize>,
    prompts: HashSet<usize>,
    /// The models `complete` calls name.
    models: std::collections::BTreeSet<String>,
}

impl Scan {
    fn expr(&mut self, p: &Pipeline, e: &TExpr) {
        let mut todo: Vec<TExpr> = Vec::new();
        visit(e, &mut |x| match &x.kind {
            TExprKind::Call { callee: Callee::Prompt(i), .. } if self.prompts.insert(*i) => {
                // What the template evaluates: its functions, constants and agents.
                if let Some(d) = p.prompts.get(*i) {
                    if let Some((_, model)) = &d.typed {
                        self.models.insert(model.to_string());
                    }
                    visit_pieces(&d.body, &mut |t| todo.push(t.clone()));
                }
            }
            TExprKind::Call { callee: Callee::Builtin(b), named, .. } if b.name == "complete" => {
                self.models.insert(crate::builtins::complete::model_name(named).to_string());
            }
            TExprKind::Call { callee: Callee::Fn(i), .. } if self.fns.insert(*i) => {
                if let Some(f) = p.fns.get(*i) {
                    todo.push(f.body.clone());
                }
            }
            TExprKind::Call { callee: Callee::Agent(i), .. } => {
                self.agents.insert(*i);
            }
            TExprKind::Global(Global::Const(i)) if self.consts.insert(*i) => {
                if let Some(c) = p.consts.get(*i) {
                    todo.push(c.value.clone());
                }
            }
            _ => {}
        });
        for t in todo {
            self.expr(p, &t);
        }
    }
}

/// Everything the run will evaluate.
fn scan(p: &Pipeline) -> Scan {
    let mut s = Scan::default();
    for d in &p.params {
        if let Some(e) = &d.default {
            s.expr(p, e);
        }
    }
    for n in p.graph.node_indices() {
        match &p.graph[n].kind {
            NodeKind::Source { args, .. } => args.iter().for_each(|a| s.expr(p, a)),
            NodeKind::Sink { path: Some(e), .. } => s.expr(p, e),
            NodeKind::Stage { ops, .. } => {
                for op in ops {
                    match op {
                        Op::Map(f) | Op::Filter(f) | Op::FlatMap(f) | Op::Distinct(f) => {
                            s.expr(p, &f.body)
                        }
                        Op::Take(e) | Op::Skip(e) | Op::Batch(e) => s.expr(p, e),
                        Op::Agent { agent, .. } => {
                            s.agents.insert(*agent);
                        }
                        Op::SortBy { key, desc } => {
                            s.expr(p, &key.body);
                            if let Some(d) = desc {
                                s.expr(p, d);
                            }
                        }
                        Op::GroupBy { key, aggs } => {
                            s.expr(p, &key.body);
                            aggs.iter()
                                .filter_map(|a| a.arg.as_ref())
                                .for_each(|f| s.expr(p, &f.body));
                        }
                        Op::Aggregate { aggs } => aggs
                            .iter()
                            .filter_map(|a| a.arg.as_ref())
                            .for_each(|f| s.expr(p, &f.body)),
                        Op::Join { left_key, right_key, .. } => {
                            s.expr(p, &left_key.body);
                            s.expr(p, &right_key.body);
                        }
                        Op::Enumerate | Op::Union { .. } => {}
                    }
                }
            }
            _ => {}
        }
    }
    s
}

/// The names of the models the pipeline's `complete` calls use, sorted.
pub fn models_called(p: &Pipeline) -> Vec<String> {
    scan(p).models.into_iter().collect()
}

/// Loads the agents that are called.
pub fn prepare(p: &Pipeline, map: &SourceMap) -> Result<Agents, Box<Diagnostic>> {
    let s = scan(p);
    let mut agents: Agents = vec![None; p.agents.len()];
    let mut used: Vec<usize> = s.agents.into_iter().collect();
    used.sort_unstable();
    for i in used {
        let Some(def) = p.agents.get(i) else { continue };
        let fail = |m: String| {
            Box::new(
                Diagnostic::new(
                    codes::E0608,
                    def.span,
                    format!("cannot load agent `{}`: {m}", def.name),
                )
                .label("declared here"),
            )
        };
        let dir = std::path::Path::new(&map.get(def.span.file).name)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let path = dir.join(&def.path);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fail(format!("{}: {}", path.display(), crate::interp::input::io_message(&e)))
        })?;
        let (agent, _) = crate::syntax::agent::parse_agent(def.span.file, &text);
        let agent =
            agent.ok_or_else(|| fail(format!("{} is not a valid agent file", path.display())))?;
        let weights = agent.weights.clone().ok_or_else(|| {
            fail(format!("{} has no trained weights (run `kiln train`)", path.display()))
        })?;
        crate::agent::limits::check_machine(&agent)
            .and_then(|()| crate::agent::limits::check_run(&agent))
            .map_err(|m| {
                Box::new(Diagnostic::new(codes::E0612, def.span, m).label("declared here"))
            })?;
        agents[i] = Some(Rc::new(pack_layers(&agent, &weights)));
    }
    Ok(agents)
}
