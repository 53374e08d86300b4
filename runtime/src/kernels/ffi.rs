//! `extern "C"` entry points of one kernel level. Their symbols carry the level as a suffix
//! (`kiln_dense_v3`); [`super::dispatch`] exports the plain names. Nothing here panics on
//! bad arguments: null pointers, zero sizes and unknown codes return an error value.

use super::elementwise::BinOp;
use super::partial::{load_n, store_n};
use super::{Act, argmax, dot, elementwise, gemm, gemv, norm, softmax};
use super::{activations, pack};

#[cfg(kiln_level = "v1")]
macro_rules! lv {
    ($base:literal) => {
        concat!($base, "_v1")
    };
}
#[cfg(kiln_level = "v3")]
macro_rules! lv {
    ($base:literal) => {
        concat!($base, "_v3")
    };
}
#[cfg(kiln_level = "v4")]
macro_rules! lv {
    ($base:literal) => {
        concat!($base, "_v4")
    };
}

/// A slice from a C pointer, or `None` when the pointer is null or misaligned.
///
/// # Safety
/// When `p` is non-null and aligned it must point to `n` readable `f32` values that stay
/// valid and unmodified for `'a`.
unsafe fn rd<'a>(p: *const f32, n: usize) -> Option<&'a [f32]> {
    if n == 0 {
        return Some(&[]);
    }
    if p.is_null() || !p.is_aligned() || n > isize::MAX as usize / 4 {
        return None;
    }
    // SAFETY: non-null, aligned, and the caller promises n readable values.
    Some(unsafe { core::slice::from_raw_parts(p, n) })
}

/// Mutable form of [`rd`].
///
/// # Safety
/// As [`rd`], writable, and not aliased by any other slice in use.
unsafe fn wr<'a>(p: *mut f32, n: usize) -> Option<&'a mut [f32]> {
    if n == 0 {
        return Some(&mut []);
    }
    if p.is_null() || !p.is_aligned() || n > isize::MAX as usize / 4 {
        return None;
    }
    // SAFETY: non-null, aligned, and the caller promises n writable, unaliased values.
    Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
}

/// `y = act(W x + b)` for `n` rows of `k` inputs into `n` rows of `m` outputs, with `w` and
/// `bias` packed by `pack`. Returns 0, or -1 on a null pointer, a zero size or a bad `act`.
///
/// # Safety
/// `w` holds `ceil(m/32)*32*k` values, `bias` `ceil(m/32)*32`, `x` `n*k`, `y` `n*m`; `y`
/// overlaps none of the others.
#[unsafe(export_name = lv!("kiln_dense"))]
pub unsafe extern "C" fn dense(
    w: *const f32,
    bias: *const f32,
    x: *const f32,
    y: *mut f32,
    n: usize,
    k: usize,
    m: usize,
    act: u32,
) -> i32 {
    // SAFETY: forwarded (the caller's contract is `checked`'s).
    unsafe { checked(w, bias, x, y, n, k, m, act, gemv::dense) }
}

/// The shared checks of [`dense`] and [`dense_gemm`]: slices from the pointers (null
/// rejected), the activation decoded, then `f` on them. 0, or -1 as [`dense`] says.
///
/// # Safety
/// As [`dense`].
#[allow(clippy::too_many_arguments)]
unsafe fn checked(
    w: *const f32,
    bias: *const f32,
    x: *const f32,
    y: *mut f32,
    n: usize,
    k: usize,
    m: usize,
    act: u32,
    f: fn(&[f32], &[f32], &[f32], &mut [f32], usize, usize, usize, Act) -> bool,
) -> i32 {
    let (Some(act), Some(nk), Some(nm)) = (Act::from_code(act), n.checked_mul(k), n.checked_mul(m))
    else {
        return -1;
    };
    // SAFETY: the caller guarantees the lengths above; rd/wr reject null pointers.
    let parts = unsafe {
        (rd(w, pack::packed_len(k, m)), rd(bias, pack::bias_len(m)), rd(x, nk), wr(y, nm))
    };
    let (Some(w), Some(b), Some(x), Some(y)) = parts else {
        return -1;
    };
    if n == 0 {
        return 0;
    }
    if f(w, b, x, y, n, k, m, act) { 0 } else { -1 }
}

/// [`dense`], but always the GEMM micro-kernel, even for one row: `predict_batch` uses it
/// so that a row's bits never depend on how a batch is cut into chunks or split between
/// threads (GEMV sums in a different order). Same contract as [`dense`].
///
/// # Safety
/// As [`dense`].
#[unsafe(export_name = lv!("kiln_dense_gemm"))]
pub unsafe extern "C" fn dense_gemm(
    w: *const f32,
    bias: *const f32,
    x: *const f32,
    y: *mut f32,
    n: usize,
    k: usize,
    m: usize,
    act: u32,
) -> i32 {
    // SAFETY: forwarded (the caller's contract is `checked`'s).
    unsafe { checked(w, bias, x, y, n, k, m, act, gemm::gemm) }
}

