//! Cranelift code for an agent, generic over the module (JIT or object file): the packed
//! weights become read-only data, and three functions call the runtime's dispatched kernels
//! layer by layer:
//!
//! - `<prefix>__rows(const float *in, float *out, size_t n)` (local) runs the rows in
//!   chunks of `R` through two stack buffers (no allocation), one `kiln_dense_gemm` call per
//!   layer: always the GEMM micro-kernel, whose rows are independent, so a row's bits do not
//!   depend on the chunking or on which thread runs it;
//! - `<prefix>_predict_batch(const float *in, float *out, size_t n)` is `<prefix>_predict`
//!   for one row, else `kiln_par_rows(<prefix>__rows, ...)`, which gives part of the rows to
//!   the kernels' second thread (see `runtime/src/kernels/pool.rs`);
//! - `<prefix>_predict(const float *in, float *out)` calls `kiln_dense_row2` for the first
//!   two layers and `kiln_dense_row` for each later one (the GEMV kernel, with a wide
//!   layer's output panels split between the two threads, and the layer after it split by
//!   inputs along the same cut).

use super::net::PackedLayer;
use cranelift_codegen::ir::{
    AbiParam, InstBuilder, StackSlot, StackSlotData, StackSlotKind, Value, condcodes::IntCC, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};

/// Floats per hidden-activation buffer: two of them live on the stack.
const BUFFER_FLOATS: usize = 8192;

/// Multiply-adds (x2) a part of a batch should have at least before it goes to the second
/// thread: about a microsecond of work, several times the cost of the handoff.
const MIN_PART_FLOPS: usize = 200_000;

/// The ids of the generated functions.
pub struct AgentFunctions {
    pub predict: FuncId,
    pub predict_batch: FuncId,
}

/// The widest hidden layer (1 without hidden layers).
fn widest_hidden(layers: &[PackedLayer]) -> usize {
    layers[..layers.len().saturating_sub(1)].iter().map(|l| l.outputs).max().unwrap_or(1).max(1)
}

/// Rows per chunk of `predict_batch` for these layers.
pub fn chunk_rows(layers: &[PackedLayer]) -> usize {
    (BUFFER_FLOATS / widest_hidden(layers)).clamp(1, 256)
}

/// Floats of each of the two stack buffers: a chunk of the widest hidden layer.
fn buffer_floats(layers: &[PackedLayer]) -> usize {
    BUFFER_FLOATS.max(widest_hidden(layers))
}

