//! Name resolution, type checking and lints: [`ast::Module`]s in, a typed [`hir::Program`]
//! and diagnostics out. The checker never reads files; the driver hands it every module
//! (with `use`s already resolved) and what it learned from `.af` and `.prompt` files.
//!
//! Items are checked on demand (a stage checks the stages it reads first), so declaration
//! order never matters and cycles are found where they close. A failed expression gets
//! type `Ty::Error`, which is compatible with everything: one mistake, one diagnostic.

mod call;
pub mod consteval;
mod expr;
mod habits;
pub use expr::errors_record;
pub mod hir;
mod items;
mod lints;
mod locals;
mod models;
mod ops;
mod paths;
mod pipeline;
pub mod schema;
pub mod suggest;
mod template;
pub mod types;

use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Item, ItemKind};
use hir::{Global, Program};
use std::collections::HashMap;
use types::Ty;

/// One parsed module as the driver hands it over.
pub struct ModuleInput<'a> {
    pub file: FileId,
    pub module: &'a ast::Module,
    /// The modules this one `use`s (indices into the same slice), with the span of each
    /// `use` path; paths the driver could not resolve are left out (it reported them).
    pub uses: Vec<(usize, Span)>,
    /// Standard-library modules are not linted.
    pub is_std: bool,
}

/// What the driver learned about an agent file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSig {
    pub input: u32,
    pub output: u32,
    pub has_weights: bool,
    /// `resources.limits.cpu_cores` as a thread count (see `Resources::threads`).
    pub threads: Option<u32>,
}

/// What the driver learned about a `.prompt` file: its parameters (types already parsed
/// from the front matter), its template text and the parsed template.
#[derive(Clone, Debug)]
pub struct PromptSig {
    pub params: Vec<(ast::Ident, ast::TypeExpr)>,
    pub template: String,
    pub body: ast::Template,
    /// The `model:` front matter value and its span.
    pub model: Option<(String, Span)>,
    /// The `returns:` front matter type: a typed prompt (LANGUAGE.md §4.1).
    pub returns: Option<ast::TypeExpr>,
    /// The `temperature:` and `max_tokens:` front matter values.
    pub settings: kiln_runtime::model::Settings,
}

/// Facts from files other than `.kiln` ones, keyed by the declaring file and the path as
/// written. `None` means the file could not be used (the driver reported why).
#[derive(Default)]
pub struct Externals {
    pub agents: HashMap<(FileId, String), Option<AgentSig>>,
    pub prompts: HashMap<(FileId, String), Option<PromptSig>>,
    /// The models of the `kiln.toml` that applies to the program being checked.
    pub models: crate::config::Models,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unchecked,
    InProgress,
    Done,
}

/// A named top-level declaration of some module.
struct GlobalEntry<'a> {
    module: usize,
    item: &'a Item,
    name: &'a ast::Ident,
    /// What it resolves to once checked; types have no HIR slot.
    slot: Option<Global>,
    state: State,
    used: bool,
}

pub struct Checker<'a> {
    modules: &'a [ModuleInput<'a>],
    pub(crate) ext: &'a Externals,
    diags: Vec<Diagnostic>,
    globals: Vec<GlobalEntry<'a>>,
    /// Per module: name → index in `globals` (own names and those brought in by `use`).
    scopes: Vec<HashMap<&'a str, usize>>,
    /// Resolved types of `type` aliases, by global index.
    alias_types: HashMap<usize, Ty>,
    /// The type of each global value once checked.
    global_types: HashMap<usize, Ty>,
    program: Program,
    current_module: usize,
    locals: locals::Locals,
    /// The stage or source being checked, for cycle messages.
    stack: Vec<usize>,
    /// Inside a source/stage/sink expression streams are allowed.
    pub(crate) stream_context: bool,
    /// Inside a `const` initializer only constant things may be used.
    pub(crate) const_context: bool,
    /// Inside a prompt template: how many `{% for %}` loops are open (`loop` is defined
    /// only inside one). `None` outside templates.
    template_loops: Option<usize>,
    /// Checking a `.prompt` file without a pipeline (see [`check_prompt_alone`]).
    prompt_alone: bool,
    /// Names of declarations that failed to parse (their uses are not reported).
    broken: std::collections::HashSet<&'a str>,
    /// Which global (a stage or source being checked; `None` for a sink) reads which
    /// source or stage, recorded as names resolve, so reachability survives type errors.
    stream_refs: Vec<(Option<usize>, usize)>,
}

