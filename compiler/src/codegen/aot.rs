//! Ahead-of-time code generation of a pipeline (`kiln build`, LANGUAGE.md §5.1): the same
//! translator as the JIT ([`super::run::generate`]), driven through
//! `cranelift_object::ObjectModule` for portable x86-64 (the runtime's kernels pick their
//! SIMD level when the program starts). Besides the functions, the object holds the
//! program's [`Spec`] as bytes (`kiln_spec`), the table of its functions' addresses
//! (`kiln_fns`, in the spec's order), its kept table, and an entry point that hands all
//! of them to the runtime (`kiln_program_main`): `main` for an executable, `NAME_main` for
//! a static library. Linking is the driver's business (`crate::driver::build`).

use super::run::generate;
use crate::agent::net::Agents;
use crate::diag::{Diagnostic, codes};
use crate::ir::Pipeline;
use crate::source::SourceMap;
use cranelift_codegen::ir::{AbiParam, InstBuilder, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, default_libcall_names};
use cranelift_object::{ObjectBuilder, ObjectModule};
use kiln_runtime::program::Spec;

type Fatal = Box<Diagnostic>;

fn ice(e: impl std::fmt::Display) -> Fatal {
    Box::new(Diagnostic::new(
        codes::E0611,
        crate::source::Span::default(),
        format!("internal compiler error in code generation: {e}"),
    ))
}

/// What [`build`] produced.
pub struct Built {
    /// The object file's bytes.
    pub object: Vec<u8>,
    /// The program's spec (as embedded).
    pub spec: Spec,
    /// With `clif`: the Cranelift IR of every function, by name, in definition order.
    pub clif: Option<Vec<(String, String)>>,
}

/// The entry point the object defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// `int main(int argc, char **argv)`.
    Main,
    /// `int NAME_main(int argc, char **argv)` (a static library's).
    Named(&'a str),
}

/// Compiles `p` (optimized) into an object file. `complete` fills in the spec's parts code
/// generation does not know (the pipeline's name, warnings, models) before it is embedded.
/// `Err` inside: the translator cannot compile an expression of the pipeline.
pub fn build(
    p: &Pipeline,
    map: &SourceMap,
    agents: Agents,
    entry: Entry<'_>,
    keep_clif: bool,
    complete: &dyn Fn(&mut Spec),
) -> Result<Result<Built, Fatal>, Fatal> {
    let isa = isa().map_err(ice)?;
    let name = match entry {
        Entry::Main => "kiln_program".to_string(),
        Entry::Named(n) => n.to_string(),
    };
    let builder = ObjectBuilder::new(isa, name, default_libcall_names()).map_err(ice)?;
    let mut module = ObjectModule::new(builder);
    let (mut spec, ids, table, clif) =
        match generate(&mut module, p, map, agents, String::new(), keep_clif)? {
            Ok(g) => g,
            Err(d) => return Ok(Err(d)),
        };
    complete(&mut spec);
    let bytes = spec.encode().map_err(ice)?;
    let spec_id = data(&mut module, "kiln_spec", &bytes)?;
    let fns_id = fn_table(&mut module, &ids)?;
    let counts = (bytes.len(), ids.len(), spec.kept.len().max(1));
    let tables = (spec_id, fns_id, table);
    match entry {
        Entry::Main => {
            define_entry(&mut module, "main", "kiln_program_main", false, tables, counts)?;
        }
        Entry::Named(n) => {
            let main = format!("{n}_main");
            define_entry(&mut module, &main, "kiln_program_main", false, tables, counts)?;
            let open = format!("{n}_open");
            define_entry(&mut module, &open, "kiln_session_open", true, tables, counts)?;
        }
    }
    let object = module.finish().emit().map_err(ice)?;
    Ok(Ok(Built { object, spec, clif }))
}

