//! What the functions of one compiled program share: the Cranelift module, the runtime
//! functions they import (declared once, with their C signatures), read-only data
//! (string literals, deduplicated), the values of consts and params, and what compiled
//! code reads by address (type descriptions, list groups, agents' forward passes).

use super::context::Context;
use cranelift_codegen::ir::{AbiParam, FuncRef, Function, GlobalValue, Type, types};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use kiln_runtime::program::Kept;
use std::collections::HashMap;

/// The runtime functions generated code calls: (name, parameters, returns), with `P` a
/// pointer, `L` an i64, `W` an i32, `B` an i8 (a bool), `F` an f64 and `S` an f32.
const IMPORTS: &[(&str, &str, &str)] = &[
    ("kiln_arena_alloc", "PLL", "P"),
    ("kiln_emit", "PP", ""),
    ("kiln_fail", "PWPL", "W"),
    ("kiln_fail_keep", "P", ""),
    ("kiln_fail_at", "PWWLLL", "W"),
    ("kiln_agent_call", "PPLPL", "W"),
    ("kiln_model_complete", "PWFLPLPLP", "W"),
    ("kiln_model_typed", "PWPPLPLP", "W"),
    ("kiln_str_chars", "PL", "L"),
    ("kiln_str_cmp", "PLPL", "W"),
    ("kiln_str_concat", "PPLPLP", ""),
    ("kiln_str_upper", "PPLP", ""),
    ("kiln_str_lower", "PPLP", ""),
    ("kiln_str_trim", "PLP", ""),
    ("kiln_text_push", "PPPL", "W"),
    ("kiln_text_push_all", "PPPL", "W"),
    ("kiln_str_substr", "PLLLP", ""),
    ("kiln_str_contains", "PLPL", "W"),
    ("kiln_str_starts_with", "PLPL", "W"),
    ("kiln_str_ends_with", "PLPL", "W"),
    ("kiln_str_replace", "PPLPLPLP", "W"),
    ("kiln_str_reverse", "PPLP", "W"),
    ("kiln_str_split", "PPLPLP", "W"),
    ("kiln_str_join", "PPLPLP", "W"),
    ("kiln_str_tokens", "PPLP", "W"),
    ("kiln_parse_int", "PLP", "W"),
    ("kiln_parse_float", "PLP", "W"),
    ("kiln_fmt_int", "PLP", "W"),
    ("kiln_fmt_float", "PFP", "W"),
    ("kiln_math1", "WF", "F"),
    ("kiln_math2", "WFF", "F"),
    ("kiln_list_sort", "PPLWP", "W"),
    ("kiln_list_reverse", "PPLLP", "W"),
    ("kiln_list_concat", "PPLPLLP", "W"),
    ("kiln_copy", "PPL", ""),
    ("kiln_list_fsum", "PL", "F"),
    ("kiln_list_fmean", "PL", "F"),
    ("kiln_list_imean", "PL", "F"),
    ("kiln_list_isum", "PLP", "W"),
    ("kiln_vec_reduce", "WPL", "F"),
    ("kiln_vec_dot", "PPL", "F"),
    ("kiln_vec_argmax", "PL", "L"),
    ("kiln_vec_map", "WPLP", "W"),
    ("kiln_hash_embed", "PLLP", "W"),
    ("kiln_vbin", "WPPPL", "W"),
    ("kiln_vscalar", "WPSWPL", "W"),
    ("kiln_value_eq", "PPP", "B"),
    ("kiln_value_ord", "PPP", "W"),
    ("kiln_value_text", "PPPP", "W"),
    ("kiln_list_sort_any", "PPLPP", "W"),
    ("kiln_list_sort_by", "PPLPLBPP", "W"),
    ("kiln_list_distinct", "PPLPLPP", "W"),
    ("kiln_list_extreme", "PPLB", "L"),
    ("kiln_list_contains", "PPLP", "B"),
    ("kiln_list_enumerate", "PPLPP", "W"),
    ("kiln_list_batch", "LPLLPP", "W"),
    ("kiln_list_range", "LLPP", "W"),
    ("kiln_list_group", "PWPPLP", "W"),
    ("kiln_list_join", "PPPPPLPPLBPP", "W"),
];

