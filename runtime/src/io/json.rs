//! JSONL decoding specialized to a declared type. [`JsonDecoder::new`] compiles a plan once
//! (record fields → offset and sub-plan, looked up by a small hash of the key); `decode`
//! then reads one line straight into a record buffer laid out as in [`crate::layout`], in a
//! single pass, with no allocation except arena memory for values that need it.
//!
//! - Keys not in the plan are skipped: their values are validated as JSON, not stored.
//! - A missing key or a JSON `null` gives `null` for `T?` (tag 0) and an error otherwise.
//! - `int` takes JSON integers only (`1.5`, `1e3` and integers beyond i64 are errors);
//!   `float` takes any JSON number (one overflowing to infinity is an error); `vec[N]`
//!   takes an array of exactly N numbers, each rounded once to f32.
//! - Strings without escapes point into the input line; others are unescaped into the
//!   arena. The line must be valid UTF-8 (checked once, up front).
//! - A key that appears twice: the last one wins.

use super::RecordError;
use super::num::{self, NumError};
use crate::arena::Arena;
use crate::layout::{KList, KStr, TypeDesc};

/// How deep unread values may nest before the line is rejected (keeps the stack bounded).
const MAX_SKIP_DEPTH: u32 = 128;

/// A decoder for one declared type. Immutable after construction: share it between threads.
#[derive(Debug)]
pub struct JsonDecoder {
    plan: Plan,
    size: usize,
}

#[derive(Debug)]
enum Plan {
    Int,
    Float,
    Bool,
    Str,
    List { elem: Box<Plan>, stride: usize, align: usize },
    Vec(usize),
    Record(Box<RecordPlan>),
    Optional { payload: usize, inner: Box<Plan> },
}

#[derive(Debug)]
struct RecordPlan {
    fields: Vec<FieldPlan>,
    /// Open-addressing table: slot → field index + 1 (0 = empty).
    table: Vec<u32>,
    size: usize,
}

#[derive(Debug)]
struct FieldPlan {
    name: String,
    offset: usize,
    size: usize,
    optional: bool,
    /// False for a field the program never reads: its value is decoded and checked, but
    /// the row keeps zeros (an empty string or list, no payload), so nothing copies it.
    keep: bool,
    plan: Plan,
}

fn slot_of(key: &[u8], mask: usize) -> usize {
    let n = key.len();
    let first = key.first().copied().unwrap_or(0) as usize;
    let last = key.last().copied().unwrap_or(0) as usize;
    let mid = key.get(n / 2).copied().unwrap_or(0) as usize;
    (n.wrapping_mul(0x9E37)
        ^ first.wrapping_mul(0x2F)
        ^ last.wrapping_mul(0x3B1)
        ^ mid.wrapping_mul(0x61))
    .wrapping_add(n >> 3)
        & mask
}

impl RecordPlan {
    fn new(fields: &[(String, TypeDesc)], size: usize, offsets: &[usize]) -> RecordPlan {
        let fields: Vec<FieldPlan> = fields
            .iter()
            .zip(offsets)
            .map(|((name, t), &offset)| FieldPlan {
                name: name.clone(),
                offset,
                size: t.size(),
                optional: matches!(t, TypeDesc::Optional(_)),
                keep: true,
                plan: Plan::new(t),
            })
            .collect();
        let cap = (fields.len() * 4).next_power_of_two().max(8);
        let mut table = vec![0u32; cap];
        for (i, f) in fields.iter().enumerate() {
            let mut s = slot_of(f.name.as_bytes(), cap - 1);
            // A later duplicate name (which the type checker rejects) is simply unreachable.
            while table.get(s).is_some_and(|&e| e != 0) {
                s = (s + 1) & (cap - 1);
            }
            if let Some(e) = table.get_mut(s) {
                *e = i as u32 + 1;
            }
        }
        RecordPlan { fields, table, size }
    }

    #[inline]
    fn lookup(&self, key: &[u8]) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut s = slot_of(key, mask);
        loop {
            let e = *self.table.get(s)? as usize;
            if e == 0 {
                return None;
            }
            if self.fields.get(e - 1)?.name.as_bytes() == key {
                return Some(e - 1);
            }
            s = (s + 1) & mask;
        }
    }
}