/// Output panels `p0..p1` of one row through a dense layer (see `gemv::gemv_panels`): only
/// the columns `p0*32 .. min(p1*32, m)` of `y` are written, so two threads may fill
/// disjoint panel ranges of one row. A softmax wider than 32 outputs is left to the caller.
/// Returns 0, or -1 on a null pointer, a bad range or a bad `act`.
///
/// # Safety
/// `w`, `bias` and `x` as in [`dense`] with `n = 1`; `y` holds `m` values, and no other
/// thread touches its columns `p0*32 .. min(p1*32, m)` during the call.
#[unsafe(export_name = lv!("kiln_gemv_panels"))]
pub unsafe extern "C" fn gemv_panels(
    w: *const f32,
    bias: *const f32,
    x: *const f32,
    y: *mut f32,
    k: usize,
    m: usize,
    p0: usize,
    p1: usize,
    act: u32,
) -> i32 {
    let Some(act) = Act::from_code(act) else {
        return -1;
    };
    if p0 >= p1 || p1 > pack::panels(m) || y.is_null() {
        return -1;
    }
    let c0 = p0 * super::NR;
    let cols = (p1 * super::NR).min(m) - c0;
    // SAFETY: the caller guarantees the lengths of w, bias, x, and m values behind y, of
    // which [c0, c0 + cols) is in range (p1 <= panels(m)) and used by this call alone.
    let parts = unsafe {
        (
            rd(w, pack::packed_len(k, m)),
            rd(bias, pack::bias_len(m)),
            rd(x, k),
            wr(y.wrapping_add(c0), cols),
        )
    };
    let (Some(w), Some(b), Some(x), Some(y)) = parts else {
        return -1;
    };
    if gemv::gemv_panels(w, b, x, y, k, m, p0, p1, act) { 0 } else { -1 }
}

/// One thread's part of a row through a dense layer (see `gemv::gemv_sums`): the raw sums
/// of every output panel over the inputs `k0..k1`, which `x` holds (`x[0]` is input `k0`),
/// into `out`. Returns 0, or -1 on a null pointer or a bad range.
///
/// # Safety
/// `w` as in [`dense`]; `x` holds `k1 - k0` values; `out` holds `ceil(m/32)*32` values that
/// no other thread touches during the call.
#[unsafe(export_name = lv!("kiln_gemv_sums"))]
pub unsafe extern "C" fn gemv_sums(
    w: *const f32,
    x: *const f32,
    k: usize,
    m: usize,
    k0: usize,
    k1: usize,
    out: *mut f32,
) -> i32 {
    if k0 > k1 || k1 > k {
        return -1;
    }
    // SAFETY: the caller guarantees the lengths; rd/wr reject null pointers.
    let parts =
        unsafe { (rd(w, pack::packed_len(k, m)), rd(x, k1 - k0), wr(out, pack::bias_len(m))) };
    let (Some(w), Some(x), Some(out)) = parts else {
        return -1;
    };
    if gemv::gemv_sums(w, x, k, m, k0, out) { 0 } else { -1 }
}

/// Finishes a row from the two parts of [`gemv_sums`] (see `gemv::gemv_finish`):
/// `y = act(a + b + bias)`, softmax included. Returns 0, or -1 on a null pointer or a bad
/// `act`.
///
/// # Safety
/// `a`, `b` and `bias` hold `ceil(m/32)*32` values each, `y` holds `m` values and
/// overlaps none of them.
#[unsafe(export_name = lv!("kiln_gemv_finish"))]
pub unsafe extern "C" fn gemv_finish(
    a: *const f32,
    b: *const f32,
    bias: *const f32,
    y: *mut f32,
    m: usize,
    act: u32,
) -> i32 {
    let Some(act) = Act::from_code(act) else {
        return -1;
    };
    let n = pack::bias_len(m);
    // SAFETY: the caller guarantees the lengths; rd/wr reject null pointers.
    let parts = unsafe { (rd(a, n), rd(b, n), rd(bias, n), wr(y, m)) };
    let (Some(a), Some(b), Some(bias), Some(y)) = parts else {
        return -1;
    };
    if gemv::gemv_finish(a, b, bias, y, m, act) { 0 } else { -1 }
}

/// `sum(a[i] * b[i])`; NaN on a null pointer.
///
/// # Safety
/// `a` and `b` hold `n` values each.
#[unsafe(export_name = lv!("kiln_dot"))]
pub unsafe extern "C" fn kdot(a: *const f32, b: *const f32, n: usize) -> f32 {
    // SAFETY: the caller guarantees n readable values behind each pointer.
    match unsafe { (rd(a, n), rd(b, n)) } {
        (Some(a), Some(b)) => dot::dot(a, b),
        _ => f32::NAN,
    }
}

/// A reduction of `x`: 0 = sum, 1 = Euclidean norm, 2 = max. NaN on bad arguments.
///
/// # Safety
/// `x` holds `n` values.
#[unsafe(export_name = lv!("kiln_reduce"))]
pub unsafe extern "C" fn reduce(op: u32, x: *const f32, n: usize) -> f32 {
    // SAFETY: the caller guarantees n readable values.
    let Some(x) = (unsafe { rd(x, n) }) else {
        return f32::NAN;
    };
    match op {
        0 => norm::sum(x),
        1 => norm::norm(x),
        2 => norm::max(x),
        _ => f32::NAN,
    }
}

