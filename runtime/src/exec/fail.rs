//! The words of a failing record (LANGUAGE.md §1.6), defined once. The interpreter builds
//! its messages with these functions, and generated code reports a failure through
//! [`kiln_fail_at`], which builds the same message from the values at hand, so both engines
//! say exactly the same thing without compiled code ever calling back into the compiler.
//!
//! The failure path is cold: where a message needs more than the failing values (the
//! exact total of an int list, why a text is not a number), it is computed again here
//! from the operands.

use super::abi::{RowCtx, kiln_fail};
use crate::textdef::{self, NumErr};

/// What failed. Each kind says what `kiln_fail_at`'s three operands `a`, `b`, `c` hold.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailKind {
    /// `a OP b` overflowed; `c` is the operator ([`BinSym`]).
    IntBinary = 0,
    /// `-(a)` overflowed.
    Neg = 1,
    /// `abs(a)` overflowed.
    Abs = 2,
    /// `a // 0` or `a % 0`; `c` is the operator ([`BinSym`]).
    DivZero = 3,
    /// Index `a` of a list (`c` = 0) or a vector (`c` = 1) of `b` elements.
    Index = 4,
    /// `vec[a](xs)` of a list of `b` numbers.
    VecLen = 5,
    /// `int(x)` with `x = f64::from_bits(a)` not in the int range.
    IntOfFloat = 6,
    /// `parse_int(s)`: `s` is `b` bytes at `a`.
    ParseInt = 7,
    /// `parse_float(s)`: `s` is `b` bytes at `a`.
    ParseFloat = 8,
    /// `min` (`c` = 0), `max` (1) or `mean` (2) of an empty list.
    EmptyList = 9,
    /// `sum` of `b` ints at `a` whose exact total does not fit in int.
    ListSum = 10,
    /// The chunk's memory ran out while evaluating an expression.
    OutOfMemory = 11,
    /// `batch(xs, a)` with `a < 1`.
    BatchSize = 12,
    /// `range(a, b)` as a list longer than [`crate::listany::MAX_RANGE_LIST`].
    RangeSize = 13,
    /// A call of a fn or prompt nested deeper than [`MAX_CALL_DEPTH`].
    CallDepth = 14,
}

/// How deeply calls of user fns and prompts may nest (both engines).
pub const MAX_CALL_DEPTH: i64 = 10_000;

impl FailKind {
    pub const ALL: [FailKind; 15] = [
        FailKind::IntBinary,
        FailKind::Neg,
        FailKind::Abs,
        FailKind::DivZero,
        FailKind::Index,
        FailKind::VecLen,
        FailKind::IntOfFloat,
        FailKind::ParseInt,
        FailKind::ParseFloat,
        FailKind::EmptyList,
        FailKind::ListSum,
        FailKind::OutOfMemory,
        FailKind::BatchSize,
        FailKind::RangeSize,
        FailKind::CallDepth,
    ];

    pub fn from_u32(k: u32) -> Option<FailKind> {
        FailKind::ALL.get(k as usize).copied()
    }
}

/// The int operators that can fail, as `FailKind::IntBinary` / `DivZero` encode them.
#[repr(i64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinSym {
    Add = 0,
    Sub = 1,
    Mul = 2,
    FloorDiv = 3,
    Mod = 4,
}

impl BinSym {
    pub fn from_i64(c: i64) -> BinSym {
        match c {
            0 => BinSym::Add,
            1 => BinSym::Sub,
            2 => BinSym::Mul,
            3 => BinSym::FloorDiv,
            _ => BinSym::Mod,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            BinSym::Add => "+",
            BinSym::Sub => "-",
            BinSym::Mul => "*",
            BinSym::FloorDiv => "//",
            BinSym::Mod => "%",
        }
    }
}

/// `integer overflow: <what>`.
pub fn overflow(what: impl std::fmt::Display) -> String {
    format!("integer overflow: {what}")
}

/// `a // 0` / `a % 0`.
pub fn div_zero(a: i64, sym: BinSym) -> String {
    let what = if sym == BinSym::Mod { "modulo" } else { "division" };
    format!("integer {what} by zero: {a} {} 0", sym.text())
}

/// `xs[i]` out of range; `vector` tells a vector from a list.
pub fn index(i: i64, len: u64, vector: bool) -> String {
    let what = if vector { "vector" } else { "list" };
    let s = if len == 1 { "" } else { "s" };
    format!("index {i} is out of range for a {what} of {len} element{s}")
}

/// `vec[n](xs)` of a list of another length.
pub fn vec_len(n: u64, found: u64) -> String {
    format!("`vec[{n}](xs)` needs a list of {n} numbers, found {found}")
}

/// `int(x)` of a float outside the int range (or NaN).
pub fn int_of_float(x: f64) -> String {
    let what = if x.is_nan() {
        "NaN".to_string()
    } else {
        let mut b = Vec::with_capacity(24);
        crate::io::format_f64(&mut b, x);
        String::from_utf8_lossy(&b).into_owned()
    };
    format!("`int` of {what}: not a number in the range of int")
}

/// `parse_int` / `parse_float` of a text that is not such a number; `what` is
/// `"an integer"` or `"a number"`.
pub fn parse(s: &str, what: &str, e: &NumErr) -> String {
    match e {
        NumErr::NotANumber => format!("cannot parse \"{}\" as {what}", textdef::shorten(s)),
        NumErr::OutOfRange => format!("\"{}\" is out of range for {what}", textdef::shorten(s)),
    }
}

/// `min` / `max` / `mean` of an empty list.
pub fn empty_list(name: &str) -> String {
    format!("`{name}` of an empty list")
}

