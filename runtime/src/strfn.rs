//! Text builtins of LANGUAGE.md §1.7 for generated code (C ABI): `trim`, `contains`,
//! `starts_with`, `ends_with`, `replace`, `split`, `join`, `substr` / `truncate`,
//! `tokens`, `reverse`, `parse_int`, `parse_float` and `str` of numbers.
//!
//! Strings travel as (pointer, byte length) of valid UTF-8 (a null pointer or a zero
//! length is the empty string). Results are written to an out pointer; a result that
//! is a piece of an argument (`trim`, `substr`, the parts of `split`) points into it, so
//! it lives as long as the argument does (both are valid until the chunk is finished).
//! Functions that allocate return a status: 0, or 1 when the arena is null or out of
//! memory (generated code then lets the interpreter report the failure). Nothing here
//! panics: indexing is checked and every entry point is wrapped in `catch_unwind`.
//! The semantics are those of the interpreter (`kiln::interp::builtins`), which uses the
//! same standard-library functions and [`crate::textdef`].

use crate::arena::Arena;
use crate::layout::{KList, KStr};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// # Safety
/// Unless null or `len == 0`, `p` addresses `len` readable bytes valid for `'a`.
unsafe fn text<'a>(p: *const u8, len: u64) -> &'a str {
    if p.is_null() || len == 0 {
        return "";
    }
    // SAFETY: per the caller's contract.
    let b = unsafe { std::slice::from_raw_parts(p, len as usize) };
    // Strings are valid UTF-8 by the layout's contract; checking keeps this safe anyway.
    std::str::from_utf8(b).unwrap_or("")
}

/// Runs `f`, turning a panic (which cannot happen by construction) into status 1.
fn guard(f: impl FnOnce() -> u32) -> u32 {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(1)
}

/// A piece of a string argument, written as is (no copy).
///
/// # Safety
/// `out` is writable.
unsafe fn slice_out(s: &str, out: *mut KStr) {
    // SAFETY: per the caller's contract.
    unsafe { out.write(KStr { ptr: s.as_ptr(), len: s.len() as u64 }) };
}

/// Copies `s` into the arena and writes it to `out`; 1 when that fails.
///
/// # Safety
/// `arena` is null or a live arena used by this thread only; `out` is writable.
unsafe fn copy_out(arena: *mut Arena, s: &str, out: *mut KStr) -> u32 {
    if s.is_empty() {
        // SAFETY: per the caller's contract.
        unsafe { out.write(KStr { ptr: std::ptr::null(), len: 0 }) };
        return 0;
    }
    // SAFETY: per the caller's contract.
    let Some(a) = (unsafe { arena.as_mut() }) else { return 1 };
    let p = a.alloc_copy(s.as_bytes());
    if p.is_null() {
        return 1;
    }
    // SAFETY: per the caller's contract.
    unsafe { out.write(KStr { ptr: p, len: s.len() as u64 }) };
    0
}

/// Writes the strings `parts` as a list of `KStr` (elements allocated in the arena; the
/// parts themselves must already live long enough).
///
/// # Safety
/// As for [`copy_out`], with `out` a writable `KList`.
unsafe fn list_out(arena: *mut Arena, parts: &[KStr], out: *mut KList) -> u32 {
    // SAFETY: per the caller's contract.
    let Some(a) = (unsafe { arena.as_mut() }) else { return 1 };
    let size = std::mem::size_of_val(parts);
    let p = a.alloc(size, 8);
    if p.is_null() {
        return 1;
    }
    if size > 0 {
        // SAFETY: `p` is `size` fresh, 8-aligned bytes of the arena; `KStr` is 16 bytes
        // with alignment 8, so `parts.len()` of them fit.
        unsafe { std::ptr::copy_nonoverlapping(parts.as_ptr(), p.cast::<KStr>(), parts.len()) };
    }
    // SAFETY: per the caller's contract.
    unsafe { out.write(KList { ptr: p, len: parts.len() as u64 }) };
    0
}

fn kstr(s: &str) -> KStr {
    KStr { ptr: s.as_ptr(), len: s.len() as u64 }
}

