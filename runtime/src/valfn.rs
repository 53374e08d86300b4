//! Operators on values of any type for generated code (C ABI): `==` and `<` on lists,
//! records, vectors and optionals, and `str` of them. A value is passed by address, laid
//! out as in [`crate::layout`], together with the address of its [`TypeDesc`] (kept alive
//! by the compiled program). The semantics are the interpreter's (`kiln::interp::value`):
//!
//! - `==` compares structurally; numbers by IEEE equality at any depth (so a NaN equals
//!   nothing), `null` equals only `null`.
//! - `<` `<=` `>` `>=`: when either side is `null`, the total order (`null` first); between
//!   two floats (also inside `T?`), IEEE (anything against NaN is false); otherwise the
//!   total order of sorting ([`crate::exec::value::compare`]: NaN after every number).
//! - `str(x)`: a string as is (also inside `str?`), everything else as compact JSON, as
//!   sinks write it.
//!
//! Nothing here panics into generated code (entry points are wrapped in `catch_unwind`).

use crate::arena::Arena;
use crate::exec::value::{compare, rd, str_bytes};
use crate::io::JsonEncoder;
use crate::layout::{KList, KStr, TypeDesc};
use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Structural equality with IEEE numbers.
///
/// # Safety
/// Valid values of `ty` must be at `a` and `b`, their referred memory alive.
pub unsafe fn equal(ty: &TypeDesc, a: *const u8, b: *const u8) -> bool {
    // SAFETY: per the caller, both addresses hold valid values of `ty`; every read is at an
    // offset `ty` places inside them (list elements below each list's length, vector
    // floats through non-null pointers), and the recursive calls pass that guarantee on.
    unsafe {
        match ty {
            TypeDesc::Int => rd::<i64>(a, 0) == rd::<i64>(b, 0),
            TypeDesc::Float => rd::<f64>(a, 0) == rd::<f64>(b, 0),
            TypeDesc::Bool => (rd::<u8>(a, 0) != 0) == (rd::<u8>(b, 0) != 0),
            TypeDesc::Str => str_bytes(a) == str_bytes(b),
            TypeDesc::List(elem) => {
                let (x, y): (KList, KList) = (rd(a, 0), rd(b, 0));
                let stride = elem.stride();
                x.len == y.len
                    && (0..x.len as usize)
                        .all(|i| equal(elem, x.ptr.add(i * stride), y.ptr.add(i * stride)))
            }
            TypeDesc::Record(fields) => fields
                .iter()
                .zip(ty.field_offsets())
                .all(|((_, ft), off)| equal(ft, a.add(off), b.add(off))),
            TypeDesc::Vec(n) => {
                let (x, y): (*const f32, *const f32) = (rd(a, 0), rd(b, 0));
                if x.is_null() || y.is_null() {
                    return x.is_null() == y.is_null();
                }
                (0..*n as usize).all(|i| x.add(i).read_unaligned() == y.add(i).read_unaligned())
            }
            TypeDesc::Optional(inner) => {
                let (ta, tb) = (rd::<u8>(a, 0) != 0, rd::<u8>(b, 0) != 0);
                match (ta, tb) {
                    (false, false) => true,
                    (true, true) => {
                        let off = ty.optional_payload_offset();
                        equal(inner, a.add(off), b.add(off))
                    }
                    _ => false,
                }
            }
        }
    }
}

/// The order `<` and friends use: `None` when the two are unordered (a NaN against a
/// number at the top level, or inside `T?`).
///
/// # Safety
/// As for [`equal`].
pub unsafe fn order(ty: &TypeDesc, a: *const u8, b: *const u8) -> Option<Ordering> {
    // SAFETY: as for `equal`.
    unsafe {
        match ty {
            TypeDesc::Optional(inner) => {
                let (ta, tb) = (rd::<u8>(a, 0) != 0, rd::<u8>(b, 0) != 0);
                if !(ta && tb) {
                    return Some(ta.cmp(&tb));
                }
                let off = ty.optional_payload_offset();
                order(inner, a.add(off), b.add(off))
            }
            TypeDesc::Float => rd::<f64>(a, 0).partial_cmp(&rd::<f64>(b, 0)),
            _ => Some(compare(ty, a, b)),
        }
    }
}

/// `a == b`: 1 or 0.
///
/// # Safety
/// `ty` addresses a live [`TypeDesc`]; as for [`equal`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_value_eq(ty: *const TypeDesc, a: *const u8, b: *const u8) -> u8 {
    // SAFETY: per the contract.
    catch_unwind(AssertUnwindSafe(|| u8::from(unsafe { equal(&*ty, a, b) }))).unwrap_or(0)
}

/// The order of `a` and `b`: 0 less, 1 equal, 2 greater, 3 unordered.
///
/// # Safety
/// As for [`kiln_value_eq`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_value_ord(ty: *const TypeDesc, a: *const u8, b: *const u8) -> u32 {
    // SAFETY: per the contract.
    catch_unwind(AssertUnwindSafe(|| match unsafe { order(&*ty, a, b) } {
        Some(Ordering::Less) => 0,
        Some(Ordering::Equal) => 1,
        Some(Ordering::Greater) => 2,
        None => 3,
    }))
    .unwrap_or(3)
}

/// `str(x)` of the value at `p` into `out` (a string in `arena`): 0, or 1 when out of
/// memory.
///
/// # Safety
/// `ty` addresses a live [`TypeDesc`]; a valid value of it is at `p`; `arena` is null or
/// the live arena of this thread; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_value_text(
    ty: *const TypeDesc,
    p: *const u8,
    arena: *mut Arena,
    out: *mut KStr,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let (ty, arena) = unsafe { (&*ty, arena.as_mut()) };
        let Some(arena) = arena else { return 1 };
        let mut buf = Vec::new();
        // SAFETY: per the contract, `p` holds a value of `ty`.
        unsafe {
            match ty {
                TypeDesc::Str => buf.extend_from_slice(str_bytes(p)),
                TypeDesc::Optional(inner) if **inner == TypeDesc::Str && rd::<u8>(p, 0) != 0 => {
                    buf.extend_from_slice(str_bytes(p.add(ty.optional_payload_offset())));
                }
                _ => JsonEncoder::new(ty).encode(p, &mut buf),
            }
        }
        let s = if buf.is_empty() { std::ptr::null() } else { arena.alloc_copy(&buf) };
        if !buf.is_empty() && s.is_null() {
            return 1;
        }
        // SAFETY: per the contract, `out` is writable.
        unsafe { out.write(KStr { ptr: s, len: buf.len() as u64 }) };
        0
    }))
    .unwrap_or(1)
}

/// The C ABI functions with their addresses, for `JITBuilder::symbol`.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_value_eq", kiln_value_eq as *const u8),
        ("kiln_value_ord", kiln_value_ord as *const u8),
        ("kiln_value_text", kiln_value_text as *const u8),
    ]
}
