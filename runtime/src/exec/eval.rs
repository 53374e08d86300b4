//! One expression evaluated by compiled code, for `kiln repl`: the compiler compiles the
//! expression into a projection (`ProjFn`) that reads no row and writes `{v: T}`; this
//! runs it once with a parameter block and encodes the value as the JSON text a `stdout()`
//! sink writes (strings as JSON strings, records and lists as compact JSON).

use super::abi::ProjFn;
use super::arg::ArgFailure;
use super::plan::ParamBlock;
use crate::arena::Arena;
use crate::io::write::JsonEncoder;
use crate::layout::TypeDesc;

/// Runs `f` with `params` and returns the JSON text of the value it wrote (field `v` of
/// the record type `out`), or the failure it reported.
///
/// # Safety
/// `f` must be a function compiled with the [`ProjFn`] ABI that reads nothing from its row
/// argument and writes a value of the record type `out` (whose one field is `v`) at its
/// `out` argument.
pub unsafe fn eval_json(
    f: ProjFn,
    out: &TypeDesc,
    params: &ParamBlock,
) -> Result<Vec<u8>, ArgFailure> {
    let TypeDesc::Record(fields) = out else {
        return Err(ArgFailure { site: u32::MAX, message: "not a record".into() });
    };
    let Some((_, ty)) = fields.first() else {
        return Err(ArgFailure { site: u32::MAX, message: "an empty record".into() });
    };
    let mut arena = Arena::new();
    let mut buf = vec![0u64; out.size().div_ceil(8).max(1)];
    // SAFETY: the caller promises `f`'s ABI and that it writes a value of type `out`,
    // which `buf` covers.
    unsafe { super::arg::run_unit(f, params, &mut arena, &mut buf) }?;
    let mut text = Vec::new();
    // SAFETY: `f` wrote a value of type `out` at `buf`, and field `v` (type `ty`) is at
    // offset 0; what it points to lives in the arena (or is static), alive until the end
    // of this function.
    unsafe { JsonEncoder::new(ty).encode(buf.as_ptr().cast(), &mut text) };
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::RowCtx;

    /// Writes `{v: 42}`.
    unsafe extern "C" fn answer(_: *mut RowCtx, _: *const u8, out: *mut u8) -> u32 {
        // SAFETY: `eval_json` passes a buffer covering the record `{v: int}`.
        unsafe { out.cast::<i64>().write(42) };
        0
    }

    /// Fails at site 7 without a message.
    unsafe extern "C" fn fails(ctx: *mut RowCtx, _: *const u8, _: *mut u8) -> u32 {
        // SAFETY: `eval_json` passes a live context.
        unsafe { (*ctx).err_site = 7 };
        1
    }

    fn int_record() -> TypeDesc {
        TypeDesc::Record(vec![("v".to_string(), TypeDesc::Int)])
    }

    #[test]
    fn runs_a_projection_and_writes_its_value_as_json() {
        let block = ParamBlock::new(&[], &[]).unwrap();
        // SAFETY: `answer` writes `{v: int}` and reads no row.
        let r = unsafe { eval_json(answer, &int_record(), &block) };
        assert_eq!(r, Ok(b"42".to_vec()));
        // SAFETY: as above, for `fails` (which writes nothing).
        let r = unsafe { eval_json(fails, &int_record(), &block) };
        assert_eq!(r, Err(ArgFailure { site: 7, message: String::new() }));
    }
}