/// The runtime functions generated code may call, as [`IMPORTS`] declares them: (name,
/// parameter letters, return letters). `tests/kernels.rs` checks them against the
/// runtime's definitions.
pub fn imports() -> &'static [(&'static str, &'static str, &'static str)] {
    IMPORTS
}

/// Every symbol [`IMPORTS`] names, with its address, for the JIT.
pub fn runtime_symbols() -> Vec<(&'static str, *const u8)> {
    let mut v = kiln_runtime::text::c_symbols();
    v.extend(kiln_runtime::strfn::c_symbols());
    v.extend(kiln_runtime::listfn::c_symbols());
    v.extend(kiln_runtime::vecfn::c_symbols());
    v.extend(kiln_runtime::valfn::c_symbols());
    v.extend(kiln_runtime::listany::c_symbols());
    v.extend(kiln_runtime::exec::listgroup::c_symbols());
    v.extend(kiln_runtime::simd::jit_symbols());
    v.extend(kiln_runtime::exec::abi::c_symbols());
    v.extend(kiln_runtime::io::ffi::c_symbols());
    v.extend(kiln_runtime::model::ffi::c_symbols());
    v
}

pub struct Shared<'s, 'p, M: Module> {
    pub m: &'s mut M,
    pub cx: &'s Context<'p>,
    /// The first expression the translator could not compile (then the program is not
    /// run compiled: see `codegen::run`).
    pub refused: Option<(crate::source::Span, String)>,
    imports: HashMap<&'static str, FuncId>,
    data: HashMap<Vec<u8>, DataId>,
    /// User fns by index: compiled (declared) or `None` when they cannot be compiled.
    pub fns: HashMap<usize, Option<FuncId>>,
    /// Declared user fns whose bodies are not defined yet.
    pub pending: Vec<usize>,
    /// Prompts by index, as for `fns`.
    pub prompts: HashMap<usize, Option<FuncId>>,
    /// Declared prompts whose bodies are not defined yet.
    pub pending_prompts: Vec<usize>,
    /// What compiled code reads by address, by slot of the kept table (type descriptions
    /// for the generic kernels, list-group plans, agents' forward passes): the runtime
    /// builds each when the program is loaded and writes its address into the table
    /// (`kiln_runtime::program::load::fill_kept`), so no address is baked into the code.
    pub kept: Vec<Kept>,
    /// The kept table: a writable data object of one pointer per slot, defined by
    /// [`Shared::finish_kept`].
    pub kept_table: DataId,
    /// The program's functions in the order of the spec's function table.
    pub functions: Vec<FuncId>,
    /// When `Some`, the Cranelift IR of every function defined, by name, in definition
    /// order (`kiln repl`'s `:ir`).
    pub clif: Option<Vec<(String, String)>>,
}

impl<'s, 'p, M: Module> Shared<'s, 'p, M> {
    pub fn new(m: &'s mut M, cx: &'s Context<'p>) -> Shared<'s, 'p, M> {
        let kept_table = m
            .declare_data("kiln_kept", Linkage::Local, true, false)
            .unwrap_or_else(|e| panic!("declaring the kept table: {e}"));
        Shared {
            m,
            cx,
            refused: None,
            imports: HashMap::new(),
            data: HashMap::new(),
            fns: HashMap::new(),
            pending: Vec::new(),
            prompts: HashMap::new(),
            pending_prompts: Vec::new(),
            kept: Vec::new(),
            kept_table,
            functions: Vec::new(),
            clif: None,
        }
    }

    /// The spec's reference to function `id` (adding it to the function table).
    pub fn fn_ref(&mut self, id: FuncId) -> u32 {
        match self.functions.iter().position(|f| *f == id) {
            Some(i) => i as u32,
            None => {
                self.functions.push(id);
                (self.functions.len() - 1) as u32
            }
        }
    }

    /// The kept-table slot holding `k` (one slot per distinct value).
    pub fn kept_slot(&mut self, k: Kept) -> u32 {
        match self.kept.iter().position(|x| *x == k) {
            Some(i) => i as u32,
            None => {
                self.kept.push(k);
                (self.kept.len() - 1) as u32
            }
        }
    }

    /// Defines the kept table (one zeroed pointer per slot); call once every function is
    /// defined.
    pub fn finish_kept(&mut self) -> Result<(), String> {
        let mut d = DataDescription::new();
        d.define_zeroinit(8 * self.kept.len().max(1));
        d.set_align(8);
        self.m.define_data(self.kept_table, &d).map_err(|e| format!("defining the kept table: {e}"))
    }