impl Plan {
    fn new(t: &TypeDesc) -> Plan {
        match t {
            TypeDesc::Int => Plan::Int,
            TypeDesc::Float => Plan::Float,
            TypeDesc::Bool => Plan::Bool,
            TypeDesc::Str => Plan::Str,
            TypeDesc::Vec(n) => Plan::Vec(*n as usize),
            TypeDesc::List(e) => {
                Plan::List { elem: Box::new(Plan::new(e)), stride: e.stride(), align: e.align() }
            }
            TypeDesc::Record(fields) => {
                Plan::Record(Box::new(RecordPlan::new(fields, t.size(), &t.field_offsets())))
            }
            TypeDesc::Optional(inner) => Plan::Optional {
                payload: t.optional_payload_offset(),
                inner: Box::new(Plan::new(inner)),
            },
        }
    }

    fn expected(&self) -> String {
        match self {
            Plan::Int => "an integer".into(),
            Plan::Float => "a number".into(),
            Plan::Bool => "true or false".into(),
            Plan::Str => "a string".into(),
            Plan::List { .. } => "an array".into(),
            Plan::Vec(n) => format!("an array of {n} numbers"),
            Plan::Record(_) => "an object".into(),
            Plan::Optional { inner, .. } => format!("{} or null", inner.expected()),
        }
    }
}

impl JsonDecoder {
    /// Compiles a decoder for values of type `ty` (usually a record holding only the fields
    /// the program reads).
    pub fn new(ty: &TypeDesc) -> JsonDecoder {
        JsonDecoder { plan: Plan::new(ty), size: ty.size() }
    }

    /// The decoder for records whose top-level fields `unread` (indices) the program never
    /// reads: they are decoded and type-checked as usual (a bad value is still a record
    /// error) but not stored.
    pub fn with_unread(mut self, unread: &[usize]) -> JsonDecoder {
        if let Plan::Record(rec) = &mut self.plan {
            for &i in unread {
                if let Some(f) = rec.fields.get_mut(i) {
                    f.keep = false;
                }
            }
        }
        self
    }

    /// The size of the buffer `decode` fills.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Decodes one line (without its newline) into `out`, which must hold at least
    /// [`size`](Self::size) bytes. Strings may point into `line` or into `arena`: both must
    /// outlive the decoded value. On error, `out` holds an unspecified but harmless value.
    pub fn decode(
        &self,
        line: &[u8],
        out: &mut [u8],
        arena: &mut Arena,
    ) -> Result<(), RecordError> {
        let out = super::decode_target(out, self.size, line)?;
        let mut p = Parser { s: line, i: 0, arena };
        let r = p.value(&self.plan, out).and_then(|()| {
            p.ws();
            if p.i < p.s.len() {
                Err(p.syntax("unexpected characters after the value"))
            } else {
                Ok(())
            }
        });
        r.map_err(|f| RecordError::new(f.render()))
    }
}

#[derive(Debug)]
enum Seg {
    Field(String),
    Index(usize),
}

#[derive(Debug)]
enum FailKind {
    Syntax,
    Type,
    Missing,
}

#[derive(Debug)]
struct Fail {
    kind: FailKind,
    message: String,
    /// Innermost segment first.
    path: Vec<Seg>,
}

type PResult<T> = Result<T, Box<Fail>>;

impl Fail {
    fn render(&self) -> String {
        let mut path = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                Seg::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Seg::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        match self.kind {
            FailKind::Missing => format!("missing field `{path}`"),
            FailKind::Syntax => self.message.clone(),
            FailKind::Type if path.is_empty() => self.message.clone(),
            FailKind::Type => format!("field `{path}`: {}", self.message),
        }
    }
}

fn with_seg<T>(r: PResult<T>, seg: impl FnOnce() -> Seg) -> PResult<T> {
    r.map_err(|mut f| {
        f.path.push(seg());
        f
    })
}

/// Writes `bytes` at `off` in `out` (in range by construction of the layout).
#[inline]
fn put(out: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(d) = out.get_mut(off..off + bytes.len()) {
        d.copy_from_slice(bytes);
    }
}

fn put_kstr(out: &mut [u8], ptr: *const u8, len: usize) {
    put(out, 0, &(ptr as usize).to_ne_bytes());
    put(out, 8, &(len as u64).to_ne_bytes());
    debug_assert_eq!(std::mem::size_of::<KStr>(), 16);
}

