//! Plan arguments computed when a run starts: a source's or sink's path, a `range`'s
//! bounds, the count of `take` / `skip` / `batch`, `sort_by`'s `desc:`. The compiler folds
//! those it can; the others (they read params) are compiled functions, run here once with
//! the run's parameter block, so one compiled program runs with any param values.

use super::abi::{ProjFn, RowCtx};
use super::plan::ParamBlock;
use crate::arena::Arena;
use crate::layout::{KStr, TypeDesc};

/// A plan argument's value.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ArgValue {
    Int(i64),
    Bool(bool),
    Str(String),
    /// A param's default of type `float`.
    Float(f64),
    /// A param's default of an optional type, `null`.
    Null,
}

/// How an argument failed: the failure site compiled code reported, and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgFailure {
    pub site: u32,
    pub message: String,
}

/// Runs `f`, a projection that reads no row, once with `params`, writing its result into
/// `out` and allocating in `arena`; `Err` is the failure it reported.
///
/// # Safety
/// `f` must be a function compiled with the [`ProjFn`] ABI that reads nothing from its row
/// argument and writes at most `out.len() * 8` bytes at its `out` argument.
pub(crate) unsafe fn run_unit(
    f: ProjFn,
    params: &ParamBlock,
    arena: &mut Arena,
    out: &mut [u64],
) -> Result<(), ArgFailure> {
    let mut emitted: Vec<*const u8> = Vec::new();
    let mut ctx = RowCtx {
        arena,
        out: &mut emitted,
        err_site: 0,
        err_msg: KStr { ptr: std::ptr::null(), len: 0 },
        fails: std::ptr::null_mut(),
        err_op: 0,
        params: params.as_ptr(),
    };
    // A row of no fields: the function never reads it.
    let row = [0u64; 1];
    // SAFETY: the caller promises `f`'s ABI and the size of what it writes; `out` is
    // 8-aligned and `ctx` outlives the call.
    let failed = unsafe { f(&mut ctx, row.as_ptr().cast(), out.as_mut_ptr().cast()) } != 0;
    if !failed {
        return Ok(());
    }
    let message = if ctx.err_msg.ptr.is_null() {
        String::new()
    } else {
        // SAFETY: `kiln_fail` copies the message into the arena, alive as long as it.
        let bytes =
            unsafe { std::slice::from_raw_parts(ctx.err_msg.ptr, ctx.err_msg.len as usize) };
        String::from_utf8_lossy(bytes).into_owned()
    };
    Err(ArgFailure { site: ctx.err_site, message })
}

/// Runs `f`, a projection that writes `{v: T}` (`ty` is `T`: `int`, `bool` or `str`) and
/// reads no row, with the params of `params`.
///
/// # Safety
/// `f` must be a function compiled with the [`ProjFn`] ABI that writes a record whose
/// first field has type `ty` and reads nothing from its row argument.
pub unsafe fn eval_arg(
    f: ProjFn,
    ty: &TypeDesc,
    params: &ParamBlock,
) -> Result<ArgValue, ArgFailure> {
    let mut arena = Arena::new();
    let mut out = [0u64; 3];
    // SAFETY: the caller's promise; `out` (24 bytes) holds any of the result types.
    unsafe { run_unit(f, params, &mut arena, &mut out) }?;
    let at = out.as_ptr().cast::<u8>();
    // SAFETY: `f` wrote a value of type `ty` at offset 0 of `out`; a string's bytes live
    // in the arena (or are static), alive until the end of this function.
    Ok(unsafe { read_value(at, ty) })
}

/// The scalar (or optional scalar) of type `ty` at `at`.
///
/// # Safety
/// `at` must hold a value of type `ty` in the runtime's layout, its string bytes alive.
unsafe fn read_value(at: *const u8, ty: &TypeDesc) -> ArgValue {
    // SAFETY: the caller's promise.
    unsafe {
        match ty {
            TypeDesc::Bool => ArgValue::Bool(at.read() != 0),
            TypeDesc::Float => ArgValue::Float(at.cast::<f64>().read_unaligned()),
            TypeDesc::Optional(inner) => {
                if at.read() == 0 {
                    ArgValue::Null
                } else {
                    read_value(at.add(ty.optional_payload_offset()), inner)
                }
            }
            TypeDesc::Str => {
                let s = at.cast::<KStr>().read_unaligned();
                let bytes = if s.ptr.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(s.ptr, s.len as usize)
                };
                ArgValue::Str(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => ArgValue::Int(at.cast::<i64>().read_unaligned()),
        }
    }
}

/// Where a source or sink path points: `-` and absolute paths as they are; a relative path
/// written in the pipeline (`written_in_source`: a literal, a constant, params left at
/// their defaults) against `dir`, the declaring file's folder, like `use`, `agent` and
/// `prompt` paths; a value given with `--param` or the environment as typed in the shell
/// (relative to the current folder).
pub fn data_path(value: &str, dir: &str, written_in_source: bool) -> String {
    let path = std::path::Path::new(value);
    if value == "-" || path.is_absolute() || !written_in_source || dir.is_empty() {
        return value.to_string();
    }
    std::path::Path::new(dir).join(path).display().to_string()
}
