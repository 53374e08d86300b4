//! String helpers for generated code (C ABI). Strings travel as (pointer, byte length)
//! pairs of valid UTF-8; results are allocated in the caller's arena and written to `out`
//! as a [`KStr`]. Every function is panic-free; a null arena or an allocation failure
//! yields the empty string.

use crate::arena::Arena;
use crate::layout::KStr;

/// # Safety
/// Unless null or `len == 0`, `p` addresses `len` readable bytes valid for `'a`.
unsafe fn bytes<'a>(p: *const u8, len: u64) -> &'a [u8] {
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: per the caller's contract.
    unsafe { std::slice::from_raw_parts(p, len as usize) }
}

/// Copies `s` into the arena and writes it to `out`.
///
/// # Safety
/// `arena` is null or a live arena used by this thread only; `out` is writable.
unsafe fn put(arena: *mut Arena, s: &[u8], out: *mut KStr) {
    let ptr = if s.is_empty() {
        std::ptr::null()
    } else {
        // SAFETY: the caller guarantees the arena is live and not shared.
        match unsafe { arena.as_mut() } {
            Some(a) => a.alloc_copy(s).cast_const(),
            None => std::ptr::null(),
        }
    };
    let len = if ptr.is_null() { 0 } else { s.len() as u64 };
    // SAFETY: `out` is writable per the caller.
    unsafe { out.write(KStr { ptr, len }) };
}

/// The number of chars (Unicode scalar values) of a string.
///
/// # Safety
/// `p` addresses `len` bytes (see [`bytes`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_chars(p: *const u8, len: u64) -> i64 {
    // SAFETY: forwarded.
    let s = unsafe { bytes(p, len) };
    chars(s) as i64
}

/// The chars of UTF-8 text: its bytes minus its continuation bytes (`0b10xx_xxxx`),
/// counted eight bytes at a time.
pub fn chars(s: &[u8]) -> usize {
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut cont = 0usize;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        // Bit 7 set and bit 6 clear, per byte.
        cont += (x & !(x << 1) & HI).count_ones() as usize;
    }
    cont += words.remainder().iter().filter(|&&b| b & 0xC0 == 0x80).count();
    s.len() - cont
}

/// Byte order of two strings (UTF-8 byte order is code point order): -1, 0 or 1.
///
/// # Safety
/// Both pointers address their lengths in bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_cmp(a: *const u8, alen: u64, b: *const u8, blen: u64) -> i32 {
    // SAFETY: forwarded.
    let (a, b) = unsafe { (bytes(a, alen), bytes(b, blen)) };
    a.cmp(b) as i32
}

/// `a + b`.
///
/// # Safety
/// As for [`kiln_str_cmp`]; `arena` is null or live and used by this thread only; `out`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_concat(
    arena: *mut Arena,
    a: *const u8,
    alen: u64,
    b: *const u8,
    blen: u64,
    out: *mut KStr,
) {
    // SAFETY: forwarded.
    let (a, b) = unsafe { (bytes(a, alen), bytes(b, blen)) };
    let mut s = Vec::with_capacity(a.len() + b.len());
    s.extend_from_slice(a);
    s.extend_from_slice(b);
    // SAFETY: forwarded.
    unsafe { put(arena, &s, out) }
}

/// Applies a case mapping; ASCII strings take a fast path with the same result.
///
/// # Safety
/// As for [`kiln_str_concat`].
unsafe fn map_case(arena: *mut Arena, p: *const u8, len: u64, out: *mut KStr, upper: bool) {
    // SAFETY: forwarded.
    let s = unsafe { bytes(p, len) };
    if s.is_ascii() {
        let mapped: Vec<u8> = if upper {
            s.iter().map(u8::to_ascii_uppercase).collect()
        } else {
            s.iter().map(u8::to_ascii_lowercase).collect()
        };
        // SAFETY: forwarded.
        return unsafe { put(arena, &mapped, out) };
    }
    let text = String::from_utf8_lossy(s);
    let mapped = if upper { text.to_uppercase() } else { text.to_lowercase() };
    // SAFETY: forwarded.
    unsafe { put(arena, mapped.as_bytes(), out) }
}

/// `upper(s)`: Unicode upper case (as Rust's `str::to_uppercase`).
///
/// # Safety
/// As for [`kiln_str_concat`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_upper(arena: *mut Arena, p: *const u8, len: u64, out: *mut KStr) {
    // SAFETY: forwarded.
    unsafe { map_case(arena, p, len, out, true) }
}

/// `lower(s)`: Unicode lower case (as Rust's `str::to_lowercase`).
///
/// # Safety
/// As for [`kiln_str_concat`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_str_lower(arena: *mut Arena, p: *const u8, len: u64, out: *mut KStr) {
    // SAFETY: forwarded.
    unsafe { map_case(arena, p, len, out, false) }
}

/// The functions of this module with their addresses, for the JIT.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_str_chars", kiln_str_chars as *const u8),
        ("kiln_str_cmp", kiln_str_cmp as *const u8),
        ("kiln_str_concat", kiln_str_concat as *const u8),
        ("kiln_str_upper", kiln_str_upper as *const u8),
        ("kiln_str_lower", kiln_str_lower as *const u8),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_counts_code_points() {
        for s in
            ["", "a", "straße", "日本語のテキストです", "😀😀 mixed ascii and ü", &"é".repeat(37)]
        {
            for cut in 0..s.len() {
                if let Some(t) = s.get(cut..) {
                    assert_eq!(chars(t.as_bytes()), t.chars().count(), "{t:?}");
                }
            }
        }
    }

    fn run(f: unsafe extern "C" fn(*mut Arena, *const u8, u64, *mut KStr), s: &str) -> String {
        let mut arena = Arena::new();
        let mut out = KStr { ptr: std::ptr::null(), len: 0 };
        // SAFETY: valid string, live arena, writable out.
        unsafe { f(&mut arena, s.as_ptr(), s.len() as u64, &mut out) };
        // SAFETY: the result lives in the arena, alive here.
        String::from_utf8(unsafe { bytes(out.ptr, out.len) }.to_vec()).unwrap()
    }

    #[test]
    fn case_mapping_matches_std() {
        for s in ["", "abc XYZ 09", "straße", "ǅemal", "İstanbul", "ΣΑΣ σας"] {
            assert_eq!(run(kiln_str_upper, s), s.to_uppercase());
            assert_eq!(run(kiln_str_lower, s), s.to_lowercase());
        }
    }

    #[test]
    fn chars_compare_concat() {
        for s in ["", "a", "héllo", "日本語", "🦀x"] {
            // SAFETY: `s` addresses `s.len()` readable bytes of a live `&str`.
            let n = unsafe { kiln_str_chars(s.as_ptr(), s.len() as u64) };
            assert_eq!(n, s.chars().count() as i64);
        }
        // SAFETY: valid strings.
        let c = |a: &str, b: &str| unsafe {
            kiln_str_cmp(a.as_ptr(), a.len() as u64, b.as_ptr(), b.len() as u64)
        };
        assert_eq!((c("a", "b"), c("b", "a"), c("ab", "ab"), c("a", "ab")), (-1, 1, 0, -1));
        let mut arena = Arena::new();
        let mut out = KStr { ptr: std::ptr::null(), len: 0 };
        let (a, b) = ("kiln", "→run");
        // SAFETY: valid strings, live arena, writable out.
        unsafe {
            kiln_str_concat(&mut arena, a.as_ptr(), 4, b.as_ptr(), b.len() as u64, &mut out);
            assert_eq!(bytes(out.ptr, out.len), "kiln→run".as_bytes());
        }
    }
}
