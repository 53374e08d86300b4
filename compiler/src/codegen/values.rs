//! Converting between interpreter [`Value`]s and values in the runtime's memory layout.
//! Used where compiled code and the reference interpreter meet: constants and params are
//! evaluated once and stored for generated code, and expressions evaluated by the
//! interpreter on compiled code's behalf ([`super::bridge`]) read their inputs and write
//! their result here.

use super::layout::{desc, strip};
use crate::check::types::Ty;
use crate::interp::Value;
use kiln_runtime::arena::Arena;
use std::rc::Rc;

/// Reads `T` at `p + off` (any alignment).
///
/// # Safety
/// `p + off .. + size_of::<T>()` is readable.
unsafe fn rd<T: Copy>(p: *const u8, off: usize) -> T {
    // SAFETY: per the caller.
    unsafe { p.add(off).cast::<T>().read_unaligned() }
}

/// # Safety
/// `p + off .. + size_of::<T>()` is writable.
unsafe fn wr<T: Copy>(p: *mut u8, off: usize, v: T) {
    // SAFETY: per the caller.
    unsafe { p.add(off).cast::<T>().write_unaligned(v) }
}

/// # Safety
/// Unless `len == 0`, `ptr` addresses `len` readable bytes.
unsafe fn slice<'a>(ptr: *const u8, len: u64) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

/// The value of type `ty` stored at `p`.
///
/// # Safety
/// `p` points to a valid value of `ty` laid out as in `kiln_runtime::layout`, whose
/// strings, lists and vectors are alive.
pub unsafe fn read(ty: &Ty, p: *const u8) -> Value {
    // SAFETY: per the caller, `p` holds a valid value of `ty` in the runtime layout with
    // its referred memory alive: every read is unaligned at an offset `desc(ty)` places
    // inside the value; a string's bytes, a list's `len` elements at the element stride
    // and a vector's `n` floats (32-byte aligned; not read when its pointer is null) are
    // read through the pointers the value holds; the recursive calls pass the same guarantee for elements and fields.
    unsafe {
        match ty {
            Ty::Int => Value::Int(rd(p, 0)),
            Ty::Float => Value::Float(rd(p, 0)),
            Ty::Bool => Value::Bool(rd::<u8>(p, 0) != 0),
            Ty::Str => {
                let b = slice(rd(p, 0), rd(p, 8));
                Value::Str(Rc::from(String::from_utf8_lossy(b).as_ref()))
            }
            Ty::List(t) => {
                let (ptr, len): (*const u8, u64) = (rd(p, 0), rd(p, 8));
                let stride = desc(t).map(|d| d.stride()).unwrap_or(0);
                Value::list((0..len as usize).map(|i| read(t, ptr.add(i * stride))).collect())
            }
            Ty::Vec(n) => {
                let ptr: *const f32 = rd(p, 0);
                if ptr.is_null() {
                    return Value::Vec(Rc::from(vec![0.0; *n as usize]));
                }
                Value::Vec(Rc::from(std::slice::from_raw_parts(ptr, *n as usize)))
            }
            Ty::Record(fs) => {
                let offs = desc(ty).map(|d| d.field_offsets()).unwrap_or_default();
                Value::record(fs.iter().zip(offs).map(|(f, off)| read(&f.ty, p.add(off))).collect())
            }
            Ty::Optional(_) => {
                if rd::<u8>(p, 0) == 0 {
                    return Value::Null;
                }
                let payload = desc(ty).map(|d| d.optional_payload_offset()).unwrap_or(0);
                read(strip(ty), p.add(payload))
            }
            _ => Value::Null,
        }
    }
}