/// `batch(n)` with `n < 1`.
pub fn batch_size(n: i64) -> String {
    format!("`batch` needs a positive size, found {n}")
}

/// `range(lo, hi)` as a list that would be too long.
pub fn range_size(lo: i64, hi: i64) -> String {
    let n = hi.saturating_sub(lo).max(0);
    let max = crate::listany::MAX_RANGE_LIST;
    format!("`range({lo}, {hi})` as a list would hold {n} elements (at most {max})")
}

/// A call nested deeper than [`MAX_CALL_DEPTH`].
pub fn call_depth() -> String {
    format!("calls nested more than {MAX_CALL_DEPTH} deep (a recursion that does not end?)")
}

/// The message of failure `kind` with operands `a`, `b`, `c` (see [`FailKind`]).
///
/// # Safety
/// For `ParseInt` / `ParseFloat`, `a` addresses `b` readable bytes (or `b` is 0); for
/// `ListSum`, `a` addresses `b` readable `i64`s (or `b` is 0).
pub unsafe fn message(kind: FailKind, a: i64, b: i64, c: i64) -> String {
    match kind {
        FailKind::IntBinary => {
            let sym = BinSym::from_i64(c);
            overflow(format_args!("{a} {} {b}", sym.text()))
        }
        FailKind::Neg => overflow(format_args!("-({a})")),
        FailKind::Abs => overflow(format_args!("abs({a})")),
        FailKind::DivZero => div_zero(a, BinSym::from_i64(c)),
        FailKind::Index => index(a, b as u64, c != 0),
        FailKind::VecLen => vec_len(a as u64, b as u64),
        FailKind::IntOfFloat => int_of_float(f64::from_bits(a as u64)),
        FailKind::ParseInt | FailKind::ParseFloat => {
            // SAFETY: per the contract, `a` addresses `b` bytes.
            let bytes = unsafe { bytes(a as *const u8, b as usize) };
            let s = String::from_utf8_lossy(bytes);
            let (what, err) = if kind == FailKind::ParseInt {
                ("an integer", textdef::parse_int(&s).err())
            } else {
                ("a number", textdef::parse_float(&s).err())
            };
            parse(&s, what, &err.unwrap_or(NumErr::NotANumber))
        }
        FailKind::EmptyList => empty_list(match c {
            0 => "min",
            1 => "max",
            _ => "mean",
        }),
        FailKind::ListSum => {
            let n = b as usize;
            let p = a as *const i64;
            let xs: &[i64] = if n == 0 || p.is_null() {
                &[]
            } else {
                // SAFETY: per the contract, `a` addresses `b` ints.
                unsafe { std::slice::from_raw_parts(p, n) }
            };
            super::agg::sum_overflow(xs.iter().map(|&x| i128::from(x)).sum())
        }
        FailKind::OutOfMemory => "internal error: out of memory".to_string(),
        FailKind::BatchSize => batch_size(a),
        FailKind::RangeSize => range_size(a, b),
        FailKind::CallDepth => call_depth(),
    }
}

/// # Safety
/// `p` addresses `len` readable bytes, or `len` is 0.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || p.is_null() {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts(p, len) }
}

/// Called by generated code where a row fails: records failure site `site` with the
/// message of `kind` for operands `a`, `b`, `c` (see [`FailKind`]) and returns 1, like
/// [`kiln_fail`].
///
/// # Safety
/// `ctx` as for [`kiln_fail`]; the operands as for [`message`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_fail_at(
    ctx: *mut RowCtx,
    site: u32,
    kind: u32,
    a: i64,
    b: i64,
    c: i64,
) -> u32 {
    let msg = std::panic::catch_unwind(|| match FailKind::from_u32(kind) {
        // SAFETY: forwarded from the caller.
        Some(k) => unsafe { message(k, a, b, c) },
        None => format!("internal error: unknown failure kind {kind}"),
    })
    .unwrap_or_else(|_| "internal error: a failure message could not be built".to_string());
    // SAFETY: `ctx` per the contract; `msg` is a live string.
    unsafe { kiln_fail(ctx, site, msg.as_ptr(), msg.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_documented() {
        // SAFETY: no pointers among these operands.
        let m = |k, a, b, c| unsafe { message(k, a, b, c) };
        assert_eq!(
            m(FailKind::IntBinary, i64::MAX, 1, 0),
            "integer overflow: 9223372036854775807 + 1"
        );
        assert_eq!(m(FailKind::Neg, i64::MIN, 0, 0), "integer overflow: -(-9223372036854775808)");
        assert_eq!(m(FailKind::DivZero, 7, 0, 4), "integer modulo by zero: 7 % 0");
        assert_eq!(
            m(FailKind::Index, -1, 1, 0),
            "index -1 is out of range for a list of 1 element"
        );
        assert_eq!(
            m(FailKind::Index, 3, 2, 1),
            "index 3 is out of range for a vector of 2 elements"
        );
        assert_eq!(
            m(FailKind::IntOfFloat, 1e19f64.to_bits() as i64, 0, 0),
            "`int` of 1e19: not a number in the range of int"
        );
        assert_eq!(m(FailKind::EmptyList, 0, 0, 2), "`mean` of an empty list");
        let s = "4x";
        assert_eq!(
            m(FailKind::ParseInt, s.as_ptr() as i64, 2, 0),
            "cannot parse \"4x\" as an integer"
        );
        let xs = [i64::MAX, 1];
        assert_eq!(
            m(FailKind::ListSum, xs.as_ptr() as i64, 2, 0),
            "integer overflow: the sum 9223372036854775808 does not fit in int"
        );
        for k in FailKind::ALL {
            assert_eq!(FailKind::from_u32(k as u32), Some(k));
        }
    }
}