/// The smallest part of a batch `kiln_par_rows` may hand to the worker: enough rows for
/// [`MIN_PART_FLOPS`], or never when the stack buffers would not fit the worker's stack
/// (512 KiB; `pool.rs`).
pub fn min_part_rows(layers: &[PackedLayer]) -> usize {
    if buffer_floats(layers) > BUFFER_FLOATS {
        return usize::MAX / 2;
    }
    let flops: usize = layers.iter().map(|l| 2 * l.inputs * l.outputs).sum();
    MIN_PART_FLOPS.div_ceil(flops.max(1)).max(1)
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
    let sig = |module: &M, params: &[types::Type], ret: Option<types::Type>| {
        let mut s = module.make_signature();
        s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        s.returns.extend(ret.map(AbiParam::new));
        s
    };
    let i32t = types::I32;
    let gemm_sig = sig(module, &[ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32t], Some(i32t));
    let gemm =
        module.declare_function("kiln_dense_gemm", Linkage::Import, &gemm_sig).map_err(err)?;
    let row_sig = sig(module, &[ptr, ptr, ptr, ptr, ptr, ptr, i32t, ptr, ptr], Some(i32t));
    let row = module.declare_function("kiln_dense_row", Linkage::Import, &row_sig).map_err(err)?;
    let mut row2_params = vec![ptr, ptr, ptr, ptr, ptr, ptr, i32t, ptr, ptr, ptr, ptr, i32t];
    row2_params.extend([ptr, ptr]);
    let row2_sig = sig(module, &row2_params, Some(i32t));
    let row2 =
        module.declare_function("kiln_dense_row2", Linkage::Import, &row2_sig).map_err(err)?;
    let par_sig = sig(module, &[ptr; 7], None);
    let par = module.declare_function("kiln_par_rows", Linkage::Import, &par_sig).map_err(err)?;

    let batch_sig = sig(module, &[ptr; 3], None);
    let rows_id = module
        .declare_function(&format!("{prefix}__rows"), Linkage::Local, &batch_sig)
        .map_err(err)?;
    let batch_id = module
        .declare_function(&format!("{prefix}_predict_batch"), linkage, &batch_sig)
        .map_err(err)?;
    let one_sig = sig(module, &[ptr; 2], None);
    let one_id =
        module.declare_function(&format!("{prefix}_predict"), linkage, &one_sig).map_err(err)?;

    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    let buf_bytes = u32::try_from(buffer_floats(layers) * 4)
        .map_err(|_| "a hidden layer is too wide for the stack buffers".to_string())?;
    let (n_in, n_out) = (layers[0].inputs as i64, layers[layers.len() - 1].outputs as i64);

    // <prefix>__rows: chunks of rows, one kiln_dense_gemm call per layer.
    ctx.func.signature = batch_sig.clone();
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
        let bufs = two_buffers(&mut b, buf_bytes);
        let zero = b.ins().iconst(ptr, 0);
        b.ins().jump(head, &[zero.into()]);

        b.switch_to_block(head);
        let i = b.block_params(head)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        b.ins().brif(more, body, &[], exit, &[]);

        b.switch_to_block(body);
        let left = b.ins().isub(n, i);
        let r = b.ins().iconst(ptr, chunk_rows(layers) as i64);
        let count = b.ins().umin(left, r);
        let in_off = b.ins().imul_imm_u(i, n_in * 4);
        let out_off = b.ins().imul_imm_u(i, n_out * 4);
        let x = b.ins().iadd(input, in_off);
        let y = b.ins().iadd(output, out_off);
        let gemm_ref = module.declare_func_in_func(gemm, b.func);
        layer_calls(module, &mut b, layers, &data, bufs, x, y, |b, l, [w, bias, cur, dst]| {
            let (k, m, act) = layer_args(b, ptr, l);
            b.ins().call(gemm_ref, &[w, bias, cur, dst, count, k, m, act]);
        });
        let next = b.ins().iadd(i, r);
        b.ins().jump(head, &[next.into()]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(rows_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);

    // <prefix>_predict: one row, kiln_dense_row per layer.
    ctx.func.signature = one_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (input, output) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let bytes = u32::try_from(widest_hidden(layers) * 4).map_err(err)?;
        let bufs = two_buffers(&mut b, bytes);
        let row_ref = module.declare_func_in_func(row, b.func);
        let row2_ref = module.declare_func_in_func(row2, b.func);
        // The layer after each one, to prefetch while waiting for the second thread.
        let mut nexts = Vec::new();
        for (l, layer) in layers.iter().enumerate().skip(1) {
            let gv = module.declare_data_in_func(data[l], b.func);
            let bytes = ((layer.weights.len() + layer.bias.len()) * 4) as i64;
            nexts.push((b.ins().symbol_value(ptr, gv), b.ins().iconst(ptr, bytes)));
        }
        let null = b.ins().iconst(ptr, 0);
        // The first two layers go together (kiln_dense_row2: the second thread goes on from
        // its part of the first layer into the second); the rest one call each.
        let mut at = 0;
        let mut first: Option<[Value; 7]> = None;
        let call = |b: &mut FunctionBuilder, l: &PackedLayer, [w, bias, cur, dst]: [Value; 4]| {
            let idx = at;
            at += 1;
            let (k, m, act) = layer_args(b, ptr, l);
            // The layer after this call's last one.
            let (next, bytes) = nexts.get(idx).copied().unwrap_or((null, null));
            if idx == 0 && layers.len() >= 2 {
                first = Some([w, bias, cur, dst, k, m, act]);
            } else if let Some([w1, b1, x1, y1, k1, m1, act1]) = first.take() {
                let args = [w1, b1, x1, y1, k1, m1, act1, w, bias, dst, m, act, next, bytes];
                b.ins().call(row2_ref, &args);
            } else {
                b.ins().call(row_ref, &[w, bias, cur, dst, k, m, act, next, bytes]);
            }
        };
        layer_calls(module, &mut b, layers, &data, bufs, input, output, call);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(one_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);

    // <prefix>_predict_batch: one row as predict, more through kiln_par_rows.
    ctx.func.signature = batch_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let entry = b.create_block();
        let single = b.create_block();
        let many = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (input, output, n) =
            (b.block_params(entry)[0], b.block_params(entry)[1], b.block_params(entry)[2]);
        let is_one = b.ins().icmp_imm_u(IntCC::Equal, n, 1);
        b.ins().brif(is_one, single, &[], many, &[]);

        b.switch_to_block(single);
        let one_ref = module.declare_func_in_func(one_id, b.func);
        b.ins().call(one_ref, &[input, output]);
        b.ins().return_(&[]);

        b.switch_to_block(many);
        let rows_ref = module.declare_func_in_func(rows_id, b.func);
        let f = b.ins().func_addr(ptr, rows_ref);
        let k = b.ins().iconst(ptr, n_in);
        let m = b.ins().iconst(ptr, n_out);
        let min = b.ins().iconst(ptr, min_part_rows(layers) as i64);
        let par_ref = module.declare_func_in_func(par, b.func);
        b.ins().call(par_ref, &[f, input, output, n, k, m, min]);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(batch_id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);
    Ok(AgentFunctions { predict: one_id, predict_batch: batch_id })
}

/// Two stack buffers of `bytes` each, with room to start at a 64-byte boundary
/// ([`buffer_addr`]).
fn two_buffers(b: &mut FunctionBuilder, bytes: u32) -> [StackSlot; 2] {
    let bytes = bytes + 64;
    [
        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 6)),
        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 6)),
    ]
}

