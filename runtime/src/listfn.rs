//! List builtins for generated code (C ABI) that are easier as kernels than as inline
//! loops: `sort` of ints, floats or strings, `reverse` of any list, and the exact `sum` /
//! `mean` of ints and floats (LANGUAGE.md §1.5). Lists travel as
//! (pointer, length); results are new lists in the arena, written to `out` as a
//! [`KList`]. Each returns 0, or 1 when the arena is null or out of memory. Nothing here
//! panics (every entry point is also wrapped in `catch_unwind`).
//!
//! The order is the interpreter's (`kiln::interp::value::compare`): ints by value, floats
//! by value with NaN after every number (NaNs and `0.0` / `-0.0` equal), strings by code
//! point (UTF-8 byte order); the sort is stable, so equal elements keep their order.

use crate::arena::Arena;
use crate::fsum::FSum;
use crate::layout::{KList, KStr};
use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// `sort` element kinds.
pub const SORT_INT: u32 = 0;
pub const SORT_FLOAT: u32 = 1;
pub const SORT_STR: u32 = 2;

fn cmp_f64(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// # Safety
/// Unless null or `len == 0`, `p` addresses `len` readable bytes valid for `'a`.
unsafe fn bytes<'a>(p: *const u8, len: u64) -> &'a [u8] {
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: per the caller's contract.
    unsafe { std::slice::from_raw_parts(p, len as usize) }
}

/// Copies `n` elements of `T` from `src` into a new arena array.
///
/// # Safety
/// `src` addresses `n` readable `T`s (or `n == 0`); `arena` null or live, this thread's.
unsafe fn copy_elems<T: Copy>(
    arena: *mut Arena,
    src: *const T,
    n: u64,
) -> Option<&'static mut [T]> {
    // SAFETY: per the caller's contract.
    let a = unsafe { arena.as_mut() }?;
    let n = usize::try_from(n).ok()?;
    let size = n.checked_mul(std::mem::size_of::<T>())?;
    let p = a.alloc(size, 8).cast::<T>();
    if p.is_null() {
        return None;
    }
    if n > 0 {
        // SAFETY: `src` has `n` elements; `p` is a fresh, 8-aligned arena array of `n`.
        unsafe { std::ptr::copy_nonoverlapping(src, p, n) };
    }
    // SAFETY: `p` addresses `n` initialized `T`s that stay valid until the arena is reset
    // (after the chunk, when generated code no longer runs).
    Some(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// `sort(xs)`: `n` elements at `p` of kind `kind` ([`SORT_INT`], [`SORT_FLOAT`],
/// [`SORT_STR`]), sorted into a new list at `out`.
///
/// # Safety
/// `p` addresses `n` elements of the kind (`i64`, `f64` or `KStr` of valid strings);
/// `arena` null or live and used by this thread only; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_sort(
    arena: *mut Arena,
    p: *const u8,
    n: u64,
    kind: u32,
    out: *mut KList,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        let (ptr, len) = match kind {
            SORT_INT => {
                // SAFETY: for `SORT_INT`, `p` addresses `n` `i64`s (the caller's contract),
                // which is what `copy_elems` needs; `arena` is passed through as promised.
                let Some(v) = (unsafe { copy_elems(arena, p.cast::<i64>(), n) }) else { return 1 };
                v.sort();
                (v.as_mut_ptr().cast::<u8>(), v.len())
            }
            SORT_FLOAT => {
                // SAFETY: for `SORT_FLOAT`, `p` addresses `n` `f64`s; `arena` as above.
                let Some(v) = (unsafe { copy_elems(arena, p.cast::<f64>(), n) }) else { return 1 };
                v.sort_by(|x, y| cmp_f64(*x, *y));
                (v.as_mut_ptr().cast::<u8>(), v.len())
            }
            SORT_STR => {
                // SAFETY: for `SORT_STR`, `p` addresses `n` `KStr`s; `arena` as above.
                let Some(v) = (unsafe { copy_elems(arena, p.cast::<KStr>(), n) }) else { return 1 };
                // SAFETY: every element is a valid string.
                v.sort_by(|x, y| unsafe { bytes(x.ptr, x.len).cmp(bytes(y.ptr, y.len)) });
                (v.as_mut_ptr().cast::<u8>(), v.len())
            }
            _ => return 1,
        };
        // SAFETY: `out` is writable per the contract.
        unsafe { out.write(KList { ptr, len: len as u64 }) };
        0
    }))
    .unwrap_or(1)
}