fn put_klist(out: &mut [u8], ptr: *mut u8, len: usize) {
    put(out, 0, &(ptr as usize).to_ne_bytes());
    put(out, 8, &(len as u64).to_ne_bytes());
    debug_assert_eq!(std::mem::size_of::<KList>(), 16);
}

/// Finds the first `"`, `\` or control byte (< 0x20) in `s`: sixteen bytes at a time with
/// SSE2 (part of the x86-64 baseline), eight at a time with SWAR elsewhere and at the tail.
#[inline]
pub(crate) fn find_special(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are available on
        // every x86-64 CPU; they only compute on values.
        let (quote, backslash, ctrl) =
            unsafe { (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1F)) };
        while let Some(w) = s.get(i..i + 16) {
            // SAFETY: as above, and `w` holds 16 readable bytes; the unaligned load has no
            // alignment requirement.
            let mask = unsafe {
                let x = _mm_loadu_si128(w.as_ptr().cast::<__m128i>());
                let hit = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                    // max(x, 0x1F) == 0x1F exactly when x <= 0x1F (unsigned).
                    _mm_cmpeq_epi8(_mm_max_epu8(x, ctrl), ctrl),
                );
                _mm_movemask_epi8(hit)
            };
            if mask != 0 {
                return Some(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    find_special_swar(s, i)
}

/// [`find_special`] from `i` on, eight bytes at a time.
#[inline]
fn find_special_swar(s: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(w) = s.get(i..i + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b);
        let q = x ^ (ONES * u64::from(b'"'));
        let bs = x ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero after the xor (so equal to the character), or
        // below 0x20. The lowest flagged byte is exact (borrows only propagate upward).
        let m = (q.wrapping_sub(ONES) & !q)
            | (bs.wrapping_sub(ONES) & !bs)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let m = m & HIGH;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|j| i + j)
}

struct Parser<'a, 'r> {
    s: &'a [u8],
    i: usize,
    arena: &'r mut Arena,
}