/// The target of every ahead-of-time build (pipelines and agents, `crate::agent::aot`):
/// baseline x86-64 with none of the building machine's features, so the code runs on any
/// x86-64 machine (the runtime's kernels pick their SIMD level at start-up), position
/// independent (executables are PIE; static libraries may go into shared objects).
pub fn isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    for (k, v) in [("opt_level", "speed"), ("is_pic", "true")] {
        flags.set(k, v).map_err(|e| format!("cranelift setting {k}: {e}"))?;
    }
    cranelift_native::builder_with_options(false)
        .map_err(|e| format!("no code generator for this machine: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("code generator setup failed: {e}"))
}

fn data(module: &mut ObjectModule, name: &str, bytes: &[u8]) -> Result<DataId, Fatal> {
    let id = module.declare_data(name, Linkage::Local, false, false).map_err(ice)?;
    let mut d = DataDescription::new();
    let mut b = bytes.to_vec();
    b.push(0);
    d.define(b.into_boxed_slice());
    d.set_align(8);
    module.define_data(id, &d).map_err(ice)?;
    Ok(id)
}

/// `kiln_fns`: the address of every function of `ids`, in order.
fn fn_table(module: &mut ObjectModule, ids: &[FuncId]) -> Result<DataId, Fatal> {
    let id = module.declare_data("kiln_fns", Linkage::Local, false, false).map_err(ice)?;
    let mut d = DataDescription::new();
    // Not `define_zeroinit`: a zero-initialized object goes to `.bss`, without relocations.
    d.define(vec![0u8; 8 * ids.len().max(1)].into_boxed_slice());
    d.set_align(8);
    for (i, f) in ids.iter().enumerate() {
        let r = module.declare_func_in_data(*f, &mut d);
        d.write_function_addr((8 * i) as u32, r);
    }
    module.define_data(id, &d).map_err(ice)?;
    Ok(id)
}

/// `SYMBOL(int argc, char **argv)`: returns `CALLEE(argc, argv, spec, spec_len, fns, nfns,
/// kept, nkept)`, an `int` (`kiln_program_main`) or a pointer (`kiln_session_open`).
fn define_entry(
    module: &mut ObjectModule,
    symbol: &str,
    callee: &str,
    returns_ptr: bool,
    (spec, fns, kept): (DataId, DataId, DataId),
    (spec_len, nfns, nkept): (usize, usize, usize),
) -> Result<(), Fatal> {
    let ptr = module.target_config().pointer_type();
    let ret = AbiParam::new(if returns_ptr { ptr } else { types::I32 });
    let mut sig = module.make_signature();
    sig.params.extend([AbiParam::new(types::I32), AbiParam::new(ptr)]);
    sig.returns.push(ret);
    let main = module.declare_function(symbol, Linkage::Export, &sig).map_err(ice)?;
    let mut rt_sig = module.make_signature();
    rt_sig.params.push(AbiParam::new(types::I32));
    rt_sig.params.extend((0..7).map(|_| AbiParam::new(ptr)));
    rt_sig.returns.push(ret);
    let rt = module.declare_function(callee, Linkage::Import, &rt_sig).map_err(ice)?;
    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    ctx.func.signature = sig;
    let cfg = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (argc, argv) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let addr = |b: &mut FunctionBuilder, id: DataId| {
            let gv = module.declare_data_in_func(id, b.func);
            b.ins().symbol_value(ptr, gv)
        };
        let (s, f, k) = (addr(&mut b, spec), addr(&mut b, fns), addr(&mut b, kept));
        let sl = b.ins().iconst(ptr, spec_len as i64);
        let nf = b.ins().iconst(ptr, nfns as i64);
        let nk = b.ins().iconst(ptr, nkept as i64);
        let callee = module.declare_func_in_func(rt, b.func);
        let call = b.ins().call(callee, &[argc, argv, s, sl, f, nf, k, nk]);
        let code = b.inst_results(call)[0];
        b.ins().return_(&[code]);
        b.seal_all_blocks();
        b.finalize(cfg);
    }
    module.define_function(main, &mut ctx).map_err(ice)?;
    module.clear_context(&mut ctx);
    Ok(())
}