    pub fn cfg(&self) -> TargetFrontendConfig {
        self.m.target_config()
    }

    pub fn ptr(&self) -> Type {
        self.m.target_config().pointer_type()
    }

    /// The pipeline being compiled.
    pub fn pipeline(&self) -> &'p crate::ir::Pipeline {
        self.cx.p
    }

    /// A reference to runtime function `name` from `func`.
    pub fn import(&mut self, name: &'static str, func: &mut Function) -> FuncRef {
        let id = match self.imports.get(name) {
            Some(id) => *id,
            None => {
                let (_, params, rets) = IMPORTS
                    .iter()
                    .find(|(n, ..)| *n == name)
                    .unwrap_or_else(|| panic!("runtime function {name} is not in IMPORTS"));
                let ptr = self.ptr();
                let ty = |c: char| match c {
                    'P' => ptr,
                    'L' => types::I64,
                    'F' => types::F64,
                    'S' => types::F32,
                    'B' => types::I8,
                    _ => types::I32,
                };
                let mut sig = self.m.make_signature();
                sig.params.extend(params.chars().map(|c| AbiParam::new(ty(c))));
                sig.returns.extend(rets.chars().map(|c| AbiParam::new(ty(c))));
                let id = self
                    .m
                    .declare_function(name, Linkage::Import, &sig)
                    .unwrap_or_else(|e| panic!("declaring {name}: {e}"));
                self.imports.insert(name, id);
                id
            }
        };
        self.m.declare_func_in_func(id, func)
    }

    /// Read-only `bytes` (deduplicated), as a global value of `func`.
    pub fn data(&mut self, bytes: &[u8], func: &mut Function) -> GlobalValue {
        let id = match self.data.get(bytes) {
            Some(id) => *id,
            None => {
                let id = self
                    .m
                    .declare_anonymous_data(false, false)
                    .unwrap_or_else(|e| panic!("declaring data: {e}"));
                let mut d = DataDescription::new();
                // A non-empty definition keeps every pointer valid and distinct.
                let mut b = bytes.to_vec();
                b.push(0);
                d.define(b.into_boxed_slice());
                // A long text (a prompt template's) on a cache line: `memcpy` into an
                // aligned arena buffer runs at half speed from an odd address.
                if bytes.len() >= 256 {
                    d.set_align(64);
                }
                self.m.define_data(id, &d).unwrap_or_else(|e| panic!("defining data: {e}"));
                self.data.insert(bytes.to_vec(), id);
                id
            }
        };
        self.m.declare_data_in_func(id, func)
    }

    /// Keeps the Cranelift IR of function `id` when [`Shared::clif`] asks for it.
    pub fn keep_clif(&mut self, id: FuncId, func: &Function) {
        if let Some(kept) = self.clif.as_mut() {
            let name = self.m.declarations().get_function_decl(id).linkage_name(id).into_owned();
            kept.push((name, func.display().to_string()));
        }
    }

    /// The kept-table slot of agent `i`'s forward pass for `kiln_agent_call` (`None` when
    /// the agent is not loaded).
    pub fn agent_slot(&mut self, i: usize) -> Option<u32> {
        self.agent_loaded(i).then(|| self.kept_slot(Kept::Agent(i)))
    }

    /// Whether agent `i` is loaded (its weights go into the program's spec).
    pub fn agent_loaded(&self, i: usize) -> bool {
        self.cx.agents.get(i).is_some_and(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    /// Every runtime function the code generator may import is one the runtime exports
    /// (a misspelt name would only fail when a pipeline first uses it).
    #[test]
    fn every_import_is_a_runtime_symbol() {
        let symbols = super::runtime_symbols();
        for (name, params, rets) in super::IMPORTS {
            assert!(symbols.iter().any(|(s, _)| s == name), "the runtime exports no `{name}`");
            assert!(
                params.chars().chain(rets.chars()).all(|c| "PLWBFS".contains(c)),
                "`{name}`: unknown type letter in `{params}` -> `{rets}`"
            );
        }
        let mut names: Vec<&str> = super::IMPORTS.iter().map(|(n, ..)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a runtime function is listed twice in IMPORTS");
    }
}