impl<'a> Parser<'a, '_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn syntax(&self, what: &str) -> Box<Fail> {
        let message = if self.i >= self.s.len() {
            format!("invalid JSON: {what} (the line ends early)")
        } else {
            format!("invalid JSON at column {}: {what}", self.i + 1)
        };
        Box::new(Fail { kind: FailKind::Syntax, message, path: Vec::new() })
    }

    fn type_error(&mut self, message: String) -> Box<Fail> {
        Box::new(Fail { kind: FailKind::Type, message, path: Vec::new() })
    }

    fn oom(&mut self) -> Box<Fail> {
        Box::new(Fail { kind: FailKind::Syntax, message: "out of memory".into(), path: Vec::new() })
    }

    /// Error for a value that is not what `plan` wants; describes the value found.
    fn mismatch(&mut self, plan: &Plan) -> Box<Fail> {
        let start = self.i;
        if let Err(e) = self.skip(0) {
            return e;
        }
        let raw = self.s.get(start..self.i).unwrap_or(&[]);
        let found = match raw.first() {
            Some(b'{') => "an object".to_string(),
            Some(b'[') => "an array".to_string(),
            _ => shorten(raw),
        };
        self.type_error(format!("expected {}, found {found}", plan.expected()))
    }

    fn literal(&mut self, word: &[u8]) -> PResult<()> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.syntax("expected a value"))
        }
    }

    fn value(&mut self, plan: &Plan, out: &mut [u8]) -> PResult<()> {
        self.ws();
        let c = self.peek();
        match plan {
            Plan::Optional { payload, inner } => {
                if c == Some(b'n') {
                    self.literal(b"null")?;
                    put(out, 0, &[0]);
                    Ok(())
                } else {
                    put(out, 0, &[1]);
                    let payload = out.get_mut(*payload..).unwrap_or(&mut []);
                    self.value(inner, payload)
                }
            }
            Plan::Int => match c {
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    let n = self.number()?;
                    match n.to_i64() {
                        Ok(v) => {
                            put(out, 0, &v.to_ne_bytes());
                            Ok(())
                        }
                        Err(NumError::NotInteger) => {
                            let found = shorten(self.s.get(start..self.i).unwrap_or(&[]));
                            Err(self.type_error(format!("expected an integer, found {found}")))
                        }
                        Err(NumError::Range) => {
                            let found = shorten(self.s.get(start..self.i).unwrap_or(&[]));
                            Err(self.type_error(format!("integer {found} is out of range for int")))
                        }
                    }
                }
                _ => Err(self.mismatch(plan)),
            },
            Plan::Float => match c {
                Some(b'-' | b'0'..=b'9') => {
                    let v = self.float()?;
                    put(out, 0, &v.to_ne_bytes());
                    Ok(())
                }
                _ => Err(self.mismatch(plan)),
            },
            Plan::Bool => match c {
                Some(b't') => {
                    self.literal(b"true")?;
                    put(out, 0, &[1]);
                    Ok(())
                }
                Some(b'f') => {
                    self.literal(b"false")?;
                    put(out, 0, &[0]);
                    Ok(())
                }
                _ => Err(self.mismatch(plan)),
            },
            Plan::Str => match c {
                Some(b'"') => {
                    let (ptr, len) = self.string()?;
                    put_kstr(out, ptr, len);
                    Ok(())
                }
                _ => Err(self.mismatch(plan)),
            },
            Plan::Record(rec) => match c {
                Some(b'{') => self.record(rec, out),
                _ => Err(self.mismatch(plan)),
            },
            Plan::List { elem, stride, align } => match c {
                Some(b'[') => self.list(elem, *stride, *align, out),
                _ => Err(self.mismatch(plan)),
            },
            Plan::Vec(n) => match c {
                Some(b'[') => self.vector(*n, out),
                _ => Err(self.mismatch(plan)),
            },
        }
    }

    fn number(&mut self) -> PResult<num::Scanned> {
        match num::scan(self.s.get(self.i..).unwrap_or(&[])) {
            Some(n) => {
                self.i += n.end;
                Ok(n)
            }
            None => Err(self.syntax("invalid number")),
        }
    }

    fn float(&mut self) -> PResult<f64> {
        let start = self.i;
        let n = self.number()?;
        let text = self.s.get(start..self.i).unwrap_or(&[]);
        n.to_f64(text).map_err(|_| {
            let found = shorten(text);
            Box::new(Fail {
                kind: FailKind::Type,
                message: format!("number {found} is out of range for float"),
                path: vec![],
            })
        })
    }

    /// A string at `"`: its pointer and length, pointing into the line when it has no
    /// escapes, else into the arena.
    #[inline]
    fn string(&mut self) -> PResult<(*const u8, usize)> {
        let start = self.i + 1;
        let rest = self.s.get(start..).unwrap_or(&[]);
        match find_special(rest) {
            Some(j) if rest.get(j) == Some(&b'"') => {
                self.i = start + j + 1;
                Ok((rest.as_ptr(), j))
            }
            Some(j) if rest.get(j) == Some(&b'\\') => self.escaped_string(start, j),
            Some(j) => {
                self.i = start + j;
                Err(self.syntax("control character in a string (escape it)"))
            }
            None => {
                self.i = self.s.len();
                Err(self.syntax("unterminated string"))
            }
        }
    }

    /// The slow path of `string`: the first escape is at `start + first`.
    #[cold]
    fn escaped_string(&mut self, start: usize, first: usize) -> PResult<(*const u8, usize)> {
        // Find the end first: the unescaped text is never longer than the raw text, so
        // one arena block of the raw length holds it.
        let mut j = start + first;
        loop {
            let rest = self.s.get(j..).unwrap_or(&[]);
            match memchr::memchr2(b'"', b'\\', rest) {
                Some(k) if rest.get(k) == Some(&b'"') => {
                    j += k;
                    break;
                }
                Some(k) => j += k + 2,
                None => {
                    self.i = self.s.len();
                    return Err(self.syntax("unterminated string"));
                }
            }
        }
        let raw = self.s.get(start..j).unwrap_or(&[]);
        let dst = self.arena.alloc(raw.len(), 1);
        if dst.is_null() {
            return Err(self.oom());
        }
        // SAFETY: `dst` is a fresh arena allocation of `raw.len()` bytes, used only here
        // until it is published as a string value; nothing else aliases it.
        let dst = unsafe { std::slice::from_raw_parts_mut(dst, raw.len()) };
        let mut w = 0;
        let mut r = 0;
        while r < raw.len() {
            let Some(rel) = raw.get(r..).and_then(find_special) else {
                break;
            };
            let run = raw.get(r..r + rel).unwrap_or(&[]);
            if let Some(d) = dst.get_mut(w..w + run.len()) {
                d.copy_from_slice(run);
            }
            w += run.len();
            r += rel;
            let c = raw.get(r).copied().unwrap_or(0);
            if c != b'\\' {
                self.i = start + r;
                return Err(self.syntax("control character in a string (escape it)"));
            }
            let e = raw.get(r + 1).copied().unwrap_or(0);
            r += 2;
            let simple = match e {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(8),
                b'f' => Some(12),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(b) = simple {
                if let Some(d) = dst.get_mut(w) {
                    *d = b;
                }
                w += 1;
                continue;
            }
            if e != b'u' {
                self.i = start + r - 1;
                return Err(self.syntax("invalid escape in a string"));
            }
            let Some(hi) = hex4(raw.get(r..)) else {
                self.i = start + r;
                return Err(self.syntax("invalid \\u escape (four hex digits needed)"));
            };
            r += 4;
            let code = if (0xD800..0xDC00).contains(&hi) {
                let lo =
                    if raw.get(r..r + 2) == Some(b"\\u") { hex4(raw.get(r + 2..)) } else { None };
                match lo {
                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                        r += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    _ => {
                        self.i = start + r;
                        return Err(self.syntax("unpaired surrogate in a \\u escape"));
                    }
                }
            } else if (0xDC00..0xE000).contains(&hi) {
                self.i = start + r;
                return Err(self.syntax("unpaired surrogate in a \\u escape"));
            } else {
                hi
            };
            let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut tmp = [0u8; 4];
            let enc = ch.encode_utf8(&mut tmp).as_bytes();
            if let Some(d) = dst.get_mut(w..w + enc.len()) {
                d.copy_from_slice(enc);
            }
            w += enc.len();
        }
        let tail = raw.get(r..).unwrap_or(&[]);
        if let Some(d) = dst.get_mut(w..w + tail.len()) {
            d.copy_from_slice(tail);
        }
        w += tail.len();
        self.i = j + 1;
        Ok((dst.as_ptr(), w))
    }

    fn record(&mut self, rec: &RecordPlan, out: &mut [u8]) -> PResult<()> {
        let len = rec.size.min(out.len());
        let out = &mut out[..len];
        out.fill(0);
        self.i += 1; // '{'
        let n = rec.fields.len();
        let mut seen_small = 0u64;
        let mut seen_big: Vec<bool> = Vec::new();
        if n > 64 {
            seen_big = vec![false; n];
        }
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.syntax("expected a key in double quotes"));
                }
                let (kp, kl) = self.string()?;
                // SAFETY: `string` returns a pointer and length of bytes that are either in
                // `self.s` or in a live arena allocation, both valid for this call.
                let key = unsafe { std::slice::from_raw_parts(kp, kl) };
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.syntax("expected `:` after the key"));
                }
                self.i += 1;
                match rec.lookup(key) {
                    Some(fi) => {
                        let Some(f) = rec.fields.get(fi) else {
                            return Err(self.oom());
                        };
                        if n > 64 {
                            if let Some(s) = seen_big.get_mut(fi) {
                                *s = true;
                            }
                        } else {
                            seen_small |= 1 << fi;
                        }
                        let seg = || Seg::Field(f.name.clone());
                        if f.keep {
                            let slot = out.get_mut(f.offset..f.offset + f.size).unwrap_or(&mut []);
                            with_seg(self.value(&f.plan, slot), seg)?;
                        } else {
                            // Checked, then dropped: the row keeps zeros.
                            let mut small = [0u8; 64];
                            let mut big = Vec::new();
                            let slot = if f.size <= small.len() {
                                &mut small[..f.size]
                            } else {
                                big.resize(f.size, 0);
                                &mut big[..]
                            };
                            with_seg(self.value(&f.plan, slot), seg)?;
                        }
                    }
                    None => self.skip(0)?,
                }
                self.ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.syntax("expected `,` or `}` in an object")),
                }
            }
        }
        for (fi, f) in rec.fields.iter().enumerate() {
            let seen = if n > 64 {
                seen_big.get(fi).copied().unwrap_or(false)
            } else {
                seen_small & (1 << fi) != 0
            };
            if !seen && !f.optional {
                return Err(Box::new(Fail {
                    kind: FailKind::Missing,
                    message: String::new(),
                    path: vec![Seg::Field(f.name.clone())],
                }));
            }
        }
        Ok(())
    }

    fn list(&mut self, elem: &Plan, stride: usize, align: usize, out: &mut [u8]) -> PResult<()> {
        self.i += 1; // '['
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            put_klist(out, self.arena.alloc(0, align), 0);
            return Ok(());
        }
        let mut cap = 4usize;
        let mut len = 0usize;
        let mut buf = self.arena.alloc(cap * stride, align);
        if buf.is_null() {
            return Err(self.oom());
        }
        loop {
            if len == cap {
                let bigger = self.arena.alloc(cap * 2 * stride, align);
                if bigger.is_null() {
                    return Err(self.oom());
                }
                // SAFETY: both are arena allocations, the old one of `cap * stride` bytes
                // (all initialized: `len == cap` elements were decoded) and the new one
                // twice as large; distinct allocations never overlap.
                unsafe { std::ptr::copy_nonoverlapping(buf, bigger, cap * stride) };
                buf = bigger;
                cap *= 2;
            }
            // SAFETY: element `len` lies inside the allocation of `cap * stride` bytes
            // (len < cap), which nothing else references while the list is built.
            let slot = unsafe { std::slice::from_raw_parts_mut(buf.add(len * stride), stride) };
            slot.fill(0);
            with_seg(self.value(elem, slot), || Seg::Index(len))?;
            len += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.syntax("expected `,` or `]` in an array")),
            }
        }
        put_klist(out, buf, len);
        Ok(())
    }

    fn vector(&mut self, n: usize, out: &mut [u8]) -> PResult<()> {
        self.i += 1; // '['
        let Some(bytes) = n.checked_mul(4) else {
            return Err(self.oom());
        };
        let buf = self.arena.alloc(bytes, 32);
        if buf.is_null() {
            return Err(self.oom());
        }
        // SAFETY: a fresh arena allocation of `4 * n` bytes, 32-byte aligned, written only
        // through this slice until it is published.
        let dst = unsafe { std::slice::from_raw_parts_mut(buf, bytes) };
        let mut k = 0usize;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                    let e = self.mismatch(&Plan::Float);
                    return with_seg(Err(e), || Seg::Index(k));
                }
                let start = self.i;
                let sc = self.number()?;
                let text = self.s.get(start..self.i).unwrap_or(&[]);
                if k < n {
                    match sc.to_f32(text) {
                        Ok(v) => put(dst, k * 4, &v.to_ne_bytes()),
                        Err(_) => {
                            let found = shorten(text);
                            let e =
                                self.type_error(format!("number {found} is out of range for f32"));
                            return with_seg(Err(e), || Seg::Index(k));
                        }
                    }
                }
                k += 1;
                self.ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.syntax("expected `,` or `]` in an array")),
                }
            }
        }
        if k != n {
            return Err(self.type_error(format!("expected an array of {n} numbers, found {k}")));
        }
        put(out, 0, &(buf as usize).to_ne_bytes());
        Ok(())
    }

    /// Skips (and validates) one value.
    fn skip(&mut self, depth: u32) -> PResult<()> {
        if depth > MAX_SKIP_DEPTH {
            return Err(self.syntax(&format!("values nested deeper than {MAX_SKIP_DEPTH} levels")));
        }
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.syntax("expected `,` or `]` in an array")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.syntax("expected a key in double quotes"));
                    }
                    self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.syntax("expected `:` after the key"));
                    }
                    self.i += 1;
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.syntax("expected `,` or `}` in an object")),
                    }
                }
            }
            _ => Err(self.syntax("expected a value")),
        }
    }
}

fn hex4(s: Option<&[u8]>) -> Option<u32> {
    let s = s?.get(..4)?;
    let mut v = 0u32;
    for &c in s {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Raw JSON text for a message, cut to about 40 characters.
fn shorten(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_special_agrees_with_a_plain_search() {
        let alphabet = [b'a', b'"', b'\\', 0, 0x1F, 0x20, 0x7F, 0x80, 0xFF, b'z'];
        let mut seed = 7u64;
        for len in 0..80 {
            for _ in 0..50 {
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        // Mostly plain letters, so hits land at every position.
                        if (seed >> 60) < 14 {
                            b'q'
                        } else {
                            alphabet[(seed >> 33) as usize % alphabet.len()]
                        }
                    })
                    .collect();
                let want = s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
                assert_eq!(find_special(&s), want, "{s:?}");
                assert_eq!(find_special_swar(&s, 0), want, "{s:?}");
            }
        }
    }
}