/// The first 64-byte boundary in a buffer of [`two_buffers`]. The slot's own alignment is
/// only relative to the frame, whose base Cranelift keeps at 16 bytes, and a buffer that
/// straddles cache lines lets the two threads of a split layer write one line (the last
/// outputs of the calling thread's half and the first of the worker's), which then moves
/// between the cores on every call.
fn buffer_addr(b: &mut FunctionBuilder, ptr: types::Type, slot: StackSlot) -> Value {
    let at = b.ins().stack_addr(ptr, slot, 0);
    let up = b.ins().iadd_imm_u(at, 63);
    b.ins().band_imm_s(up, -64)
}

/// `k`, `m` and the activation code of a layer as values.
fn layer_args(b: &mut FunctionBuilder, ptr: types::Type, l: &PackedLayer) -> (Value, Value, Value) {
    let k = b.ins().iconst(ptr, l.inputs as i64);
    let m = b.ins().iconst(ptr, l.outputs as i64);
    let act = b.ins().iconst(types::I32, l.act as i64);
    (k, m, act)
}

/// Emits one kernel call per layer through `call(b, layer, [w, bias, src, dst])`: the
/// first reads `x`, the last writes `y`, the others alternate between the two buffers.
#[allow(clippy::too_many_arguments)]
fn layer_calls<M: Module>(
    module: &mut M,
    b: &mut FunctionBuilder,
    layers: &[PackedLayer],
    data: &[DataId],
    bufs: [StackSlot; 2],
    x: Value,
    y: Value,
    mut call: impl FnMut(&mut FunctionBuilder, &PackedLayer, [Value; 4]),
) {
    let ptr = module.target_config().pointer_type();
    let mut cur = x;
    for (l, layer) in layers.iter().enumerate() {
        let gv = module.declare_data_in_func(data[l], b.func);
        let w = b.ins().symbol_value(ptr, gv);
        let bias = b.ins().iadd_imm_u(w, (layer.weights.len() * 4) as i64);
        let dst = if l + 1 == layers.len() { y } else { buffer_addr(b, ptr, bufs[l % 2]) };
        call(b, layer, [w, bias, cur, dst]);
        cur = dst;
    }
}
