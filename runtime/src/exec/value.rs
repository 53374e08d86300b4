//! Helpers over values laid out as in [`crate::layout`]: deep copies into a longer-lived
//! arena, hashable key bytes with the interpreter's key equality, and the interpreter's
//! total order (`compare`). Every read is unaligned, so values may sit in plain byte
//! buffers (`Vec<u8>`) as well as in arenas.

use crate::arena::Arena;
use crate::layout::{KList, KStr, TypeDesc};
use std::cmp::Ordering;

/// Reads a `T` at `p + off`.
///
/// # Safety
/// `p + off .. + size_of::<T>()` must be readable and hold a valid `T`.
pub(crate) unsafe fn rd<T: Copy>(p: *const u8, off: usize) -> T {
    // SAFETY: per the caller.
    unsafe { p.add(off).cast::<T>().read_unaligned() }
}

/// Writes a `T` at `p + off`.
///
/// # Safety
/// `p + off .. + size_of::<T>()` must be writable.
pub(crate) unsafe fn wr<T: Copy>(p: *mut u8, off: usize, v: T) {
    // SAFETY: per the caller.
    unsafe { p.add(off).cast::<T>().write_unaligned(v) }
}

/// The bytes of the `KStr` at `p`.
///
/// # Safety
/// A valid `KStr` must be at `p`, its bytes alive for `'a`.
pub(crate) unsafe fn str_bytes<'a>(p: *const u8) -> &'a [u8] {
    // SAFETY: per the caller.
    let s: KStr = unsafe { rd(p, 0) };
    if s.ptr.is_null() || s.len == 0 {
        return &[];
    }
    // SAFETY: a KStr addresses `len` initialized bytes (per the caller, alive).
    unsafe { std::slice::from_raw_parts(s.ptr, s.len as usize) }
}

/// Copies the value of type `ty` at `src` to `dst` (`ty.size()` bytes, which the caller
/// zeroed), copying every string, list and vector it refers to into `arena`, so the copy
/// outlives the memory `src` refers to. Padding is not copied. False when out of memory.
///
/// # Safety
/// `src` must hold a valid value of `ty` (its referred memory alive); `dst` must be
/// writable for `ty.size()` bytes and not overlap `src`.
pub unsafe fn deep_copy(ty: &TypeDesc, src: *const u8, dst: *mut u8, arena: &mut Arena) -> bool {
    // SAFETY: per the caller, `src` holds a valid value of `ty` with its referred memory
    // alive and `dst` is `ty.size()` writable bytes not overlapping it. Every read and write
    // is unaligned, at an offset `ty` places inside the value (a field offset, the optional
    // payload offset); a string's bytes, a list's `len` elements at `stride` and a vector's
    // `n` floats are read only through the pointer the value holds (an empty string or list
    // reads nothing; a vector's pointer is null only when `n == 0`). Each fresh arena block
    // is checked for null and written only within its requested size (a list's block is
    // zeroed, as the recursive `deep_copy` requires of its `dst`), and the recursive calls
    // pass the same guarantees for the element or field type.
    unsafe {
        match ty {
            TypeDesc::Int | TypeDesc::Float => wr(dst, 0, rd::<u64>(src, 0)),
            TypeDesc::Bool => wr(dst, 0, rd::<u8>(src, 0)),
            TypeDesc::Str => {
                let b = str_bytes(src);
                let p = if b.is_empty() { std::ptr::null() } else { arena.alloc_copy(b) };
                if p.is_null() && !b.is_empty() {
                    return false;
                }
                wr(dst, 0, KStr { ptr: p, len: b.len() as u64 });
            }
            TypeDesc::Vec(n) => {
                let v: *const u8 = rd(src, 0);
                let bytes = *n as usize * 4;
                let p = arena.alloc(bytes, 32);
                if p.is_null() {
                    return false;
                }
                if !v.is_null() && bytes > 0 {
                    std::ptr::copy_nonoverlapping(v, p, bytes);
                }
                wr(dst, 0, p as *const u8);
            }
            TypeDesc::List(elem) => {
                let l: KList = rd(src, 0);
                let stride = elem.stride();
                let Some(total) = (l.len as usize).checked_mul(stride) else { return false };
                let p = arena.alloc_zeroed(total, elem.align());
                if p.is_null() {
                    return false;
                }
                for i in 0..l.len as usize {
                    if !deep_copy(elem, l.ptr.add(i * stride), p.add(i * stride), arena) {
                        return false;
                    }
                }
                wr(dst, 0, KList { ptr: p, len: l.len });
            }
            TypeDesc::Record(fields) => {
                for ((_, ft), off) in fields.iter().zip(ty.field_offsets()) {
                    if !deep_copy(ft, src.add(off), dst.add(off), arena) {
                        return false;
                    }
                }
            }
            TypeDesc::Optional(inner) => {
                let tag: u8 = rd(src, 0);
                wr(dst, 0, tag);
                if tag != 0 {
                    let off = ty.optional_payload_offset();
                    return deep_copy(inner, src.add(off), dst.add(off), arena);
                }
            }
        }
    }
    true
}

