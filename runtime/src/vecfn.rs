//! `vec[N]` builtins with one exact definition, shared by the interpreter
//! (`kiln::interp::builtins` calls the plain functions) and compiled code (the C ABI
//! entry points `kiln_vec_*`), so both give bit-identical results.
//!
//! Reductions are exact: products of two f32 are exact in f64, and `dot`, `sum`, `norm`,
//! `mean` add them in f64 from the first element to the last (so they are not the SIMD
//! kernels of [`crate::kernels`], whose lane-wise f32 sums round differently);
//! `sigmoid`, `tanh` and `softmax` compute in f64 and round each result to f32;
//! `max` / `min` fold with `f32::max` / `f32::min` (a NaN yields the other operand).
//! Element-wise `+ - * /` (one IEEE operation per element) are the SIMD kernels
//! `kiln_vbin` / `kiln_vscalar`, whose results equal the scalar ones exactly.
//!
//! Entry points take `(pointer, n)` for `n` f32s (a null pointer only with `n == 0`),
//! never panic (each is wrapped in `catch_unwind`) and report bad arguments as a status.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// `sum(v)`.
pub fn sum64(xs: &[f32]) -> f64 {
    xs.iter().map(|x| f64::from(*x)).sum()
}

/// `dot(a, b)` over the common length.
pub fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b.iter()).map(|(p, q)| f64::from(*p) * f64::from(*q)).sum()
}

/// `norm(v)`: the Euclidean norm.
pub fn norm64(xs: &[f32]) -> f64 {
    xs.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt()
}

/// `mean(v)` (NaN for `vec[0]`).
pub fn mean64(xs: &[f32]) -> f64 {
    sum64(xs) / xs.len() as f64
}

/// `max(v)` (`max`) or `min(v)`: NaN for `vec[0]`.
pub fn extreme(xs: &[f32], max: bool) -> f64 {
    let pick = |p: f32, q: f32| if max { p.max(q) } else { p.min(q) };
    f64::from(xs.iter().copied().reduce(pick).unwrap_or(f32::NAN))
}

/// `argmax(v)`: the index of the first greatest non-NaN element (0 when there is none).
pub fn argmax(xs: &[f32]) -> i64 {
    let mut best: Option<(usize, f32)> = None;
    for (i, x) in xs.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|(_, b)| *x > b) {
            best = Some((i, *x));
        }
    }
    best.map_or(0, |(i, _)| i as i64)
}

/// `relu(x)`: `x` when positive or NaN, else `0.0`.
pub fn relu(x: f32) -> f32 {
    if x > 0.0 || x.is_nan() { x } else { 0.0 }
}

/// The logistic function in f64.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `softmax(v)` in f64 (shifted by the maximum), each result rounded to f32.
pub fn softmax(xs: &[f32]) -> Vec<f32> {
    let m = xs.iter().fold(f64::NEG_INFINITY, |m, x| m.max(f64::from(*x)));
    let es: Vec<f64> = xs.iter().map(|x| (f64::from(*x) - m).exp()).collect();
    let s: f64 = es.iter().sum();
    es.iter().map(|e| (e / s) as f32).collect()
}

/// An element-wise function computed in f64 and rounded to f32.
pub fn map64(xs: &[f32], g: impl Fn(f64) -> f64) -> Vec<f32> {
    xs.iter().map(|x| g(f64::from(*x)) as f32).collect()
}

/// # Safety
/// Unless `n == 0`, `p` addresses `n` readable f32s valid for `'a`.
unsafe fn floats<'a>(p: *const f32, n: u64) -> Option<&'a [f32]> {
    if n == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: per the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(p, usize::try_from(n).ok()?) })
}

/// Reductions by `op`: 0 `sum`, 1 `norm`, 2 `max`, 3 `min`, 4 `mean` (NaN for a bad
/// argument).
///
/// # Safety
/// `p` addresses `n` f32s (see [`floats`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_vec_reduce(op: u32, p: *const f32, n: u64) -> f64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded.
        let Some(xs) = (unsafe { floats(p, n) }) else { return f64::NAN };
        match op {
            0 => sum64(xs),
            1 => norm64(xs),
            2 => extreme(xs, true),
            3 => extreme(xs, false),
            4 => mean64(xs),
            _ => f64::NAN,
        }
    }))
    .unwrap_or(f64::NAN)
}

/// `dot(a, b)` of two `vec[n]`.
///
/// # Safety
/// `a` and `b` address `n` f32s each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_vec_dot(a: *const f32, b: *const f32, n: u64) -> f64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded.
        match unsafe { (floats(a, n), floats(b, n)) } {
            (Some(a), Some(b)) => dot64(a, b),
            _ => f64::NAN,
        }
    }))
    .unwrap_or(f64::NAN)
}

/// `argmax(v)`.
///
/// # Safety
/// `p` addresses `n` f32s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_vec_argmax(p: *const f32, n: u64) -> i64 {
    // SAFETY: forwarded.
    catch_unwind(AssertUnwindSafe(|| unsafe { floats(p, n) }.map_or(0, argmax))).unwrap_or(0)
}

