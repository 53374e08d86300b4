//! `kiln build model.af --emit exe -o OUT`: a program that reads JSONL rows on standard
//! input and writes the agent's outputs as JSONL on standard output.
//!
//! The program is linked by the system C compiler (`cc`, or `$CC`) from four parts, none
//! of which needs a language runtime: the agent's object (weights, `<name>_predict_batch`
//! and a Cranelift-generated `main`), the freestanding driver object
//! (`kiln_runtime::agentdrv`, which holds the read–predict–write loop, the JSON parsing and
//! formatting and the resource limits), and the three kernel objects. `main` only forwards
//! to `kiln_agent_main(predict_batch, input_size, output_size, memory_mb, cpu_cores,
//! min_memory_mb, min_cpu_millis, argc, argv)` and returns its exit code; the driver flushes its own output buffer, so nothing
//! relies on exit handlers a generated `main` would skip.

use crate::syntax::agent::AgentFile;
use cranelift_codegen::ir::{AbiParam, InstBuilder, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};
use std::path::{Path, PathBuf};

fn err(e: impl std::fmt::Display) -> String {
    format!("code generation failed: {e}")
}

/// Defines `int main(int argc, char **argv)` calling the driver with `predict_batch`.
pub fn define_main<M: Module>(
    module: &mut M,
    predict_batch: FuncId,
    agent: &AgentFile,
) -> Result<FuncId, String> {
    let ptr = module.target_config().pointer_type();
    let mut main_sig = module.make_signature();
    main_sig.params.extend([AbiParam::new(types::I32), AbiParam::new(ptr)]);
    main_sig.returns.push(AbiParam::new(types::I32));
    let main_id = module.declare_function("main", Linkage::Export, &main_sig).map_err(err)?;
    let mut drv_sig = module.make_signature();
    drv_sig.params.extend([
        AbiParam::new(ptr),
        AbiParam::new(ptr),
        AbiParam::new(ptr),
        AbiParam::new(types::I64),
        AbiParam::new(types::I64),
        AbiParam::new(types::I64),
        AbiParam::new(types::I64),
        AbiParam::new(types::I32),
        AbiParam::new(ptr),
    ]);
    drv_sig.returns.push(AbiParam::new(types::I32));
    let drv_id =
        module.declare_function("kiln_agent_main", Linkage::Import, &drv_sig).map_err(err)?;

    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    ctx.func.signature = main_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (argc, argv) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let predict = module.declare_func_in_func(predict_batch, b.func);
        let predict = b.ins().func_addr(ptr, predict);
        let n_in = b.ins().iconst(ptr, agent.input_size as i64);
        let n_out = b.ins().iconst(ptr, agent.output_size as i64);
        let clamp = |v: Option<u64>| v.unwrap_or(0).min(i64::MAX as u64) as i64;
        let r = &agent.limits;
        let mem = b.ins().iconst(types::I64, clamp(r.memory_mb_ceil()));
        let cores = b.ins().iconst(types::I64, clamp(r.threads()));
        let min_mem =
            b.ins().iconst(types::I64, clamp(r.minimum_memory_mb.map(|m| m.ceil() as u64)));
        let min_cpu = b
            .ins()
            .iconst(types::I64, clamp(r.minimum_cpu_cores.map(|c| (c * 1000.0).ceil() as u64)));
        let drv = module.declare_func_in_func(drv_id, b.func);
        let args = [predict, n_in, n_out, mem, cores, min_mem, min_cpu, argc, argv];
        let call = b.ins().call(drv, &args);
        let code = b.inst_results(call)[0];
        b.ins().return_(&[code]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(main_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);
    Ok(main_id)
}

/// Builds the executable at `out`.
pub fn build_exe(agent: &AgentFile, out: &Path) -> Result<(), String> {
    use crate::driver::build::{cc_link, scratch};
    let obj = super::aot::build_exe_object(agent)?;
    let dir = scratch()?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, String> {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        Ok(p)
    };
    let mut inputs = vec![write(&format!("{}.o", agent.c_name()), &obj)?];
    inputs.push(write("kiln_agent_driver.o", kiln_runtime::agentdrv::DRIVER_OBJECT)?);
    for k in kiln_runtime::simd::KERNEL_OBJECTS {
        inputs.push(write(k.name, k.bytes)?);
    }
    cc_link(&inputs, &["m"], out)
}

#[cfg(test)]
mod tests;