/// Index of the first largest value, or -1 for an empty or null input.
///
/// # Safety
/// `x` holds `n` values.
#[unsafe(export_name = lv!("kiln_argmax"))]
pub unsafe extern "C" fn kargmax(x: *const f32, n: usize) -> i64 {
    // SAFETY: the caller guarantees n readable values.
    match unsafe { rd(x, n) }.and_then(argmax::argmax) {
        Some(i) => i as i64,
        None => -1,
    }
}

/// `out[i] = a[i] op b[i]` (op: 0 add, 1 sub, 2 mul, 3 div). 0 or -1.
///
/// # Safety
/// `a`, `b` and `out` hold `n` values; `out` may equal `a` or `b` but not partly overlap.
#[unsafe(export_name = lv!("kiln_vbin"))]
pub unsafe extern "C" fn vbin(
    op: u32,
    a: *const f32,
    b: *const f32,
    out: *mut f32,
    n: usize,
) -> i32 {
    let Some(op) = BinOp::from_code(op) else {
        return -1;
    };
    if n > 0 && (a.is_null() || b.is_null() || out.is_null()) {
        return -1;
    }
    // Blocks go through local buffers, so `out` may alias `a` or `b`: no shared and mutable
    // slice of the same memory are ever alive at once.
    let (mut ta, mut tb, mut to) = ([0.0f32; 256], [0.0f32; 256], [0.0f32; 256]);
    let mut at = 0;
    while at < n {
        let len = (n - at).min(256);
        // SAFETY: the caller guarantees n values behind each pointer and [at, at+len) is in
        // range; each slice lives only for its own copy.
        let parts = unsafe { (rd(a.wrapping_add(at), len), rd(b.wrapping_add(at), len)) };
        let (Some(sa), Some(sb)) = parts else {
            return -1;
        };
        ta[..len].copy_from_slice(sa);
        tb[..len].copy_from_slice(sb);
        elementwise::binary(op, &ta[..len], &tb[..len], &mut to[..len]);
        // SAFETY: as above, for the writable output block.
        let Some(o) = (unsafe { wr(out.wrapping_add(at), len) }) else {
            return -1;
        };
        o.copy_from_slice(&to[..len]);
        at += len;
    }
    0
}

/// `out[i] = a[i] op s`, or `s op a[i]` when `scalar_first` is non-zero. 0 or -1.
///
/// # Safety
/// `a` and `out` hold `n` values and do not overlap (or are equal: handled by copying).
#[unsafe(export_name = lv!("kiln_vscalar"))]
pub unsafe extern "C" fn vscalar(
    op: u32,
    a: *const f32,
    s: f32,
    scalar_first: u32,
    out: *mut f32,
    n: usize,
) -> i32 {
    let Some(op) = BinOp::from_code(op) else {
        return -1;
    };
    if core::ptr::eq(a, out) {
        // SAFETY: the caller guarantees n writable values; only this one slice is alive.
        let Some(o) = (unsafe { wr(out, n) }) else {
            return -1;
        };
        let mut tmp = [0.0f32; 256];
        for chunk in o.chunks_mut(256) {
            let t = &mut tmp[..chunk.len()];
            t.copy_from_slice(chunk);
            elementwise::scalar(op, t, s, scalar_first != 0, chunk);
        }
        return 0;
    }
    // SAFETY: distinct buffers of n values each, as the caller guarantees.
    let (Some(a), Some(o)) = (unsafe { rd(a, n) }, unsafe { wr(out, n) }) else {
        return -1;
    };
    if elementwise::scalar(op, a, s, scalar_first != 0, o) { 0 } else { -1 }
}

/// `out = act(x)` elementwise (codes as in `Act`; 4 = softmax over the whole vector).
/// `out` may equal `x`. 0 or -1.
///
/// # Safety
/// `x` and `out` hold `n` values; equal or disjoint.
#[unsafe(export_name = lv!("kiln_vmap"))]
pub unsafe extern "C" fn vmap(act: u32, x: *const f32, out: *mut f32, n: usize) -> i32 {
    let Some(act) = Act::from_code(act) else {
        return -1;
    };
    if core::ptr::eq(x, out) {
        // SAFETY: the caller guarantees n writable values; only this one slice is alive.
        let Some(o) = (unsafe { wr(out, n) }) else {
            return -1;
        };
        if act == Act::Softmax {
            softmax::softmax_in_place(o);
        } else {
            for c in o.chunks_mut(super::LANES) {
                let n = c.len();
                store_n(super::activate(load_n(c, 0, n, 0.0), act), c, 0, n);
            }
        }
        return 0;
    }
    // SAFETY: distinct buffers of n values each, as the caller guarantees.
    let (Some(x), Some(o)) = (unsafe { rd(x, n) }, unsafe { wr(out, n) }) else {
        return -1;
    };
    let ok = if act == Act::Softmax { softmax::softmax(x, o) } else { activations::map(act, x, o) };
    if ok { 0 } else { -1 }
}
