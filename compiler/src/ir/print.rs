//! `kiln view`: the dataflow graph as text or Graphviz, and typed expressions printed back
//! in Kiln-like syntax (conversions the checker inserted are shown as calls: `widen(x)`).

use super::*;
use crate::check::hir::{Callee, Global, TExprKind};
use crate::syntax::ast::UnOp;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use std::fmt::Write;

/// Names locals `v0`, `v1`... as they appear; globals by their declared names.
pub struct Printer<'p> {
    pub p: &'p Pipeline,
}

impl Printer<'_> {
    pub fn expr(&self, e: &TExpr) -> String {
        let mut s = String::new();
        self.write(&mut s, e);
        s
    }

    fn list(&self, s: &mut String, xs: &[TExpr]) {
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            self.write(s, x);
        }
    }

    fn write(&self, s: &mut String, e: &TExpr) {
        match &e.kind {
            TExprKind::Int(n) => write!(s, "{n}").unwrap(),
            TExprKind::Float(f) => write!(s, "{f:?}").unwrap(),
            TExprKind::Str(t) => write!(s, "{t:?}").unwrap(),
            TExprKind::Bool(b) => write!(s, "{b}").unwrap(),
            TExprKind::Null => s.push_str("null"),
            TExprKind::List(xs) => {
                s.push('[');
                self.list(s, xs);
                s.push(']');
            }
            TExprKind::Record(xs) => {
                s.push_str("{ ");
                let names: Vec<String> = match &e.ty {
                    Ty::Record(fs) => fs.iter().map(|f| f.name.to_string()).collect(),
                    _ => Vec::new(),
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    write!(s, "{}: ", names.get(i).map_or("?", String::as_str)).unwrap();
                    self.write(s, x);
                }
                s.push_str(" }");
            }
            TExprKind::Local(id) => write!(s, "v{}", id.0).unwrap(),
            TExprKind::Global(g) => s.push_str(&self.global(*g)),
            TExprKind::Unary(op, x) => {
                s.push_str(if *op == UnOp::Neg { "-(" } else { "not (" });
                self.write(s, x);
                s.push(')');
            }
            TExprKind::Binary(op, a, b) => {
                s.push('(');
                self.write(s, a);
                write!(s, " {} ", op.as_str()).unwrap();
                self.write(s, b);
                s.push(')');
            }
            TExprKind::Widen(x) => self.wrap(s, "widen", x),
            TExprKind::WrapOptional(x) => self.wrap(s, "some", x),
            TExprKind::Unwrap(x) => self.wrap(s, "unwrap", x),
            TExprKind::ConvertEach { value, binder, body } => {
                s.push_str("convert_each(");
                self.write(s, value);
                write!(s, ", v{} => ", binder.0).unwrap();
                self.write(s, body);
                s.push(')');
            }
            TExprKind::Call { callee, args, named } => {
                s.push_str(&self.callee(callee));
                s.push('(');
                self.list(s, args);
                for (i, (n, x)) in named.iter().enumerate() {
                    if i > 0 || !args.is_empty() {
                        s.push_str(", ");
                    }
                    write!(s, "{n}: ").unwrap();
                    self.write(s, x);
                }
                s.push(')');
            }
            TExprKind::Field(x, i) => {
                self.write(s, x);
                let name = match x.ty.strip_optional() {
                    Ty::Record(fs) => fs.get(*i).map(|f| f.name.to_string()).unwrap_or_default(),
                    _ => i.to_string(),
                };
                write!(s, ".{name}").unwrap();
            }
            TExprKind::Index(x, i) => {
                self.write(s, x);
                s.push('[');
                self.write(s, i);
                s.push(']');
            }
            TExprKind::If(c, t, f) => {
                s.push_str("if ");
                self.write(s, c);
                s.push_str(" { ");
                self.write(s, t);
                s.push_str(" } else { ");
                self.write(s, f);
                s.push_str(" }");
            }
            TExprKind::Let(id, v, body) => {
                write!(s, "{{ let v{} = ", id.0).unwrap();
                self.write(s, v);
                s.push_str("; ");
                self.write(s, body);
                s.push_str(" }");
            }
            TExprKind::Lambda(id, body) => {
                write!(s, "v{} => ", id.0).unwrap();
                self.write(s, body);
            }
            TExprKind::Error => s.push_str("<error>"),
        }
    }

    fn wrap(&self, s: &mut String, name: &str, x: &TExpr) {
        write!(s, "{name}(").unwrap();
        self.write(s, x);
        s.push(')');
    }

    fn global(&self, g: Global) -> String {
        match g {
            Global::Const(i) => self.p.consts[i].name.to_string(),
            Global::Param(i) => format!("param {}", self.p.params[i].name),
            Global::Fn(i) => self.p.fns[i].name.to_string(),
            Global::Agent(i) => self.p.agents[i].name.to_string(),
            Global::Prompt(i) => self.p.prompts[i].name.to_string(),
            Global::Source(i) => self.p.graph[self.p.sources[i]].name.to_string(),
            Global::Stage(i) => format!("stage#{i}"),
            Global::Errors => "errors".into(),
        }
    }

    fn callee(&self, c: &Callee) -> String {
        match c {
            Callee::Fn(i) => self.p.fns[*i].name.to_string(),
            Callee::Builtin(b) => b.name.to_string(),
            Callee::Agent(i) => self.p.agents[*i].name.to_string(),
            Callee::Prompt(i) => self.p.prompts[*i].name.to_string(),
            Callee::VecFromList(n) => format!("vec[{n}]"),
            Callee::Aggregate(a) => a.name.to_string(),
        }
    }

    fn row(&self, f: &RowFn) -> String {
        format!("v{}: {} => {}", f.param.0, f.param_ty, self.expr(&f.body))
    }

    fn op(&self, op: &Op) -> String {
        let aggs = |aggs: &[Agg]| {
            aggs.iter()
                .map(|a| match &a.arg {
                    Some(f) => {
                        format!("{}: {:?}({})", a.name, a.kind, self.row(f)).to_lowercase_kind()
                    }
                    None => format!("{}: count()", a.name),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match op {
            Op::Map(f) | Op::Filter(f) | Op::FlatMap(f) | Op::Distinct(f) => {
                format!("{}({})", op.name(), self.row(f))
            }
            Op::Take(n) | Op::Skip(n) | Op::Batch(n) => format!("{}({})", op.name(), self.expr(n)),
            Op::Enumerate => "enumerate()".into(),
            Op::SortBy { key, desc } => match desc {
                Some(d) => format!("sort_by({}, desc: {})", self.row(key), self.expr(d)),
                None => format!("sort_by({})", self.row(key)),
            },
            Op::GroupBy { key, aggs: a } => format!("group_by({}, {})", self.row(key), aggs(a)),
            Op::Aggregate { aggs: a } => format!("aggregate({})", aggs(a)),
            Op::Join { right, left_key, right_key, .. } => {
                format!(
                    "{}({}, {}, {})",
                    op.name(),
                    self.p.graph[*right].name,
                    self.row(left_key),
                    self.row(right_key)
                )
            }
            Op::Union { other } => format!("union({})", self.p.graph[*other].name),
            Op::Agent { agent, field, .. } => {
                let name = self.p.agents.get(*agent).map_or("?", |a| &*a.name);
                format!("agent({name} on field {field}, batched)")
            }
        }
    }
}

trait LowerKind {
    fn to_lowercase_kind(self) -> String;
}

impl LowerKind for String {
    /// `n: Sum(...)` → `n: sum(...)`: aggregate kinds print like their Kiln names.
    fn to_lowercase_kind(self) -> String {
        match self.split_once(": ") {
            Some((name, rest)) => {
                let (kind, args) = rest.split_once('(').unwrap_or((rest, ""));
                format!("{name}: {}({args}", kind.to_lowercase())
            }
            None => self,
        }
    }
}

/// The graph as text, one node per paragraph, in a deterministic topological order.
pub fn text(p: &Pipeline) -> String {
    let pr = Printer { p };
    let mut out = String::new();
    let order = petgraph::algo::toposort(&p.graph, None).unwrap_or_default();
    for n in order {
        let node = &p.graph[n];
        match &node.kind {
            NodeKind::Source { format, args, unread } => {
                let args: Vec<String> = args.iter().map(|a| pr.expr(a)).collect();
                writeln!(
                    out,
                    "source {}: stream<{}> = {}({})",
                    node.name,
                    node.elem,
                    format!("{format:?}").to_lowercase(),
                    args.join(", ")
                )
                .unwrap();
                if let (false, Ty::Record(fields)) = (unread.is_empty(), &node.elem) {
                    let names: Vec<&str> =
                        unread.iter().filter_map(|&i| fields.get(i)).map(|f| &*f.name).collect();
                    writeln!(out, "    (read, not stored: {})", names.join(", ")).unwrap();
                }
            }
            NodeKind::Errors => writeln!(out, "source errors: stream<{}>", node.elem).unwrap(),
            NodeKind::Stage { input, ops } => {
                writeln!(
                    out,
                    "stage {}: stream<{}> = {}",
                    node.name, node.elem, p.graph[*input].name
                )
                .unwrap();
                for (k, op) in ops.iter().enumerate() {
                    if let Some(part) = node.parts.iter().find(|q| q.first_op == k) {
                        writeln!(out, "    -- stage {}:", part.name).unwrap();
                    }
                    let fused = if op.is_stateless() { "  (fused)" } else { "" };
                    writeln!(out, "    |> {}{fused}", pr.op(op)).unwrap();
                }
            }
            NodeKind::Sink { input, format, path } => {
                let path = path.as_ref().map(|x| pr.expr(x)).unwrap_or_default();
                writeln!(
                    out,
                    "sink {} -> {}({path})",
                    p.graph[*input].name,
                    format!("{format:?}").to_lowercase()
                )
                .unwrap();
            }
        }
    }
    for f in &p.fns {
        let params: Vec<String> =
            f.params.iter().map(|(id, n, t)| format!("v{}/{n}: {t}", id.0)).collect();
        writeln!(out, "fn {}({}) -> {} = {}", f.name, params.join(", "), f.ret, pr.expr(&f.body))
            .unwrap();
    }
    out
}

/// The graph in Graphviz `dot` syntax.
pub fn dot(p: &Pipeline) -> String {
    let pr = Printer { p };
    let mut out = String::from("digraph kiln {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
    for n in p.graph.node_indices() {
        let node = &p.graph[n];
        let (shape, label) = match &node.kind {
            NodeKind::Source { format, .. } => {
                ("invhouse", format!("{}\\n{}", node.name, format!("{format:?}").to_lowercase()))
            }
            NodeKind::Errors => ("invhouse", "errors".to_string()),
            NodeKind::Stage { ops, .. } => {
                let ops: Vec<String> = ops.iter().map(|o| o.name().to_string()).collect();
                ("box", format!("{}\\n{}", node.name, ops.join(" |> ")))
            }
            NodeKind::Sink { format, path, .. } => {
                let path = path.as_ref().map(|x| pr.expr(x)).unwrap_or_default();
                (
                    "house",
                    format!(
                        "{}\\n{}",
                        format!("{format:?}").to_lowercase(),
                        path.replace('"', "\\\"")
                    ),
                )
            }
        };
        writeln!(
            out,
            "  n{} [shape={shape}, label=\"{}\"];",
            n.index(),
            label.replace('"', "\\\"").replace("\\\\\"", "\\\"")
        )
        .unwrap();
    }
    for e in (&p.graph).edge_references() {
        let label =
            if *e.weight() > 0 { format!(" [label=\"{}\"]", e.weight()) } else { String::new() };
        writeln!(out, "  n{} -> n{}{label};", e.source().index(), e.target().index()).unwrap();
    }
    out.push_str("}\n");
    out
}