/// `reverse(xs)`: `n` elements of `stride` bytes at `p`, reversed into a new list.
///
/// # Safety
/// `p` addresses `n * stride` readable bytes; `arena` and `out` as for [`kiln_list_sort`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_reverse(
    arena: *mut Arena,
    p: *const u8,
    n: u64,
    stride: u64,
    out: *mut KList,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        let (Ok(n), Ok(stride)) = (usize::try_from(n), usize::try_from(stride)) else { return 1 };
        let Some(size) = n.checked_mul(stride) else { return 1 };
        // SAFETY: per the contract.
        let Some(a) = (unsafe { arena.as_mut() }) else { return 1 };
        let dst = a.alloc(size, 8);
        if dst.is_null() {
            return 1;
        }
        // SAFETY: `p` has `size` readable bytes.
        let src = unsafe { bytes(p, size as u64) };
        if stride > 0 {
            for (i, chunk) in src.chunks_exact(stride).enumerate() {
                let j = n - 1 - i;
                // SAFETY: `dst` is a fresh arena block of `size` bytes; element `j` is in it.
                unsafe {
                    std::ptr::copy_nonoverlapping(chunk.as_ptr(), dst.add(j * stride), stride)
                };
            }
        }
        // SAFETY: `out` is writable per the contract.
        unsafe { out.write(KList { ptr: dst, len: n as u64 }) };
        0
    }))
    .unwrap_or(1)
}

/// `xs + ys`: `n1` then `n2` elements of `stride` bytes, copied into a new list.
///
/// # Safety
/// `p1` / `p2` address `n1 * stride` / `n2 * stride` readable bytes; `arena` and `out` as
/// for [`kiln_list_sort`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_concat(
    arena: *mut Arena,
    p1: *const u8,
    n1: u64,
    p2: *const u8,
    n2: u64,
    stride: u64,
    out: *mut KList,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        let Some(n) = n1.checked_add(n2) else { return 1 };
        let (Some(s1), Some(s2)) = (n1.checked_mul(stride), n2.checked_mul(stride)) else {
            return 1;
        };
        let (Ok(s1), Ok(s2)) = (usize::try_from(s1), usize::try_from(s2)) else { return 1 };
        // SAFETY: per the contract.
        let Some(a) = (unsafe { arena.as_mut() }) else { return 1 };
        let dst = a.alloc(s1 + s2, 8);
        if dst.is_null() {
            return 1;
        }
        // SAFETY: the sources have `s1` / `s2` readable bytes; `dst` is a fresh arena block
        // of `s1 + s2` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes(p1, s1 as u64).as_ptr(), dst, s1);
            std::ptr::copy_nonoverlapping(bytes(p2, s2 as u64).as_ptr(), dst.add(s1), s2);
            out.write(KList { ptr: dst, len: n });
        }
        0
    }))
    .unwrap_or(1)
}

/// Copies `n` bytes from `src` to `dst` (non-overlapping; nothing when `n == 0`).
///
/// # Safety
/// Unless `n == 0`, `src` addresses `n` readable and `dst` `n` writable bytes, disjoint.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_copy(dst: *mut u8, src: *const u8, n: u64) {
    if n == 0 || dst.is_null() || src.is_null() {
        return;
    }
    // SAFETY: per the contract.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, n as usize) };
}

/// `sum` of a list of `len` floats at `p`: the exact sum rounded once ([`FSum`]).
///
/// # Safety
/// `p` addresses `len` floats (or `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_fsum(p: *const f64, len: u64) -> f64 {
    // SAFETY: per the contract.
    FSum::of(unsafe { slice(p, len) }.iter().copied())
}

/// `mean` of `len > 0` floats at `p`: the correctly rounded sum divided by `len`.
///
/// # Safety
/// As for [`kiln_list_fsum`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_fmean(p: *const f64, len: u64) -> f64 {
    // SAFETY: forwarded.
    (unsafe { kiln_list_fsum(p, len) }) / len as f64
}

/// `mean` of `len > 0` ints at `p`: the exact total divided by `len`, rounded once.
///
/// # Safety
/// `p` addresses `len` ints (or `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_imean(p: *const i64, len: u64) -> f64 {
    // SAFETY: per the contract.
    let total: i128 = unsafe { slice(p, len) }.iter().map(|&x| i128::from(x)).sum();
    crate::fsum::ratio(total, len as i64)
}

/// `sum` of `len` ints at `p`, exact: writes it to `out` and returns 0, or returns 1 when
/// the total does not fit in `int` (intermediate totals may).
///
/// # Safety
/// `p` addresses `len` ints (or `len` is 0); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_isum(p: *const i64, len: u64, out: *mut i64) -> u32 {
    // SAFETY: per the contract.
    let total: i128 = unsafe { slice(p, len) }.iter().map(|&x| i128::from(x)).sum();
    match i64::try_from(total) {
        Ok(v) => {
            // SAFETY: per the contract.
            unsafe { *out = v };
            0
        }
        Err(_) => 1,
    }
}

/// # Safety
/// `p` addresses `len` values of `T` (or `len` is 0).
unsafe fn slice<'a, T>(p: *const T, len: u64) -> &'a [T] {
    if len == 0 || p.is_null() {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts(p, len as usize) }
}