/// `trim(s)`: without leading and trailing Unicode white space.
///
/// # Safety
/// `p` addresses `len` bytes (see [`text`]); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_trim(p: *const u8, len: u64, out: *mut KStr) {
    // SAFETY: forwarded.
    unsafe { slice_out(text(p, len).trim(), out) }
}

/// `substr(s, start, n)`: `n` chars from char index `start`, clipped to the string
/// (negative values count as 0). `truncate(s, n)` is `substr(s, 0, n)`.
///
/// # Safety
/// As for [`kiln_str_trim`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_substr(
    p: *const u8,
    len: u64,
    start: i64,
    n: i64,
    out: *mut KStr,
) {
    // SAFETY: forwarded.
    let s = unsafe { text(p, len) };
    let start = usize::try_from(start.max(0)).unwrap_or(usize::MAX);
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    let from = s.char_indices().nth(start).map_or(s.len(), |(i, _)| i);
    let rest = s.get(from..).unwrap_or("");
    let to = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
    // SAFETY: forwarded.
    unsafe { slice_out(rest.get(..to).unwrap_or(""), out) }
}

/// `contains(s, part)` (0 or 1).
///
/// # Safety
/// Both strings as for [`kiln_str_trim`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_contains(
    a: *const u8,
    alen: u64,
    b: *const u8,
    blen: u64,
) -> u32 {
    // SAFETY: forwarded.
    let (a, b) = unsafe { (text(a, alen), text(b, blen)) };
    u32::from(a.contains(b))
}

/// `starts_with(s, prefix)` (0 or 1).
///
/// # Safety
/// As for [`kiln_str_contains`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_starts_with(
    a: *const u8,
    alen: u64,
    b: *const u8,
    blen: u64,
) -> u32 {
    // SAFETY: forwarded.
    let (a, b) = unsafe { (text(a, alen), text(b, blen)) };
    u32::from(a.starts_with(b))
}

/// `ends_with(s, suffix)` (0 or 1).
///
/// # Safety
/// As for [`kiln_str_contains`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_ends_with(
    a: *const u8,
    alen: u64,
    b: *const u8,
    blen: u64,
) -> u32 {
    // SAFETY: forwarded.
    let (a, b) = unsafe { (text(a, alen), text(b, blen)) };
    u32::from(a.ends_with(b))
}

/// `replace(s, from, to)`: every non-overlapping `from`, left to right, replaced (an empty
/// `from` inserts `to` before every char and at the end, as `str::replace` does).
///
/// # Safety
/// Strings as for [`kiln_str_trim`]; `arena` null or live and used by this thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_replace(
    arena: *mut Arena,
    s: *const u8,
    slen: u64,
    from: *const u8,
    flen: u64,
    to: *const u8,
    tlen: u64,
    out: *mut KStr,
) -> u32 {
    guard(|| {
        // SAFETY: forwarded.
        let (s, from, to) = unsafe { (text(s, slen), text(from, flen), text(to, tlen)) };
        if !from.is_empty() && !s.contains(from) {
            // SAFETY: forwarded.
            unsafe { slice_out(s, out) };
            return 0;
        }
        // SAFETY: forwarded.
        unsafe { copy_out(arena, &s.replace(from, to), out) }
    })
}

/// `reverse(s)`: the chars in reverse order.
///
/// # Safety
/// As for [`kiln_str_replace`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_reverse(
    arena: *mut Arena,
    p: *const u8,
    len: u64,
    out: *mut KStr,
) -> u32 {
    guard(|| {
        // SAFETY: forwarded.
        let s = unsafe { text(p, len) };
        // SAFETY: forwarded.
        unsafe { copy_out(arena, &s.chars().rev().collect::<String>(), out) }
    })
}

/// `split(s, sep)`: the pieces between occurrences of `sep`; an empty `sep` splits into
/// chars. The pieces point into `s`; the list is allocated in the arena.
///
/// # Safety
/// As for [`kiln_str_replace`], with `out` a writable `KList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_split(
    arena: *mut Arena,
    s: *const u8,
    slen: u64,
    sep: *const u8,
    seplen: u64,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: forwarded.
        let (s, sep) = unsafe { (text(s, slen), text(sep, seplen)) };
        let parts: Vec<KStr> = if sep.is_empty() {
            s.char_indices().map(|(i, c)| kstr(s.get(i..i + c.len_utf8()).unwrap_or(""))).collect()
        } else {
            s.split(sep).map(kstr).collect()
        };
        // SAFETY: forwarded.
        unsafe { list_out(arena, &parts, out) }
    })
}

