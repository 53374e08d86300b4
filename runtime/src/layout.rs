//! How Kiln values are laid out in memory: the contract between generated code, the
//! runtime's readers and writers, and the compiler (which computes field offsets with the
//! same functions). C-like: fields in declaration order at their natural alignment.
//!
//! | type | layout | size / align |
//! |---|---|---|
//! | `int` | `i64` | 8 / 8 |
//! | `float` | `f64` | 8 / 8 |
//! | `bool` | `u8`, 0 or 1 | 1 / 1 |
//! | `str` | [`KStr`]: pointer to UTF-8 bytes + byte length | 16 / 8 |
//! | `[T]` | [`KList`]: pointer to `len` elements of T's stride + length | 16 / 8 |
//! | `vec[N]` | pointer to N `f32` (32-byte aligned) | 8 / 8 |
//! | record | fields in order, each at its alignment; size rounded up to the alignment | |
//! | `T?` | a `u8` tag (1 = present) then T at T's alignment | |
//!
//! Pointed-to memory (string bytes, list elements, vectors) lives in the chunk's arena or
//! in the input buffer, and is valid until the chunk is finished.

/// A string value: `len` bytes of UTF-8 at `ptr`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KStr {
    pub ptr: *const u8,
    pub len: u64,
}

/// A list value: `len` elements at `ptr`, each `stride` bytes apart (the stride is known
/// statically from the element type).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KList {
    pub ptr: *mut u8,
    pub len: u64,
}

/// A value type as the runtime sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TypeDesc {
    Int,
    Float,
    Bool,
    Str,
    List(Box<TypeDesc>),
    Vec(u32),
    Record(Vec<(String, TypeDesc)>),
    Optional(Box<TypeDesc>),
}

impl TypeDesc {
    pub fn size(&self) -> usize {
        match self {
            TypeDesc::Int | TypeDesc::Float | TypeDesc::Vec(_) => 8,
            TypeDesc::Bool => 1,
            TypeDesc::Str | TypeDesc::List(_) => 16,
            TypeDesc::Record(fields) => {
                let mut off = 0;
                let mut align = 1;
                for (_, t) in fields {
                    off = round_up(off, t.align()) + t.size();
                    align = align.max(t.align());
                }
                round_up(off, align)
            }
            TypeDesc::Optional(t) => round_up(round_up(1, t.align()) + t.size(), t.align()),
        }
    }

    pub fn align(&self) -> usize {
        match self {
            TypeDesc::Bool => 1,
            TypeDesc::Record(fields) => fields.iter().map(|(_, t)| t.align()).max().unwrap_or(1),
            TypeDesc::Optional(t) => t.align(),
            _ => 8,
        }
    }

    /// The distance between consecutive list elements of this type.
    pub fn stride(&self) -> usize {
        round_up(self.size(), self.align())
    }

    /// Byte offsets of a record's fields, in declaration order.
    pub fn field_offsets(&self) -> Vec<usize> {
        let TypeDesc::Record(fields) = self else {
            return Vec::new();
        };
        let mut off = 0;
        fields
            .iter()
            .map(|(_, t)| {
                off = round_up(off, t.align());
                let here = off;
                off += t.size();
                here
            })
            .collect()
    }

    /// Where an optional's value starts, after its tag byte.
    pub fn optional_payload_offset(&self) -> usize {
        match self {
            TypeDesc::Optional(t) => round_up(1, t.align()),
            _ => 0,
        }
    }
}

pub fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout_is_c_like() {
        let t = TypeDesc::Record(vec![
            ("flag".into(), TypeDesc::Bool),
            ("id".into(), TypeDesc::Int),
            ("name".into(), TypeDesc::Str),
            ("b".into(), TypeDesc::Bool),
        ]);
        assert_eq!(t.field_offsets(), vec![0, 8, 16, 32]);
        assert_eq!(t.size(), 40);
        assert_eq!(t.align(), 8);
    }

    #[test]
    fn optionals_put_the_tag_first() {
        let o = TypeDesc::Optional(Box::new(TypeDesc::Int));
        assert_eq!((o.size(), o.optional_payload_offset()), (16, 8));
        let b = TypeDesc::Optional(Box::new(TypeDesc::Bool));
        assert_eq!((b.size(), b.optional_payload_offset()), (2, 1));
    }
}
