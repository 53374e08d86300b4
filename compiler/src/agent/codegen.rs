//! Cranelift code for an agent, generic over the module (JIT or object file): the packed
//! weights become read-only data, and two functions call the runtime's dispatched
//! `kiln_dense` kernel layer by layer:
//!
//! - `<prefix>_predict_batch(const float *in, float *out, size_t n)` runs the rows in chunks
//!   of `R` through two stack buffers (no allocation), one `kiln_dense` call per layer;
//! - `<prefix>_predict(const float *in, float *out)` is `predict_batch(in, out, 1)`.

use super::net::PackedLayer;
use cranelift_codegen::ir::{
    AbiParam, InstBuilder, StackSlotData, StackSlotKind, condcodes::IntCC, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, FuncId, Linkage, Module};

/// Floats per hidden-activation buffer: two of them live on the stack.
const BUFFER_FLOATS: usize = 8192;

/// The ids of the generated functions.
pub struct AgentFunctions {
    pub predict: FuncId,
    pub predict_batch: FuncId,
}

/// Rows per chunk of `predict_batch` for these layers.
pub fn chunk_rows(layers: &[PackedLayer]) -> usize {
    let widest = layers[..layers.len().saturating_sub(1)]
        .iter()
        .map(|l| l.outputs)
        .max()
        .unwrap_or(1)
        .max(1);
    (BUFFER_FLOATS / widest).clamp(1, 256)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("code generation failed: {e}")
}

/// Declares and defines the agent's data and functions in `module`.
pub fn define_agent<M: Module>(
    module: &mut M,
    prefix: &str,
    layers: &[PackedLayer],
    linkage: Linkage,
) -> Result<AgentFunctions, String> {
    if layers.is_empty() {
        return Err("an agent needs at least one layer".into());
    }
    let ptr = module.target_config().pointer_type();
    // Weights then bias of each layer, 64-byte aligned for the vector loads.
    let mut data = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        let id = module
            .declare_data(&format!("{prefix}__layer{l}"), Linkage::Local, false, false)
            .map_err(err)?;
        let mut bytes = Vec::with_capacity((layer.weights.len() + layer.bias.len()) * 4);
        for v in layer.weights.iter().chain(&layer.bias) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut d = DataDescription::new();
        d.define(bytes.into_boxed_slice());
        d.set_align(64);
        module.define_data(id, &d).map_err(err)?;
        data.push(id);
    }
    let mut dense_sig = module.make_signature();
    for _ in 0..4 {
        dense_sig.params.push(AbiParam::new(ptr));
    }
    for _ in 0..3 {
        dense_sig.params.push(AbiParam::new(ptr));
    }
    dense_sig.params.push(AbiParam::new(types::I32));
    dense_sig.returns.push(AbiParam::new(types::I32));
    let dense = module.declare_function("kiln_dense", Linkage::Import, &dense_sig).map_err(err)?;

    let mut batch_sig = module.make_signature();
    batch_sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(ptr)]);
    let batch_id = module
        .declare_function(&format!("{prefix}_predict_batch"), linkage, &batch_sig)
        .map_err(err)?;
    let mut one_sig = module.make_signature();
    one_sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr)]);
    let one_id =
        module.declare_function(&format!("{prefix}_predict"), linkage, &one_sig).map_err(err)?;

    let rows = chunk_rows(layers) as i64;
    let (n_in, n_out) = (layers[0].inputs as i64, layers[layers.len() - 1].outputs as i64);
    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    ctx.func.signature = batch_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        let head = b.create_block();
        let body = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.append_block_param(head, ptr);
        b.switch_to_block(entry);
        let (input, output, n) =
            (b.block_params(entry)[0], b.block_params(entry)[1], b.block_params(entry)[2]);
        let bytes = (BUFFER_FLOATS * 4) as u32;
        let bufs = [
            b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 6)),
            b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 6)),
        ];
        let zero = b.ins().iconst(ptr, 0);
        b.ins().jump(head, &[zero.into()]);

        b.switch_to_block(head);
        let i = b.block_params(head)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        b.ins().brif(more, body, &[], exit, &[]);

        b.switch_to_block(body);
        let left = b.ins().isub(n, i);
        let r = b.ins().iconst(ptr, rows);
        let count = b.ins().umin(left, r);
        let in_stride = b.ins().iconst(ptr, n_in * 4);
        let out_stride = b.ins().iconst(ptr, n_out * 4);
        let in_off = b.ins().imul(i, in_stride);
        let out_off = b.ins().imul(i, out_stride);
        let mut cur = b.ins().iadd(input, in_off);
        let y = b.ins().iadd(output, out_off);
        let dense_ref = module.declare_func_in_func(dense, b.func);
        for (l, layer) in layers.iter().enumerate() {
            let gv = module.declare_data_in_func(data[l], b.func);
            let w = b.ins().symbol_value(ptr, gv);
            let bias_off = b.ins().iconst(ptr, (layer.weights.len() * 4) as i64);
            let bias = b.ins().iadd(w, bias_off);
            let dst =
                if l + 1 == layers.len() { y } else { b.ins().stack_addr(ptr, bufs[l % 2], 0) };
            let k = b.ins().iconst(ptr, layer.inputs as i64);
            let m = b.ins().iconst(ptr, layer.outputs as i64);
            let act = b.ins().iconst(types::I32, layer.act as i64);
            b.ins().call(dense_ref, &[w, bias, cur, dst, count, k, m, act]);
            cur = dst;
        }
        let next = b.ins().iadd(i, r);
        b.ins().jump(head, &[next.into()]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(batch_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);

    ctx.func.signature = one_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (input, output) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let one = b.ins().iconst(ptr, 1);
        let f = module.declare_func_in_func(batch_id, b.func);
        b.ins().call(f, &[input, output, one]);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(one_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);
    Ok(AgentFunctions { predict: one_id, predict_batch: batch_id })
}