/// The functions of this module with their addresses, for the JIT.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_list_sort", kiln_list_sort as *const u8),
        ("kiln_list_reverse", kiln_list_reverse as *const u8),
        ("kiln_list_concat", kiln_list_concat as *const u8),
        ("kiln_copy", kiln_copy as *const u8),
        ("kiln_list_fsum", kiln_list_fsum as *const u8),
        ("kiln_list_fmean", kiln_list_fmean as *const u8),
        ("kiln_list_imean", kiln_list_imean as *const u8),
        ("kiln_list_isum", kiln_list_isum as *const u8),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems<T: Copy>(l: KList) -> Vec<T> {
        if l.len == 0 {
            return Vec::new();
        }
        // SAFETY: the kernels return `len` elements of `T` in the arena.
        unsafe { std::slice::from_raw_parts(l.ptr.cast::<T>(), l.len as usize) }.to_vec()
    }

    fn empty() -> KList {
        KList { ptr: std::ptr::null_mut(), len: 0 }
    }

    #[test]
    fn sorts_like_the_interpreter() {
        let mut arena = Arena::new();
        let ints = [3i64, -1, i64::MIN, 3, 0];
        let mut out = empty();
        // SAFETY: live arena, valid elements, writable out.
        let st = unsafe { kiln_list_sort(&mut arena, ints.as_ptr().cast(), 5, SORT_INT, &mut out) };
        assert_eq!((st, elems::<i64>(out)), (0, vec![i64::MIN, -1, 0, 3, 3]));
        let fl = [2.0f64, f64::NAN, -0.0, 0.0, -1.5];
        // SAFETY: as above.
        let st = unsafe { kiln_list_sort(&mut arena, fl.as_ptr().cast(), 5, SORT_FLOAT, &mut out) };
        let got: Vec<u64> = elems::<f64>(out).iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> =
            [-1.5, -0.0, 0.0, 2.0, f64::NAN].iter().map(|x: &f64| x.to_bits()).collect();
        assert_eq!((st, got), (0, want));
        let words = ["b", "é", "a", "", "ab"];
        let ks: Vec<KStr> =
            words.iter().map(|w| KStr { ptr: w.as_ptr(), len: w.len() as u64 }).collect();
        // SAFETY: as above.
        let st = unsafe { kiln_list_sort(&mut arena, ks.as_ptr().cast(), 5, SORT_STR, &mut out) };
        // SAFETY: the elements are the test's strings.
        let got: Vec<&str> = elems::<KStr>(out)
            .iter()
            .map(|k| std::str::from_utf8(unsafe { bytes(k.ptr, k.len) }).unwrap())
            .collect();
        assert_eq!((st, got), (0, vec!["", "a", "ab", "b", "é"]));
        // SAFETY: an empty list may be null; a null arena is reported.
        unsafe {
            assert_eq!(kiln_list_sort(&mut arena, std::ptr::null(), 0, SORT_INT, &mut out), 0);
            assert_eq!(out.len, 0);
            assert_eq!(
                kiln_list_sort(std::ptr::null_mut(), std::ptr::null(), 0, SORT_INT, &mut out),
                1
            );
            assert_eq!(kiln_list_sort(&mut arena, std::ptr::null(), 0, 9, &mut out), 1);
        }
    }

    #[test]
    fn concatenates() {
        let mut arena = Arena::new();
        let (xs, ys) = ([1i64, 2], [3i64]);
        let mut out = empty();
        // SAFETY: live arena, valid elements, writable out.
        let st = unsafe {
            kiln_list_concat(&mut arena, xs.as_ptr().cast(), 2, ys.as_ptr().cast(), 1, 8, &mut out)
        };
        assert_eq!((st, elems::<i64>(out)), (0, vec![1, 2, 3]));
        let mut dst = [0u8; 3];
        // SAFETY: 3 bytes each way; a zero count touches nothing.
        unsafe {
            kiln_copy(dst.as_mut_ptr(), [7u8, 8, 9].as_ptr(), 3);
            kiln_copy(std::ptr::null_mut(), std::ptr::null(), 0);
        }
        assert_eq!(dst, [7, 8, 9]);
        // SAFETY: empty inputs may be null; a null arena is reported.
        unsafe {
            let null = std::ptr::null();
            assert_eq!(kiln_list_concat(&mut arena, null, 0, null, 0, 8, &mut out), 0);
            assert_eq!(out.len, 0);
            assert_eq!(kiln_list_concat(std::ptr::null_mut(), null, 0, null, 0, 8, &mut out), 1);
        }
    }

    #[test]
    fn reverses_any_stride() {
        let mut arena = Arena::new();
        let xs = [1i64, 2, 3];
        let mut out = empty();
        // SAFETY: live arena, valid elements, writable out.
        let st = unsafe { kiln_list_reverse(&mut arena, xs.as_ptr().cast(), 3, 8, &mut out) };
        assert_eq!((st, elems::<i64>(out)), (0, vec![3, 2, 1]));
        let pairs = [[1u8, 2], [3, 4]];
        // SAFETY: as above (2 elements of 2 bytes).
        let st = unsafe { kiln_list_reverse(&mut arena, pairs.as_ptr().cast(), 2, 2, &mut out) };
        assert_eq!((st, elems::<[u8; 2]>(out)), (0, vec![[3, 4], [1, 2]]));
        // SAFETY: empty input; a null arena is reported.
        unsafe {
            assert_eq!(kiln_list_reverse(&mut arena, std::ptr::null(), 0, 8, &mut out), 0);
            assert_eq!(
                kiln_list_reverse(std::ptr::null_mut(), xs.as_ptr().cast(), 3, 8, &mut out),
                1
            );
        }
    }
}