/// Copies the value at `src` into a new byte buffer (see [`deep_copy`]). `None` when out
/// of memory.
///
/// # Safety
/// As for [`deep_copy`].
pub unsafe fn stored(ty: &TypeDesc, src: *const u8, arena: &mut Arena) -> Option<Vec<u8>> {
    let mut v = vec![0u8; ty.size()];
    // SAFETY: `v` holds `ty.size()` zeroed bytes; the rest is the caller's promise.
    unsafe { deep_copy(ty, src, v.as_mut_ptr(), arena) }.then_some(v)
}

/// Appends the canonical key encoding of the value at `p`, byte-identical to the
/// interpreter's `value::key_bytes`: equal values encode alike (an integral float like the
/// int, `-0.0` like `0.0`, every NaN alike; a null optional as `0`, a present one as its
/// value).
///
/// # Safety
/// A valid value of `ty` must be at `p`, its referred memory alive.
pub unsafe fn key_bytes(ty: &TypeDesc, p: *const u8, out: &mut Vec<u8>) {
    // SAFETY: per the caller, `p` holds a valid value of `ty` with its referred memory
    // alive. Every read is unaligned, at an offset `ty` places inside the value; a string's
    // bytes, a list's `len` elements at `stride` and a vector's `n` floats (skipped when its
    // pointer is null) are read through pointers the value holds; the recursive calls pass
    // the same guarantee for the element or field type.
    unsafe {
        match ty {
            TypeDesc::Int => {
                out.push(2);
                out.extend_from_slice(&rd::<i64>(p, 0).to_le_bytes());
            }
            TypeDesc::Float => {
                let t: f64 = rd(p, 0);
                if t.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t)
                {
                    out.push(2);
                    out.extend_from_slice(&(t as i64).to_le_bytes());
                } else {
                    out.push(3);
                    let bits = if t.is_nan() { f64::NAN.to_bits() } else { t.to_bits() };
                    out.extend_from_slice(&bits.to_le_bytes());
                }
            }
            TypeDesc::Bool => out.extend_from_slice(&[1, u8::from(rd::<u8>(p, 0) != 0)]),
            TypeDesc::Str => {
                let s = str_bytes(p);
                out.push(4);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s);
            }
            TypeDesc::List(elem) => {
                let l: KList = rd(p, 0);
                out.push(5);
                out.extend_from_slice(&l.len.to_le_bytes());
                let stride = elem.stride();
                for i in 0..l.len as usize {
                    key_bytes(elem, l.ptr.add(i * stride), out);
                }
            }
            TypeDesc::Record(fields) => {
                out.push(5);
                out.extend_from_slice(&(fields.len() as u64).to_le_bytes());
                for ((_, ft), off) in fields.iter().zip(ty.field_offsets()) {
                    key_bytes(ft, p.add(off), out);
                }
            }
            TypeDesc::Vec(n) => {
                out.push(6);
                out.extend_from_slice(&u64::from(*n).to_le_bytes());
                let v: *const f32 = rd(p, 0);
                for i in 0..*n as usize {
                    let x = if v.is_null() { 0.0 } else { v.add(i).read_unaligned() };
                    let x = if x == 0.0 { 0.0f32 } else { x };
                    out.extend_from_slice(&x.to_bits().to_le_bytes());
                }
            }
            TypeDesc::Optional(inner) => {
                if rd::<u8>(p, 0) == 0 {
                    out.push(0);
                } else {
                    key_bytes(inner, p.add(ty.optional_payload_offset()), out);
                }
            }
        }
    }
}

