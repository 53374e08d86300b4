//! The compiler as a library: [`compile`] takes a pipeline (a file, or text such as a REPL
//! input) through load → check → lower → verify → optimizer passes, and gives back the
//! graphs the engines run. `kiln run`, `kiln view` and `kiln build` call it; the CLI only
//! parses flags and prints. Code generation of the result is [`crate::codegen::run::compile`].

use crate::driver::{CheckRun, Session};
use crate::ir::Pipeline;
use crate::passes::Pass;
use std::path::Path;

/// What to compile.
pub enum Input<'a> {
    File(&'a Path),
    /// Text with the name diagnostics show for it.
    Text {
        name: &'a str,
        text: &'a str,
    },
}

/// A pipeline compiled down to its optimized graph.
pub struct Compiled {
    /// The source map and the warnings (there are no errors).
    pub check: CheckRun,
    /// The graph after the required passes: what the reference interpreter runs.
    pub reference: Pipeline,
    /// The graph after every pass: what code generation compiles.
    pub optimized: Pipeline,
    /// With [`Options::keep_passes`]: the graph after lowering and after each pass.
    pub passes: Vec<Snapshot>,
    /// How many sinks the program declares.
    pub sinks: usize,
    /// The checked program (`kiln repl` shows the types of what it defines).
    pub program: crate::check::hir::Program,
}

/// The graph at one point of the optimizer.
pub struct Snapshot {
    /// `lower`, or a pass's name.
    pub name: &'static str,
    pub doc: &'static str,
    pub changed: bool,
    pub graph: Pipeline,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Keep a copy of the graph after each pass (`kiln view --passes`).
    pub keep_passes: bool,
    /// Optimization passes not to run (the CLI reads them from `KILN_SKIP_PASSES`, a
    /// comma-separated list; tests use it to compile expressions the `fold` pass would
    /// otherwise compute ahead).
    pub skip: Vec<String>,
}

impl Options {
    /// The passes named in `KILN_SKIP_PASSES` (read by the CLI, never by the core).
    pub fn skip_from(value: Option<String>) -> Vec<String> {
        value
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// What [`compile`] gives: the compiled pipeline, or the diagnostics that stop it.
pub enum Outcome {
    Compiled(Box<Compiled>),
    Failed(CheckRun),
}

/// Compiles `input`. `Err`: the file cannot be read, or an internal compiler error (the
/// IR verifier failed after lowering or after a pass). Must run on a thread with a big
/// stack ([`crate::driver::with_big_stack`]), as checking recurses on deep expressions.
pub fn compile(input: Input<'_>, opts: Options) -> Result<Outcome, String> {
    let mut s = Session::new();
    let m = match input {
        Input::File(path) => s.load_file(path).map_err(|e| e.to_string())?,
        Input::Text { name, text } => s.load_text(name, text),
    };
    let program = s.check(m);
    let check = s.finish();
    if check.has_errors() {
        return Ok(Outcome::Failed(check));
    }
    let lowered = crate::ir::lower::lower(&program);
    crate::ir::verify::verify(&lowered)
        .map_err(|e| format!("internal compiler error: the IR verifier failed: {e}"))?;
    let mut passes = Vec::new();
    if let Some(s) = opts.skip.iter().find(|s| !crate::passes::PASSES.iter().any(|p| p.name == **s))
    {
        let names: Vec<&str> = crate::passes::PASSES.iter().map(|p| p.name).collect();
        return Err(format!(
            "KILN_SKIP_PASSES names no pass `{s}`: the passes are {}",
            names.join(", ")
        ));
    }
    if opts.keep_passes {
        let doc = "the checked program as a dataflow graph";
        passes.push(Snapshot { name: "lower", doc, changed: true, graph: lowered.clone() });
    }
    let mut observe = |pass: &Pass, changed: bool, p: &Pipeline| {
        if opts.keep_passes {
            let graph = p.clone();
            passes.push(Snapshot { name: pass.name, doc: pass.doc, changed, graph });
        }
    };
    let o = crate::passes::optimize(lowered, &opts.skip, &mut observe)
        .map_err(|e| format!("internal compiler error: {e}"))?;
    Ok(Outcome::Compiled(Box::new(Compiled {
        check,
        reference: o.reference,
        optimized: o.optimized,
        passes,
        sinks: program.sinks.len(),
        program,
    })))
}
