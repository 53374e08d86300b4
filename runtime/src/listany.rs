//! List functions on elements of any type for generated code (C ABI): `sort`, `min`,
//! `max`, `contains` of lists of records, lists or optionals, and the list forms of the
//! stream operators `sort_by`, `distinct`, `enumerate`, `batch` and `range`. Types travel
//! as the address of a [`TypeDesc`] the compiled program keeps alive; lists as (pointer,
//! length) with elements inline (`stride` bytes each); results are new lists in the arena,
//! written to `out` as a [`KList`]. Elements are copied byte for byte: what they refer to
//! (strings, lists) lives in the arena already and is never changed.
//!
//! Orders and equality are the interpreter's: [`crate::exec::value::compare`] (stable
//! sorts), [`crate::valfn::equal`], and key equality for `distinct`
//! ([`crate::exec::value::key_bytes`]). Each function returns 0, or 1 when the arena is
//! null or out of memory; nothing panics into generated code.

use crate::arena::Arena;
use crate::exec::value::{compare, key_bytes};
use crate::layout::{KList, TypeDesc};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The longest list `range(a, b)` may build inside an expression.
pub const MAX_RANGE_LIST: i64 = 100_000_000;

fn guard(f: impl FnOnce() -> Option<()>) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Some(())) => 0,
        _ => 1,
    }
}

/// A new arena list of `n` elements of `stride` bytes, gathered from `src` in `order`.
///
/// # Safety
/// `src` addresses at least `max(order) + 1` elements of `stride` bytes; `arena` null or
/// live and this thread's; `out` writable.
unsafe fn gather(
    arena: *mut Arena,
    src: *const u8,
    stride: usize,
    order: &[usize],
    out: *mut KList,
) -> Option<()> {
    // SAFETY: per the contract.
    let a = unsafe { arena.as_mut() }?;
    let size = order.len().checked_mul(stride)?;
    let p = if size == 0 { std::ptr::null_mut() } else { a.alloc(size, 8) };
    if size > 0 && p.is_null() {
        return None;
    }
    for (k, &i) in order.iter().enumerate() {
        // SAFETY: `i` is an element of `src`; `p` has room for `order.len()` elements.
        unsafe { std::ptr::copy_nonoverlapping(src.add(i * stride), p.add(k * stride), stride) };
    }
    // SAFETY: per the contract.
    unsafe { out.write(KList { ptr: p, len: order.len() as u64 }) };
    Some(())
}

/// `sort(xs)` of elements of type `elem`: stable, in the interpreter's total order.
///
/// # Safety
/// `elem` addresses a live `TypeDesc`; `p` addresses `len` valid elements of it; `arena`
/// and `out` as for [`gather`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_sort_any(
    elem: *const TypeDesc,
    p: *const u8,
    len: u64,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let elem = unsafe { &*elem };
        let stride = elem.stride();
        let mut order: Vec<usize> = (0..len as usize).collect();
        // SAFETY: both indices are below `len`.
        order.sort_by(|&i, &j| unsafe { compare(elem, p.add(i * stride), p.add(j * stride)) });
        // SAFETY: forwarded.
        unsafe { gather(arena, p, stride, &order, out) }
    })
}

/// `sort_by(xs, f)`: `keys` holds `f(x)` of every element (values of `key`, inline);
/// stable, descending when `desc` is not 0 (equal keys keep their order either way).
///
/// # Safety
/// `key` addresses a live `TypeDesc`; `keys` addresses `len` values of it; `p` addresses
/// `len` elements of `stride` bytes; `arena` and `out` as for [`gather`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_sort_by(
    key: *const TypeDesc,
    keys: *const u8,
    stride: u64,
    p: *const u8,
    len: u64,
    desc: u8,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { &*key };
        let ks = key.stride();
        let mut order: Vec<usize> = (0..len as usize).collect();
        // SAFETY: both indices are below `len`.
        let cmp = |i: usize, j: usize| unsafe { compare(key, keys.add(i * ks), keys.add(j * ks)) };
        if desc != 0 {
            order.sort_by(|&i, &j| cmp(j, i));
        } else {
            order.sort_by(|&i, &j| cmp(i, j));
        }
        // SAFETY: forwarded.
        unsafe { gather(arena, p, stride as usize, &order, out) }
    })
}

/// `distinct(xs, f)`: the first element of every key (`keys` as for
/// [`kiln_list_sort_by`]), in order.
///
/// # Safety
/// As for [`kiln_list_sort_by`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_distinct(
    key: *const TypeDesc,
    keys: *const u8,
    stride: u64,
    p: *const u8,
    len: u64,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { &*key };
        let ks = key.stride();
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        for i in 0..len as usize {
            let mut b = Vec::new();
            // SAFETY: `i` is below `len`.
            unsafe { key_bytes(key, keys.add(i * ks), &mut b) };
            if seen.insert(b) {
                order.push(i);
            }
        }
        // SAFETY: forwarded.
        unsafe { gather(arena, p, stride as usize, &order, out) }
    })
}