/// `join(xs, sep)`: the strings of the list `xs` (`n` `KStr`s at `xs`) with `sep` between.
///
/// # Safety
/// `xs` addresses `n` `KStr`s of valid strings (or is null with `n == 0`); otherwise as
/// for [`kiln_str_replace`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_join(
    arena: *mut Arena,
    xs: *const KStr,
    n: u64,
    sep: *const u8,
    seplen: u64,
    out: *mut KStr,
) -> u32 {
    guard(|| {
        // SAFETY: forwarded.
        let sep = unsafe { text(sep, seplen) };
        let items: &[KStr] = if xs.is_null() || n == 0 {
            &[]
        } else {
            // SAFETY: per the contract, `n` strings at `xs`.
            unsafe { std::slice::from_raw_parts(xs, n as usize) }
        };
        let mut s = String::new();
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            // SAFETY: each element is a valid string.
            s.push_str(unsafe { text(x.ptr, x.len) });
        }
        // SAFETY: forwarded.
        unsafe { copy_out(arena, &s, out) }
    })
}

/// `tokens(s)`: the maximal runs of alphanumeric chars, lower-cased
/// ([`crate::textdef::tokens`]). A token already in lower case points into `s`.
///
/// # Safety
/// As for [`kiln_str_split`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_tokens(
    arena: *mut Arena,
    p: *const u8,
    len: u64,
    out: *mut KList,
) -> u32 {
    guard(|| {
        // SAFETY: forwarded.
        let s = unsafe { text(p, len) };
        let mut parts = Vec::new();
        for t in s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()) {
            let lower = t.to_lowercase();
            if lower == t {
                parts.push(kstr(t));
            } else {
                let mut k = KStr { ptr: std::ptr::null(), len: 0 };
                // SAFETY: forwarded; `k` is writable.
                if unsafe { copy_out(arena, &lower, &mut k) } != 0 {
                    return 1;
                }
                parts.push(k);
            }
        }
        // SAFETY: forwarded.
        unsafe { list_out(arena, &parts, out) }
    })
}

/// `parse_int(s)` into `out`: 0, or 1 when `s` is not an int (the interpreter words the
/// error).
///
/// # Safety
/// As for [`kiln_str_trim`], with `out` a writable `i64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_parse_int(p: *const u8, len: u64, out: *mut i64) -> u32 {
    // SAFETY: forwarded.
    match crate::textdef::parse_int(unsafe { text(p, len) }) {
        // SAFETY: forwarded.
        Ok(v) => unsafe {
            out.write(v);
            0
        },
        Err(_) => 1,
    }
}

/// `parse_float(s)` into `out`: 0, or 1 when `s` is not a (finite) number.
///
/// # Safety
/// As for [`kiln_str_trim`], with `out` a writable `f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_parse_float(p: *const u8, len: u64, out: *mut f64) -> u32 {
    // SAFETY: forwarded.
    match crate::textdef::parse_float(unsafe { text(p, len) }) {
        // SAFETY: forwarded.
        Ok(v) => unsafe {
            out.write(v);
            0
        },
        Err(_) => 1,
    }
}

/// `str(n)` of an int, as JSON output prints it.
///
/// # Safety
/// `arena` null or live and used by this thread only; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_fmt_int(arena: *mut Arena, v: i64, out: *mut KStr) -> u32 {
    let mut b = itoa::Buffer::new();
    // SAFETY: forwarded.
    unsafe { copy_out(arena, b.format(v), out) }
}

/// `str(x)` of a float, as JSON output prints it (`crate::io::format_f64`: shortest
/// round-trip form, `null` for NaN and infinities).
///
/// # Safety
/// As for [`kiln_fmt_int`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_fmt_float(arena: *mut Arena, v: f64, out: *mut KStr) -> u32 {
    guard(|| {
        let mut b = Vec::with_capacity(24);
        crate::io::format_f64(&mut b, v);
        let s = std::str::from_utf8(&b).unwrap_or("null");
        // SAFETY: forwarded.
        unsafe { copy_out(arena, s, out) }
    })
}