/// Element-wise maps into `out` (`n` writable f32s, equal to or disjoint from `p`) by
/// `op`: 0 `softmax`, 1 `relu`, 2 `sigmoid`, 3 `tanh`, 4 `abs`, 5 negation. 0 ok, 1 bad
/// arguments.
///
/// # Safety
/// `p` addresses `n` f32s; `out` addresses `n` writable f32s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_vec_map(op: u32, p: *const f32, n: u64, out: *mut f32) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded.
        let Some(xs) = (unsafe { floats(p, n) }) else { return 1 };
        let r: Vec<f32> = match op {
            0 => softmax(xs),
            1 => xs.iter().map(|x| relu(*x)).collect(),
            2 => map64(xs, sigmoid),
            3 => map64(xs, f64::tanh),
            4 => xs.iter().map(|x| x.abs()).collect(),
            5 => xs.iter().map(|x| -x).collect(),
            _ => return 1,
        };
        if r.is_empty() {
            return 0;
        }
        if out.is_null() {
            return 1;
        }
        // SAFETY: `out` has room for `n == r.len()` values; `r` is a separate buffer, so
        // `out` may equal `p` (whose slice is no longer used).
        unsafe { std::ptr::copy_nonoverlapping(r.as_ptr(), out, r.len()) };
        0
    }))
    .unwrap_or(1)
}

/// `hash_embed(s, n)` into `out` ([`crate::textdef::hash_embed`]). 0 ok, 1 bad arguments.
///
/// # Safety
/// `s` addresses `len` bytes of UTF-8 (or is null with `len == 0`); `out` addresses `n`
/// writable f32s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_hash_embed(s: *const u8, len: u64, n: u64, out: *mut f32) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        let text = if s.is_null() || len == 0 {
            ""
        } else {
            // SAFETY: per the contract.
            let b = unsafe { std::slice::from_raw_parts(s, len as usize) };
            std::str::from_utf8(b).unwrap_or("")
        };
        let Ok(n) = usize::try_from(n) else { return 1 };
        let v = crate::textdef::hash_embed(text, n);
        if v.is_empty() {
            return 0;
        }
        if out.is_null() || v.len() != n {
            return 1;
        }
        // SAFETY: `out` has room for `n` values.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), out, n) };
        0
    }))
    .unwrap_or(1)
}

/// The functions of this module with their addresses, for the JIT.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_vec_reduce", kiln_vec_reduce as *const u8),
        ("kiln_vec_dot", kiln_vec_dot as *const u8),
        ("kiln_vec_argmax", kiln_vec_argmax as *const u8),
        ("kiln_vec_map", kiln_vec_map as *const u8),
        ("kiln_hash_embed", kiln_hash_embed as *const u8),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_match_the_definitions() {
        let xs = [1.5f32, -2.0, f32::NAN, 4.25, -0.0];
        let ys = [0.5f32, 3.0, 1.0, -1.0, 2.0];
        let n = xs.len() as u64;
        // SAFETY: valid arrays of `n` values; `out` has room for `n`.
        unsafe {
            assert_eq!(kiln_vec_reduce(0, xs.as_ptr(), n).to_bits(), sum64(&xs).to_bits());
            assert_eq!(kiln_vec_reduce(2, ys.as_ptr(), n), 3.0);
            assert_eq!(kiln_vec_reduce(3, xs.as_ptr(), n), -2.0);
            assert_eq!(kiln_vec_reduce(1, ys.as_ptr(), n), norm64(&ys));
            assert_eq!(kiln_vec_reduce(4, ys.as_ptr(), n), 5.5 / 5.0);
            assert_eq!(kiln_vec_dot(ys.as_ptr(), ys.as_ptr(), n), 15.25);
            assert_eq!(kiln_vec_argmax(xs.as_ptr(), n), 3);
            let mut out = [0.0f32; 5];
            assert_eq!(kiln_vec_map(1, xs.as_ptr(), n, out.as_mut_ptr()), 0);
            assert_eq!(out[..2], [1.5, 0.0]);
            assert!(out[2].is_nan());
            assert_eq!(kiln_vec_map(0, ys.as_ptr(), n, out.as_mut_ptr()), 0);
            assert_eq!(out.to_vec(), softmax(&ys));
            assert_eq!(kiln_vec_map(2, ys.as_ptr(), n, out.as_mut_ptr()), 0);
            assert_eq!(out.to_vec(), map64(&ys, sigmoid));
            // In place.
            let mut zs = ys;
            assert_eq!(kiln_vec_map(5, zs.as_ptr(), n, zs.as_mut_ptr()), 0);
            assert_eq!(zs, [-0.5, -3.0, -1.0, 1.0, -2.0]);
            // Empty and bad arguments.
            assert!(kiln_vec_reduce(2, std::ptr::null(), 0).is_nan());
            assert_eq!(kiln_vec_argmax(std::ptr::null(), 0), 0);
            assert_eq!(kiln_vec_map(9, ys.as_ptr(), n, out.as_mut_ptr()), 1);
            assert_eq!(kiln_vec_map(1, std::ptr::null(), 3, out.as_mut_ptr()), 1);
            let s = "a b a";
            let mut e = [0.0f32; 8];
            assert_eq!(kiln_hash_embed(s.as_ptr(), 5, 8, e.as_mut_ptr()), 0);
            assert_eq!(e.to_vec(), crate::textdef::hash_embed(s, 8));
            assert_eq!(kiln_hash_embed(std::ptr::null(), 0, 0, std::ptr::null_mut()), 0);
        }
    }
}