fn cmp_f64(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// The interpreter's total order (`value::compare`) on two values of `ty`: null first,
/// false < true, numbers by value (NaN last), strings by bytes (= code points), lists,
/// vectors and records lexicographically, then by length.
///
/// # Safety
/// Valid values of `ty` must be at `a` and `b`, their referred memory alive.
pub unsafe fn compare(ty: &TypeDesc, a: *const u8, b: *const u8) -> Ordering {
    // SAFETY: per the caller, `a` and `b` each hold a valid value of `ty` with its referred
    // memory alive. Every read is unaligned, at an offset `ty` places inside the values;
    // list elements are read only below each list's own length, vector floats only through
    // non-null pointers; the recursive calls pass the same guarantee for the element or
    // field type.
    unsafe {
        match ty {
            TypeDesc::Int => rd::<i64>(a, 0).cmp(&rd::<i64>(b, 0)),
            TypeDesc::Float => cmp_f64(rd(a, 0), rd(b, 0)),
            TypeDesc::Bool => (rd::<u8>(a, 0) != 0).cmp(&(rd::<u8>(b, 0) != 0)),
            TypeDesc::Str => str_bytes(a).cmp(str_bytes(b)),
            TypeDesc::List(elem) => {
                let (x, y): (KList, KList) = (rd(a, 0), rd(b, 0));
                let stride = elem.stride();
                for i in 0..x.len.min(y.len) as usize {
                    let o = compare(elem, x.ptr.add(i * stride), y.ptr.add(i * stride));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.len.cmp(&y.len)
            }
            TypeDesc::Record(fields) => {
                for ((_, ft), off) in fields.iter().zip(ty.field_offsets()) {
                    let o = compare(ft, a.add(off), b.add(off));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            }
            TypeDesc::Vec(n) => {
                let (x, y): (*const f32, *const f32) = (rd(a, 0), rd(b, 0));
                if x.is_null() || y.is_null() {
                    return Ordering::Equal;
                }
                for i in 0..*n as usize {
                    let o = cmp_f64(
                        f64::from(x.add(i).read_unaligned()),
                        f64::from(y.add(i).read_unaligned()),
                    );
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            }
            TypeDesc::Optional(inner) => {
                let (ta, tb) = (rd::<u8>(a, 0) != 0, rd::<u8>(b, 0) != 0);
                match (ta, tb) {
                    (false, false) => Ordering::Equal,
                    (false, true) => Ordering::Less,
                    (true, false) => Ordering::Greater,
                    (true, true) => {
                        let off = ty.optional_payload_offset();
                        compare(inner, a.add(off), b.add(off))
                    }
                }
            }
        }
    }
}

/// The number at `p` (an `int` widened, a `float`, a null optional as NaN), as the
/// interpreter's `as_f64` feeds float sums and means.
///
/// # Safety
/// A valid value of `ty` must be at `p`.
pub unsafe fn as_f64(ty: &TypeDesc, p: *const u8) -> f64 {
    // SAFETY: per the caller, `p` holds a valid value of `ty`: an `int` or `float` is 8
    // bytes at 0, an optional's tag is its byte 0, and a present optional's payload (a
    // valid value of `inner`) is at `optional_payload_offset()`. Reads are unaligned.
    unsafe {
        match ty {
            TypeDesc::Int => rd::<i64>(p, 0) as f64,
            TypeDesc::Float => rd(p, 0),
            TypeDesc::Optional(inner) if rd::<u8>(p, 0) != 0 => {
                as_f64(inner, p.add(ty.optional_payload_offset()))
            }
            _ => f64::NAN,
        }
    }
}

/// The int at `p` (`None` for a null optional or a non-int).
///
/// # Safety
/// A valid value of `ty` must be at `p`.
pub unsafe fn as_i64(ty: &TypeDesc, p: *const u8) -> Option<i64> {
    // SAFETY: as in `as_f64`: an `int` is 8 bytes at 0, an optional's tag is its byte 0
    // and a present optional's payload is a valid value of `inner`. Reads are unaligned.
    unsafe {
        match ty {
            TypeDesc::Int => Some(rd(p, 0)),
            TypeDesc::Optional(inner) if rd::<u8>(p, 0) != 0 => {
                as_i64(inner, p.add(ty.optional_payload_offset()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{JsonDecoder, JsonEncoder, sig::parse_type};

    fn decode(ty: &TypeDesc, line: &str, arena: &mut Arena) -> Vec<u64> {
        let mut buf = vec![0u64; ty.size().div_ceil(8).max(1)];
        // SAFETY: a u64 buffer viewed as bytes, same length.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), buf.len() * 8) };
        JsonDecoder::new(ty).decode(line.as_bytes(), bytes, arena).unwrap();
        buf
    }

    #[test]
    fn deep_copy_survives_the_source_arena() {
        let ty = parse_type("{ a: int, s: str, xs: [str]?, v: vec[3], o: { b: bool? } }").unwrap();
        let mut src_arena = Arena::new();
        let mut keep = Arena::new();
        let line =
            String::from(r#"{"a":1,"s":"h\u00e9","xs":["x\"","y"],"v":[1,2,3],"o":{"b":true}}"#);
        let v = decode(&ty, &line, &mut src_arena);
        // SAFETY: `v` holds a decoded value of `ty`.
        let copy = unsafe { stored(&ty, v.as_ptr().cast(), &mut keep) }.unwrap();
        drop(v);
        drop(line);
        src_arena.reset();
        drop(src_arena);
        // The encoder reads aligned values: copy into an aligned buffer first.
        let mut aligned = vec![0u64; ty.size().div_ceil(8)];
        // SAFETY: same size, disjoint buffers.
        unsafe {
            std::ptr::copy_nonoverlapping(copy.as_ptr(), aligned.as_mut_ptr().cast(), copy.len())
        };
        let mut out = Vec::new();
        // SAFETY: a deep copy of a valid value, its memory in `keep`.
        unsafe { JsonEncoder::new(&ty).encode(aligned.as_ptr().cast(), &mut out) };
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1,"s":"hé","xs":["x\"","y"],"v":[1.0,2.0,3.0],"o":{"b":true}}"#
        );
    }

    #[test]
    fn keys_match_the_interpreter_encoding() {
        let mut arena = Arena::new();
        let ty = parse_type("{ k: float, s: str, o: int? }").unwrap();
        let key = |line: &str, arena: &mut Arena| {
            let v = decode(&ty, line, arena);
            let mut out = Vec::new();
            // SAFETY: a decoded value of `ty`.
            unsafe { key_bytes(&ty, v.as_ptr().cast(), &mut out) };
            out
        };
        let a = key(r#"{"k":1.0,"s":"x","o":null}"#, &mut arena);
        let b = key(r#"{"k":1,"s":"x"}"#, &mut arena);
        let c = key(r#"{"k":-0.0,"s":"x","o":3}"#, &mut arena);
        let d = key(r#"{"k":0,"s":"x","o":3}"#, &mut arena);
        assert_eq!(a, b);
        assert_eq!(c, d);
        assert_ne!(a, c);
        let mut want = vec![5];
        want.extend_from_slice(&3u64.to_le_bytes());
        want.push(2);
        want.extend_from_slice(&1i64.to_le_bytes());
        want.push(4);
        want.extend_from_slice(&1u64.to_le_bytes());
        want.push(b'x');
        want.push(0);
        assert_eq!(a, want);
    }

    #[test]
    fn compare_is_the_interpreter_order() {
        let mut arena = Arena::new();
        let ty = parse_type("{ o: float?, s: str, l: [int] }").unwrap();
        let vals = [
            r#"{"o":null,"s":"b","l":[]}"#,
            r#"{"o":-1.5,"s":"a","l":[]}"#,
            r#"{"o":2,"s":"a","l":[1]}"#,
            r#"{"o":2,"s":"a","l":[1,0]}"#,
            r#"{"o":2,"s":"b","l":[]}"#,
        ];
        let decoded: Vec<Vec<u64>> = vals.iter().map(|l| decode(&ty, l, &mut arena)).collect();
        for (i, a) in decoded.iter().enumerate() {
            for (j, b) in decoded.iter().enumerate() {
                // SAFETY: decoded values of `ty`.
                let o = unsafe { compare(&ty, a.as_ptr().cast(), b.as_ptr().cast()) };
                assert_eq!(o, i.cmp(&j), "{} vs {}", vals[i], vals[j]);
            }
        }
        let f = TypeDesc::Float;
        let (nan, one) = (f64::NAN.to_ne_bytes(), 1.0f64.to_ne_bytes());
        // SAFETY: 8-byte floats.
        unsafe {
            assert_eq!(compare(&f, nan.as_ptr(), one.as_ptr()), Ordering::Greater);
            assert_eq!(compare(&f, nan.as_ptr(), nan.as_ptr()), Ordering::Equal);
        }
    }
}