/// One-argument float functions, by `op`: 0 `round` (half away from zero), 1 `exp`,
/// 2 `log` (natural), 3 `tanh`, 4 `sigmoid` (`1 / (1 + exp(-x))`), 5 `floor`, 6 `ceil`. The same `std`
/// functions the interpreter calls, so results are bit-identical.
#[unsafe(no_mangle)]
pub extern "C" fn kiln_math1(op: u32, x: f64) -> f64 {
    match op {
        0 => x.round(),
        1 => x.exp(),
        2 => x.ln(),
        3 => x.tanh(),
        4 => 1.0 / (1.0 + (-x).exp()),
        5 => x.floor(),
        6 => x.ceil(),
        _ => f64::NAN,
    }
}

/// Two-argument float functions, by `op`: 0 `pow`, 1 `min`, 2 `max` (`f64::min` /
/// `f64::max`: a NaN argument yields the other one), 3 `//` and 4 `%` on floats
/// ([`crate::arith`]).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_math2(op: u32, x: f64, y: f64) -> f64 {
    match op {
        0 => x.powf(y),
        1 => x.min(y),
        2 => x.max(y),
        3 => crate::arith::floor_div_f64(x, y),
        4 => crate::arith::floor_mod_f64(x, y),
        _ => f64::NAN,
    }
}

/// The functions of this module with their addresses, for the JIT.
/// A growing text in the arena (a rendered template): `len` bytes at `ptr`, room for
/// `cap`. Generated code keeps one in a zeroed stack slot and reads it as a [`KStr`]
/// (`ptr`, `len`) when done.
#[repr(C)]
pub struct KBuf {
    pub ptr: *mut u8,
    pub len: u64,
    pub cap: u64,
}

/// Moves the text of `buf` to `cap` bytes of `arena`: false when out of memory.
fn regrow(a: &mut Arena, b: &mut KBuf, cap: u64) -> bool {
    let q = a.alloc(cap as usize, 8);
    if q.is_null() {
        return false;
    }
    if b.len > 0 {
        // SAFETY: the old text has `len` bytes; `q` has room for `cap >= len`.
        unsafe { std::ptr::copy_nonoverlapping(b.ptr, q, b.len as usize) };
    }
    b.ptr = q;
    b.cap = cap;
    true
}