/// Checks the program whose main module is `modules[main]`.
pub fn check_program(
    modules: &[ModuleInput],
    main: usize,
    ext: &Externals,
) -> (Program, Vec<Diagnostic>) {
    use crate::timing::phase;
    let mut cx = phase("resolve", || {
        let mut cx = Checker::new(modules, main, ext);
        cx.collect();
        cx
    });
    phase("check", || {
        for g in 0..cx.globals.len() {
            cx.ensure_checked(g);
        }
        cx.check_sinks(main);
    });
    phase("lint", || cx.lint(main));
    cx.program.locals = cx.locals.count();
    (cx.program, cx.diags)
}

/// Checks a `.prompt` file on its own (`kiln check FILE.prompt`, when no pipeline of the
/// run declares it): its template sees its parameters and the builtins. A parameter type
/// naming a `type` alias (or a vector size naming a constant) cannot be resolved without
/// the pipeline and is left unchecked.
pub fn check_prompt_alone(file: FileId, sig: &PromptSig) -> Vec<Diagnostic> {
    let empty = ast::Module { items: Vec::new(), broken: Vec::new() };
    let modules = [ModuleInput { file, module: &empty, uses: Vec::new(), is_std: false }];
    let ext = Externals::default();
    let mut cx = Checker::new(&modules, 0, &ext);
    cx.collect();
    cx.prompt_alone = true;
    let params: Vec<(ast::Ident, Ty)> = sig
        .params
        .iter()
        .map(|(n, t)| {
            let ty = if types::names_a_declaration(t) { Ty::Error } else { cx.resolve_type(t) };
            (n.clone(), ty)
        })
        .collect();
    cx.check_template(&params, &sig.body);
    cx.diags
}