/// `min(xs)` / `max(xs)` (`max` not 0): the index of the first smallest (largest)
/// element that is not null, or -1 when every element is null (or there is none).
///
/// # Safety
/// `elem` addresses a live `TypeDesc`; `p` addresses `len` valid elements of it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_extreme(
    elem: *const TypeDesc,
    p: *const u8,
    len: u64,
    max: u8,
) -> i64 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let elem = unsafe { &*elem };
        let stride = elem.stride();
        let want = if max != 0 { Ordering::Greater } else { Ordering::Less };
        let optional = matches!(elem, TypeDesc::Optional(_));
        let mut best: Option<usize> = None;
        for i in 0..len as usize {
            // SAFETY: `i` is below `len`.
            let x = unsafe { p.add(i * stride) };
            // SAFETY: an optional's tag is its first byte.
            if optional && unsafe { x.read() } == 0 {
                continue;
            }
            // SAFETY: both are elements of the list.
            let better =
                best.is_none_or(|b| unsafe { compare(elem, x, p.add(b * stride)) } == want);
            if better {
                best = Some(i);
            }
        }
        best.map_or(-1, |b| b as i64)
    }));
    r.unwrap_or(-1)
}

/// `contains(xs, x)`: 1 when an element equals the value at `x` (of the element type).
///
/// # Safety
/// As for [`kiln_list_extreme`]; `x` holds a valid value of `elem`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_contains(
    elem: *const TypeDesc,
    p: *const u8,
    len: u64,
    x: *const u8,
) -> u8 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let elem = unsafe { &*elem };
        let stride = elem.stride();
        // SAFETY: every index is below `len`.
        (0..len as usize).any(|i| unsafe { crate::valfn::equal(elem, p.add(i * stride), x) })
    }));
    u8::from(r.unwrap_or(false))
}

/// `enumerate(xs)`: records `{ index: int, item: T }` (`rec` their type, whose field 1 is
/// the element type, `stride` bytes inline).
///
/// # Safety
/// `rec` addresses a live record `TypeDesc` of two fields, an `int` then the element type;
/// `p` addresses `len` elements; `arena` and `out` as for [`gather`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_enumerate(
    rec: *const TypeDesc,
    p: *const u8,
    len: u64,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let (rec, a) = unsafe { (&*rec, arena.as_mut()?) };
        let TypeDesc::Record(fields) = rec else { return None };
        let item = &fields.get(1)?.1;
        let offs = rec.field_offsets();
        let (rs, is) = (rec.stride(), item.size());
        let n = len as usize;
        let size = n.checked_mul(rs)?;
        let q = if size == 0 { std::ptr::null_mut() } else { a.alloc(size, 8) };
        if size > 0 && q.is_null() {
            return None;
        }
        for i in 0..n {
            // SAFETY: `q` has room for `n` records of `rs` bytes, zeroed by the arena is
            // not assumed: every byte of a field is written; element `i` of `p` has `is`
            // bytes.
            unsafe {
                let r = q.add(i * rs);
                std::ptr::write_bytes(r, 0, rs);
                r.add(offs[0]).cast::<i64>().write_unaligned(i as i64);
                std::ptr::copy_nonoverlapping(p.add(i * item.stride()), r.add(offs[1]), is);
            }
        }
        // SAFETY: per the contract.
        unsafe { out.write(KList { ptr: q, len }) };
        Some(())
    })
}

/// `batch(xs, n)` (`n >= 1`, checked by the caller): lists of `n` elements (the last may
/// be shorter), each a slice of `xs` (no copy).
///
/// # Safety
/// `p` addresses `len` elements of `stride` bytes; `arena` and `out` as for [`gather`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_batch(
    stride: u64,
    p: *const u8,
    len: u64,
    n: i64,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let a = unsafe { arena.as_mut() }?;
        let n = u64::try_from(n).ok().filter(|&n| n > 0)?;
        let count = len.div_ceil(n) as usize;
        let size = count.checked_mul(16)?;
        let q = if size == 0 { std::ptr::null_mut() } else { a.alloc(size, 8) };
        if size > 0 && q.is_null() {
            return None;
        }
        for k in 0..count {
            let from = k as u64 * n;
            let piece = KList {
                // SAFETY: `from < len`, inside the list.
                ptr: unsafe { p.add((from * stride) as usize) }.cast_mut(),
                len: n.min(len - from),
            };
            // SAFETY: `q` has room for `count` lists.
            unsafe { q.cast::<KList>().add(k).write_unaligned(piece) };
        }
        // SAFETY: per the contract.
        unsafe { out.write(KList { ptr: q, len: count as u64 }) };
        Some(())
    })
}

/// `range(lo, hi)` as a list (at most [`MAX_RANGE_LIST`] elements, checked by the caller).
///
/// # Safety
/// `arena` and `out` as for [`gather`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_range(
    lo: i64,
    hi: i64,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let a = unsafe { arena.as_mut() }?;
        let n = hi.saturating_sub(lo).clamp(0, MAX_RANGE_LIST) as usize;
        let q = if n == 0 { std::ptr::null_mut() } else { a.alloc(n * 8, 8) };
        if n > 0 && q.is_null() {
            return None;
        }
        for i in 0..n {
            // SAFETY: `q` has room for `n` ints; `lo + i < hi` fits.
            unsafe { q.cast::<i64>().add(i).write_unaligned(lo + i as i64) };
        }
        // SAFETY: per the contract.
        unsafe { out.write(KList { ptr: q, len: n as u64 }) };
        Some(())
    })
}

/// The C ABI functions with their addresses, for `JITBuilder::symbol`.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_list_sort_any", kiln_list_sort_any as *const u8),
        ("kiln_list_sort_by", kiln_list_sort_by as *const u8),
        ("kiln_list_distinct", kiln_list_distinct as *const u8),
        ("kiln_list_extreme", kiln_list_extreme as *const u8),
        ("kiln_list_contains", kiln_list_contains as *const u8),
        ("kiln_list_enumerate", kiln_list_enumerate as *const u8),
        ("kiln_list_batch", kiln_list_batch as *const u8),
        ("kiln_list_range", kiln_list_range as *const u8),
    ]
}