/// Copies `len` bytes from `src` to `dst`: pieces of up to 16 bytes (most inserts and
/// separators of a template) with two overlapping moves, longer ones with `memcpy`.
///
/// # Safety
/// `src` addresses `len` readable bytes, `dst` `len` writable ones, not overlapping.
unsafe fn copy_piece(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: every read and write below stays within the first `len` bytes.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                *dst = *src;
                *dst.add(len / 2) = *src.add(len / 2);
                *dst.add(len - 1) = *src.add(len - 1);
            }
            4..=7 => {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(len - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(len - 4).cast::<u32>().write_unaligned(b);
            }
            8..=16 => {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(len - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(len - 8).cast::<u64>().write_unaligned(b);
            }
            _ => std::ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// A piece of [`kiln_text_push_all`] whose pointer is this is an `int` (its `len`, as
/// `i64` bits), written as `str` writes it (`kiln_fmt_int`).
pub const INT_PIECE: usize = usize::MAX;

/// The length of `v` in decimal, as `itoa` (and so `kiln_fmt_int`) writes it.
fn int_len(v: i64) -> u64 {
    u64::from(v.unsigned_abs().checked_ilog10().unwrap_or(0)) + 1 + u64::from(v < 0)
}

/// The bytes a piece adds: its length, or the decimal length of an integer piece.
fn piece_len(p: &KStr) -> u64 {
    if p.ptr as usize == INT_PIECE { int_len(p.len as i64) } else { p.len }
}

/// Appends the `n` pieces at `pieces` to `buf`, making room for all of them at once
/// (exactly that much when the text is still empty, as for a template whose pieces are all
/// known before it is written; else at least twice the old room): 0, or 1 when out of
/// memory. A piece is a string, or an integer ([`INT_PIECE`]).
///
/// # Safety
/// As for [`kiln_text_push`]; `pieces` addresses `n` [`KStr`]s, each null, an integer
/// piece, or addressing its length in readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_text_push_all(
    arena: *mut Arena,
    buf: *mut KBuf,
    pieces: *const KStr,
    n: u64,
) -> u32 {
    guard(|| {
        // SAFETY: per the contract.
        let (b, a) = match unsafe { (buf.as_mut(), arena.as_mut()) } {
            (Some(b), Some(a)) => (b, a),
            _ => return 1,
        };
        let ps: &[KStr] = if pieces.is_null() || n == 0 {
            &[]
        } else {
            // SAFETY: `pieces` addresses `n` KStrs (contract).
            unsafe { std::slice::from_raw_parts(pieces, n as usize) }
        };
        let mut need = b.len;
        for p in ps.iter().filter(|p| !p.ptr.is_null()) {
            let Some(x) = need.checked_add(piece_len(p)) else { return 1 };
            need = x;
        }
        if need > b.cap {
            let cap = if b.cap == 0 { need } else { need.max(b.cap.saturating_mul(2)) };
            if !regrow(a, b, cap) {
                return 1;
            }
        }
        // SAFETY: `ptr` has room for `need` bytes, the sum of the pieces' lengths after
        // the old text; each piece addresses its length in bytes (contract).
        unsafe {
            let mut at = b.ptr.add(b.len as usize);
            for p in ps.iter().filter(|p| !p.ptr.is_null()) {
                if p.ptr as usize == INT_PIECE {
                    let mut f = itoa::Buffer::new();
                    let s = f.format(p.len as i64);
                    copy_piece(s.as_ptr(), at, s.len());
                    at = at.add(s.len());
                } else {
                    copy_piece(p.ptr, at, p.len as usize);
                    at = at.add(p.len as usize);
                }
            }
        }
        b.len = need;
        0
    })
}

/// Appends `len` bytes at `p` to `buf`, growing it (by doubling, in `arena`) as needed:
/// 0, or 1 when out of memory.
///
/// # Safety
/// `arena` null or live and this thread's; `buf` a valid [`KBuf`] whose bytes are in that
/// arena; `p` addresses `len` readable bytes (or `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_text_push(
    arena: *mut Arena,
    buf: *mut KBuf,
    p: *const u8,
    len: u64,
) -> u32 {
    guard(|| {
        if len == 0 {
            return 0;
        }
        // SAFETY: per the contract.
        let (b, a) = match unsafe { (buf.as_mut(), arena.as_mut()) } {
            (Some(b), Some(a)) => (b, a),
            _ => return 1,
        };
        let need = b.len + len;
        if need > b.cap {
            // Room for half as much again, so a template whose first piece is long (a
            // big literal) is not copied again at the next small insert.
            let cap = need.saturating_add(need / 2).max(b.cap * 2).max(64);
            if !regrow(a, b, cap) {
                return 1;
            }
        }
        // SAFETY: `ptr` has room for `need` bytes; `p` has `len` readable bytes.
        unsafe { std::ptr::copy_nonoverlapping(p, b.ptr.add(b.len as usize), len as usize) };
        b.len = need;
        0
    })
}

pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_str_trim", kiln_str_trim as *const u8),
        ("kiln_text_push", kiln_text_push as *const u8),
        ("kiln_text_push_all", kiln_text_push_all as *const u8),
        ("kiln_str_substr", kiln_str_substr as *const u8),
        ("kiln_str_contains", kiln_str_contains as *const u8),
        ("kiln_str_starts_with", kiln_str_starts_with as *const u8),
        ("kiln_str_ends_with", kiln_str_ends_with as *const u8),
        ("kiln_str_replace", kiln_str_replace as *const u8),
        ("kiln_str_reverse", kiln_str_reverse as *const u8),
        ("kiln_str_split", kiln_str_split as *const u8),
        ("kiln_str_join", kiln_str_join as *const u8),
        ("kiln_str_tokens", kiln_str_tokens as *const u8),
        ("kiln_parse_int", kiln_parse_int as *const u8),
        ("kiln_parse_float", kiln_parse_float as *const u8),
        ("kiln_fmt_int", kiln_fmt_int as *const u8),
        ("kiln_fmt_float", kiln_fmt_float as *const u8),
        ("kiln_math1", kiln_math1 as *const u8),
        ("kiln_math2", kiln_math2 as *const u8),
    ]
}

#[cfg(test)]
mod tests;
