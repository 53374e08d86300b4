//! How checked types map onto the runtime's memory layout ([`kiln_runtime::layout`]) and
//! onto Cranelift SSA values.
//!
//! A value in generated code is a short list of Cranelift values (its *shape*):
//!
//! | type | shape |
//! |---|---|
//! | `int` / `float` / `bool` | `i64` / `f64` / `i8` |
//! | `str`, `[T]` | pointer, `i64` length |
//! | `vec[N]`, record | pointer (records live in memory, laid out as in the runtime) |
//! | `T?` | `i8` tag (1 = present), then T's shape (zeros when absent) |

use crate::check::types::Ty;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, condcodes::IntCC, types};
use cranelift_frontend::FunctionBuilder;
use kiln_runtime::layout::TypeDesc;

/// The runtime's description of `ty`; `None` for types that have no run-time values
/// (`null` alone, `[]` alone, streams, functions, errors).
pub fn desc(ty: &Ty) -> Option<TypeDesc> {
    Some(match ty {
        Ty::Int => TypeDesc::Int,
        Ty::Float => TypeDesc::Float,
        Ty::Bool => TypeDesc::Bool,
        Ty::Str => TypeDesc::Str,
        Ty::List(t) => TypeDesc::List(Box::new(desc(t)?)),
        Ty::Vec(n) => TypeDesc::Vec(*n),
        Ty::Record(fs) => TypeDesc::Record(
            fs.iter().map(|f| Some((f.name.to_string(), desc(&f.ty)?))).collect::<Option<_>>()?,
        ),
        Ty::Optional(t) => match &**t {
            Ty::Optional(_) => desc(t)?,
            inner => TypeDesc::Optional(Box::new(desc(inner)?)),
        },
        Ty::Null | Ty::Never | Ty::Stream(_) | Ty::Fn(..) | Ty::Error => return None,
    })
}

/// The Cranelift types of a value of `ty` (see the module docs).
pub fn shape(ty: &Ty, ptr: Type) -> Vec<Type> {
    match ty {
        Ty::Int => vec![types::I64],
        Ty::Float => vec![types::F64],
        Ty::Bool => vec![types::I8],
        Ty::Str | Ty::List(_) => vec![ptr, types::I64],
        Ty::Optional(t) => {
            let mut v = vec![types::I8];
            v.extend(shape(strip(t), ptr));
            v
        }
        _ => vec![ptr],
    }
}

/// `T??` is `T?`.
pub fn strip(ty: &Ty) -> &Ty {
    match ty {
        Ty::Optional(t) => strip(t),
        t => t,
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Zero values of a shape (the payload of an absent optional).
pub fn zeros(b: &mut FunctionBuilder, shape: &[Type]) -> Vec<Value> {
    shape
        .iter()
        .map(|&t| if t == types::F64 { b.ins().f64const(0.0) } else { b.ins().iconst(t, 0) })
        .collect()
}

/// Reads a value of type `ty` stored at `addr + off`.
pub fn load(b: &mut FunctionBuilder, ty: &Ty, ptr: Type, addr: Value, off: i32) -> Vec<Value> {
    let f = flags();
    match ty {
        Ty::Int => vec![b.ins().load(types::I64, f, addr, off)],
        Ty::Float => vec![b.ins().load(types::F64, f, addr, off)],
        Ty::Bool => vec![b.ins().load(types::I8, f, addr, off)],
        Ty::Str | Ty::List(_) => {
            vec![b.ins().load(ptr, f, addr, off), b.ins().load(types::I64, f, addr, off + 8)]
        }
        Ty::Vec(_) => vec![b.ins().load(ptr, f, addr, off)],
        Ty::Optional(t) => {
            let inner = strip(t);
            let d = desc(ty).expect("an optional of a run-time type");
            let payload = d.optional_payload_offset() as i32;
            let tag = b.ins().load(types::I8, f, addr, off);
            let mut v = vec![tag];
            match inner {
                // A record payload is addressed in place; an absent one is a null pointer.
                Ty::Record(_) => {
                    let p = b.ins().iadd_imm_s(addr, i64::from(off + payload));
                    let zero = b.ins().iconst(ptr, 0);
                    v.push(b.ins().select(tag, p, zero));
                }
                _ => v.extend(load(b, inner, ptr, addr, off + payload)),
            }
            v
        }
        // Records (and anything else with a pointer shape) are addressed in place.
        _ => vec![b.ins().iadd_imm_s(addr, i64::from(off))],
    }
}

/// Writes `vals` (a value of type `ty`) at `addr + off`. Records are copied byte for byte.
pub fn store(
    b: &mut FunctionBuilder,
    cfg: cranelift_codegen::isa::TargetFrontendConfig,
    ty: &Ty,
    vals: &[Value],
    addr: Value,
    off: i32,
) {
    let f = flags();
    match ty {
        Ty::Int | Ty::Float | Ty::Bool | Ty::Vec(_) => {
            b.ins().store(f, vals[0], addr, off);
        }
        Ty::Str | Ty::List(_) => {
            b.ins().store(f, vals[0], addr, off);
            b.ins().store(f, vals[1], addr, off + 8);
        }
        Ty::Optional(t) => {
            let inner = strip(t);
            let d = desc(ty).expect("an optional of a run-time type");
            let payload = d.optional_payload_offset() as i32;
            b.ins().store(f, vals[0], addr, off);
            match inner {
                Ty::Record(_) => {
                    // Copy only a present record (an absent one has a null pointer).
                    let copy = b.create_block();
                    let done = b.create_block();
                    b.ins().brif(vals[0], copy, &[], done, &[]);
                    b.switch_to_block(copy);
                    b.seal_block(copy);
                    store(b, cfg, inner, &vals[1..], addr, off + payload);
                    b.ins().jump(done, &[]);
                    b.switch_to_block(done);
                    b.seal_block(done);
                }
                _ => store(b, cfg, inner, &vals[1..], addr, off + payload),
            }
        }
        Ty::Record(_) => {
            let Some(d) = desc(ty) else { return };
            let (size, align) = (d.size() as u64, d.align() as u8);
            let dst = b.ins().iadd_imm_s(addr, i64::from(off));
            if size > 0 {
                // The record's own alignment: a record of `bool`s is 1-aligned (and may
                // be smaller than 8 bytes).
                b.emit_small_memory_copy(cfg, dst, vals[0], size, align, align, true, f);
            }
        }
        _ => {}
    }
}

/// The tag of an optional value is set.
pub fn present(b: &mut FunctionBuilder, tag: Value) -> Value {
    b.ins().icmp_imm_s(IntCC::NotEqual, tag, 0)
}