impl<'a> Checker<'a> {
    fn new(modules: &'a [ModuleInput<'a>], main: usize, ext: &'a Externals) -> Checker<'a> {
        Checker {
            modules,
            ext,
            diags: Vec::new(),
            globals: Vec::new(),
            scopes: Vec::new(),
            alias_types: HashMap::new(),
            global_types: HashMap::new(),
            program: Program::default(),
            current_module: main,
            locals: locals::Locals::default(),
            stack: Vec::new(),
            stream_context: false,
            const_context: false,
            template_loops: None,
            broken: modules
                .iter()
                .flat_map(|m| m.module.broken.iter().map(String::as_str))
                .collect(),
            stream_refs: Vec::new(),
            prompt_alone: false,
        }
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Gathers every named declaration and builds each module's scope.
    fn collect(&mut self) {
        let modules = self.modules;
        let mut own: Vec<HashMap<&'a str, usize>> = Vec::new();
        for (m, input) in modules.iter().enumerate() {
            let mut names: HashMap<&'a str, usize> = HashMap::new();
            for item in &input.module.items {
                let Some(name) = item.kind.name() else {
                    continue;
                };
                let idx = self.globals.len();
                if let Some(&prev) = names.get(name.name.as_str()) {
                    let first = self.globals[prev].name.span;
                    self.report(
                        Diagnostic::new(
                            codes::E0101,
                            name.span,
                            format!("`{}` is defined twice", name.name),
                        )
                        .label("defined again here")
                        .secondary(first, "first defined here")
                        .help("rename one of them"),
                    );
                    continue;
                }
                names.insert(&name.name, idx);
                let slot = self.allocate_slot(&item.kind);
                self.globals.push(GlobalEntry {
                    module: m,
                    item,
                    name,
                    slot,
                    state: State::Unchecked,
                    used: false,
                });
            }
            own.push(names);
        }
        // Bring in the names of used modules; a clash names both declarations.
        for (m, input) in modules.iter().enumerate() {
            let mut scope = own[m].clone();
            for &(used, use_span) in &input.uses {
                for (&name, &g) in &own[used] {
                    match scope.get(name) {
                        Some(&existing) if existing != g => {
                            let a = self.globals[existing].name.span;
                            let b = self.globals[g].name.span;
                            self.report(
                                Diagnostic::new(
                                    codes::E0104,
                                    use_span,
                                    format!("`{name}` is defined both here and in a used module"),
                                )
                                .label(format!("this `use` brings in another `{name}`"))
                                .secondary(a, "one definition")
                                .secondary(b, "the other definition")
                                .help("rename one of them"),
                            );
                        }
                        _ => {
                            scope.insert(name, g);
                        }
                    }
                }
            }
            self.scopes.push(scope);
        }
    }

    fn allocate_slot(&mut self, kind: &ItemKind) -> Option<Global> {
        let p = &mut self.program;
        macro_rules! push {
            ($vec:ident, $variant:ident) => {{
                p.$vec.push(Default::default());
                Some(Global::$variant(p.$vec.len() - 1))
            }};
        }
        match kind {
            ItemKind::Const { .. } => push!(consts, Const),
            ItemKind::Param { .. } => push!(params, Param),
            ItemKind::Fn { .. } => push!(fns, Fn),
            ItemKind::Agent { .. } => push!(agents, Agent),
            ItemKind::PromptFile { .. } | ItemKind::PromptInline { .. } => push!(prompts, Prompt),
            ItemKind::Source { .. } => push!(sources, Source),
            ItemKind::Stage { .. } => push!(stages, Stage),
            ItemKind::Type { .. } | ItemKind::Use { .. } | ItemKind::Sink { .. } => None,
        }
    }

    /// Looks a name up in the current module's scope and marks it used.
    fn lookup_global(&mut self, name: &str) -> Option<usize> {
        let g = *self.scopes[self.current_module].get(name)?;
        // A function calling itself does not make it used.
        if self.stack.last() != Some(&g) {
            self.globals[g].used = true;
        }
        Some(g)
    }

    /// Checks global `g` if it has not been yet, in its own module's scope.
    fn ensure_checked(&mut self, g: usize) {
        match self.globals[g].state {
            State::Done => return,
            State::InProgress => return, // cycles are reported by the caller that sees them
            State::Unchecked => {}
        }
        self.globals[g].state = State::InProgress;
        let saved_module = std::mem::replace(&mut self.current_module, self.globals[g].module);
        let saved_locals = std::mem::take(&mut self.locals);
        self.locals.inherit_counter(&saved_locals);
        let saved_ctx = (self.stream_context, self.const_context, self.template_loops.take());
        self.stack.push(g);
        self.check_item(g);
        self.stack.pop();
        (self.stream_context, self.const_context, self.template_loops) = saved_ctx;
        let counter_locals = std::mem::replace(&mut self.locals, saved_locals);
        self.locals.inherit_counter(&counter_locals);
        self.current_module = saved_module;
        self.globals[g].state = State::Done;
    }

    /// The type of global value `g`, checking it first if needed. Reports a cycle when
    /// `g` is being checked further up the stack.
    fn global_type(&mut self, g: usize, use_span: Span) -> Ty {
        if self.globals[g].state == State::InProgress {
            return self.report_cycle(g, use_span);
        }
        self.ensure_checked(g);
        self.global_types.get(&g).cloned().unwrap_or(Ty::Error)
    }

    fn report_cycle(&mut self, g: usize, use_span: Span) -> Ty {
        let entry = &self.globals[g];
        let kind = entry.item.kind.keyword();
        // Functions (and prompts) may recurse: their type is known from their signature.
        if kind == "fn" || kind == "prompt" {
            return self.global_types.get(&g).cloned().unwrap_or(Ty::Error);
        }
        let pos = self.stack.iter().position(|&s| s == g).unwrap_or(0);
        let names: Vec<String> =
            self.stack[pos..].iter().map(|&s| format!("`{}`", self.globals[s].name.name)).collect();
        let cycle = format!("{} → `{}`", names.join(" → "), entry.name.name);
        let (code, what) = match kind {
            "stage" | "source" => (codes::E0300, "stages form a cycle"),
            _ => (codes::E0109, "a constant refers to itself"),
        };
        let mut d = Diagnostic::new(code, use_span, format!("{what}: {cycle}"))
            .label(format!("`{}` is used here while it is being defined", entry.name.name));
        for &s in &self.stack[pos..] {
            d = d.secondary(
                self.globals[s].name.span,
                format!("`{}` defined here", self.globals[s].name.name),
            );
        }
        let help = if code == codes::E0300 {
            "a stage can only read sources and stages that do not read it back"
        } else {
            "a constant's value cannot depend on itself"
        };
        self.report(d.help(help));
        Ty::Error
    }

    /// Is `name` declared by a declaration that failed to parse? Then it was reported.
    pub(crate) fn is_broken(&self, name: &str) -> bool {
        self.broken.contains(name)
    }

    fn module_file(&self) -> FileId {
        self.modules[self.current_module].file
    }
}