/// Stores `v` (of type `ty`) at `p`; strings, lists and vectors are allocated in `arena`.
/// Returns false when the arena is out of memory.
///
/// # Safety
/// `p` addresses `desc(ty).size()` writable bytes.
pub unsafe fn write(ty: &Ty, v: &Value, arena: &mut Arena, p: *mut u8) -> bool {
    // SAFETY: per the caller, `p` addresses `desc(ty).size()` writable bytes; every write
    // is unaligned at an offset `desc(ty)` places inside them (tag, payload, field, the
    // halves of a `KStr`/`KList`), or goes into memory just allocated in `arena` and checked
    // for null, within its size (`stride * len` for list elements, each written by the
    // recursive call with the same guarantee; `4 * len` for a vector's floats).
    unsafe {
        match (ty, v) {
            (Ty::Int, Value::Int(n)) => wr(p, 0, *n),
            (Ty::Float, v) => wr(p, 0, v.as_f64().unwrap_or(f64::NAN)),
            (Ty::Bool, Value::Bool(b)) => wr(p, 0, u8::from(*b)),
            (Ty::Str, Value::Str(s)) => {
                let ptr = arena.alloc_copy(s.as_bytes());
                if ptr.is_null() && !s.is_empty() {
                    return false;
                }
                wr(p, 0, ptr);
                wr(p, 8, s.len() as u64);
            }
            (Ty::List(t), Value::List(xs)) => {
                let Some(d) = desc(t) else { return false };
                let stride = d.stride();
                let ptr = arena.alloc(stride * xs.len(), d.align().max(8));
                if ptr.is_null() {
                    return false;
                }
                for (i, x) in xs.iter().enumerate() {
                    if !write(t, x, arena, ptr.add(i * stride)) {
                        return false;
                    }
                }
                wr(p, 0, ptr);
                wr(p, 8, xs.len() as u64);
            }
            (Ty::Vec(_), Value::Vec(xs)) => {
                let ptr = arena.alloc(xs.len() * 4, 32);
                if ptr.is_null() {
                    return false;
                }
                std::ptr::copy_nonoverlapping(xs.as_ptr(), ptr.cast::<f32>(), xs.len());
                wr(p, 0, ptr);
            }
            (Ty::Record(fs), Value::Record(xs)) => {
                let offs = desc(ty).map(|d| d.field_offsets()).unwrap_or_default();
                for ((f, off), x) in fs.iter().zip(offs).zip(xs.iter()) {
                    if !write(&f.ty, x, arena, p.add(off)) {
                        return false;
                    }
                }
            }
            (Ty::Optional(_), Value::Null) => {
                let size = desc(ty).map(|d| d.size()).unwrap_or(1);
                std::ptr::write_bytes(p, 0, size);
            }
            (Ty::Optional(_), v) => {
                wr(p, 0, 1u8);
                let payload = desc(ty).map(|d| d.optional_payload_offset()).unwrap_or(0);
                return write(strip(ty), v, arena, p.add(payload));
            }
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::types::Field;
    use crate::interp::value::equal;

    #[test]
    fn values_round_trip_through_memory() {
        let rec = Ty::Record(Rc::from(vec![
            Field { name: "flag".into(), ty: Ty::Bool },
            Field { name: "n".into(), ty: Ty::Optional(Rc::new(Ty::Int)) },
            Field { name: "tags".into(), ty: Ty::list(Ty::Str) },
            Field { name: "v".into(), ty: Ty::Vec(3) },
            Field { name: "x".into(), ty: Ty::Float },
        ]));
        let ty = Ty::list(Ty::Optional(Rc::new(rec)));
        let r = |n: Value| {
            Value::record(vec![
                Value::Bool(true),
                n,
                Value::list(vec![Value::str("a"), Value::str("héllo")]),
                Value::Vec(Rc::from(vec![1.0f32, -2.5, 3.0])),
                Value::Float(0.1),
            ])
        };
        let v = Value::list(vec![r(Value::Int(7)), Value::Null, r(Value::Null)]);
        let mut arena = Arena::new();
        let size = desc(&ty).unwrap().size();
        let p = arena.alloc_zeroed(size, 8);
        // SAFETY: `p` holds `size` bytes; the read happens while the arena lives.
        let back = unsafe {
            assert!(write(&ty, &v, &mut arena, p));
            read(&ty, p)
        };
        assert!(equal(&v, &back), "{back:?}");
    }
}
