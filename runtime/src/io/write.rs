//! Writers: values laid out as in [`crate::layout`] encoded as JSON lines, CSV rows or plain
//! lines, appended to a `Vec<u8>`; plus the number and string formatting that the
//! interpreter reuses so both paths print identically (LANGUAGE.md §1.5), and the error
//! records of §1.6.
//!
//! Numbers: `int` as a decimal integer; `float` in the shortest form that reads back to
//! the same f64 (ryu), which always has a `.` or an exponent (`2.0`, `1e300`, `5e-324`) so
//! it reads back as a float; vec elements in the shortest form that reads back to the same
//! f32; NaN and infinities as `null` (an empty cell in CSV).

use super::json::find_special;
use crate::layout::TypeDesc;

/// Appends an integer.
/// The message of a write to standard output whose reader has gone (`kiln run ... | head`):
/// the run stops there, quietly, as jq and ripgrep do.
pub const STDOUT_CLOSED: &str = "standard output was closed by its reader";

/// The message for a failed write to a sink's `path` (`-`: standard output).
pub fn write_error(path: &str, e: &std::io::Error) -> String {
    match path {
        "-" if e.kind() == std::io::ErrorKind::BrokenPipe => STDOUT_CLOSED.to_string(),
        "-" => format!("cannot write standard output: {e}"),
        p => format!("cannot write `{p}`: {e}"),
    }
}

pub fn format_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float as JSON: shortest round-trip form, `null` for NaN and infinities.
pub fn format_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends an f32 (a vec element) as JSON: shortest form reading back to the same f32.
pub fn format_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A float as [`format_f64`] prints it.
pub fn f64_to_string(v: f64) -> String {
    let mut out = Vec::new();
    format_f64(&mut out, v);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `s` as a JSON string: `"` and `\` escaped, `\n \r \t \b \f` in short form, other
/// control characters as `\u00XX`; everything else (non-ASCII included) as is.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    write_json_bytes(out, s.as_bytes());
}

/// [`write_json_str`] for bytes that are UTF-8 by construction (string values).
pub fn write_json_bytes(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    while let Some(i) = find_special(rest) {
        out.extend_from_slice(rest.get(..i).unwrap_or(&[]));
        let c = rest.get(i).copied().unwrap_or(0);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 15)]);
            }
        }
        rest = rest.get(i + 1..).unwrap_or(&[]);
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Appends one error record (§1.6) as a JSON line:
/// `{"source":…,"line":…,"stage":…,"message":…,"raw":…}`. `raw` is the record's text; bytes
/// that are not UTF-8 become U+FFFD.
pub fn error_record(
    out: &mut Vec<u8>,
    source: &str,
    line: u64,
    stage: &str,
    message: &str,
    raw: &[u8],
) {
    out.extend_from_slice(b"{\"source\":");
    write_json_str(out, source);
    out.extend_from_slice(b",\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
    out.extend_from_slice(b",\"stage\":");
    write_json_str(out, stage);
    out.extend_from_slice(b",\"message\":");
    write_json_str(out, message);
    out.extend_from_slice(b",\"raw\":");
    write_json_str(out, &String::from_utf8_lossy(raw));
    out.extend_from_slice(b"}\n");
}

/// Reads a `T` at `p + off`.
///
/// # Safety
/// `p + off` must be valid for reading a `T` (any alignment).
#[inline]
unsafe fn read<T: Copy>(p: *const u8, off: usize) -> T {
    // SAFETY: the caller guarantees `p + off .. + size_of::<T>()` is readable.
    unsafe { p.add(off).cast::<T>().read_unaligned() }
}

/// The bytes of a string value at `p`.
///
/// # Safety
/// `p` must point to a valid `KStr` whose bytes stay alive for `'a`.
unsafe fn str_at<'a>(p: *const u8) -> &'a [u8] {
    // SAFETY: per the caller, a KStr (pointer, then u64 length) is at `p`.
    let (ptr, len) = unsafe { (read::<*const u8>(p, 0), read::<u64>(p, 8)) };
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: a KStr's pointer addresses `len` initialized bytes that outlive the value.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

#[derive(Debug)]
enum WPlan {
    Int,
    Float,
    Bool,
    Str,
    Vec(usize),
    List {
        elem: Box<WPlan>,
        stride: usize,
    },
    /// Each field: the text before its value (`{"name":` or `,"name":`) and its offset.
    Record(Vec<(Vec<u8>, usize, WPlan)>),
    Optional {
        payload: usize,
        inner: Box<WPlan>,
    },
}

impl WPlan {
    fn new(t: &TypeDesc) -> WPlan {
        match t {
            TypeDesc::Int => WPlan::Int,
            TypeDesc::Float => WPlan::Float,
            TypeDesc::Bool => WPlan::Bool,
            TypeDesc::Str => WPlan::Str,
            TypeDesc::Vec(n) => WPlan::Vec(*n as usize),
            TypeDesc::List(e) => WPlan::List { elem: Box::new(WPlan::new(e)), stride: e.stride() },
            TypeDesc::Record(fields) => WPlan::Record(
                fields
                    .iter()
                    .zip(t.field_offsets())
                    .enumerate()
                    .map(|(i, ((name, ft), off))| {
                        let mut prefix = vec![if i == 0 { b'{' } else { b',' }];
                        write_json_str(&mut prefix, name);
                        prefix.push(b':');
                        (prefix, off, WPlan::new(ft))
                    })
                    .collect(),
            ),
            TypeDesc::Optional(inner) => WPlan::Optional {
                payload: t.optional_payload_offset(),
                inner: Box::new(WPlan::new(inner)),
            },
        }
    }

    /// # Safety
    /// `p` must point to a valid value of this plan's type.
    unsafe fn write(&self, p: *const u8, out: &mut Vec<u8>) {
        // SAFETY: per the caller, `p` points to a valid value of this plan's type, so every
        // offset read below (a field offset, the optional payload offset, the `KStr` and
        // list halves at 0 and 8) is inside it, and the pointers it holds address what the
        // layout says: a string's bytes, a vector's `n` floats, a list's `len` elements at
        // `stride`, each a valid value of the element plan's type for the recursive call.
        // Reads are unaligned.
        unsafe {
            match self {
                WPlan::Int => format_i64(out, read::<i64>(p, 0)),
                WPlan::Float => format_f64(out, read::<f64>(p, 0)),
                WPlan::Bool => {
                    out.extend_from_slice(if read::<u8>(p, 0) != 0 { b"true" } else { b"false" })
                }
                WPlan::Str => write_json_bytes(out, str_at(p)),
                WPlan::Vec(n) => {
                    let v = read::<*const f32>(p, 0);
                    out.push(b'[');
                    for k in 0..*n {
                        if k > 0 {
                            out.push(b',');
                        }
                        format_f32(out, v.add(k).read_unaligned());
                    }
                    out.push(b']');
                }
                WPlan::List { elem, stride } => {
                    let (ptr, len) = (read::<*const u8>(p, 0), read::<u64>(p, 8));
                    out.push(b'[');
                    for k in 0..len as usize {
                        if k > 0 {
                            out.push(b',');
                        }
                        elem.write(ptr.add(k * stride), out);
                    }
                    out.push(b']');
                }
                WPlan::Record(fields) => {
                    if fields.is_empty() {
                        out.push(b'{');
                    }
                    for (prefix, off, f) in fields {
                        out.extend_from_slice(prefix);
                        f.write(p.add(*off), out);
                    }
                    out.push(b'}');
                }
                WPlan::Optional { payload, inner } => {
                    if read::<u8>(p, 0) == 0 {
                        out.extend_from_slice(b"null");
                    } else {
                        inner.write(p.add(*payload), out);
                    }
                }
            }
        }
    }
}

/// Encodes values of one type as compact JSON, record fields in declared order.
#[derive(Debug)]
pub struct JsonEncoder {
    plan: WPlan,
}

impl JsonEncoder {
    pub fn new(ty: &TypeDesc) -> JsonEncoder {
        JsonEncoder { plan: WPlan::new(ty) }
    }

    /// Appends the value at `value` as JSON (no newline).
    ///
    /// # Safety
    /// `value` must point to a valid value of the encoder's type, laid out as in
    /// [`crate::layout`], with every string, list and vector it refers to alive.
    pub unsafe fn encode(&self, value: *const u8, out: &mut Vec<u8>) {
        // SAFETY: forwarded from the caller.
        unsafe { self.plan.write(value, out) }
    }

    /// Appends the value as one JSONL line.
    ///
    /// # Safety
    /// As for [`encode`](Self::encode).
    pub unsafe fn write_line(&self, value: *const u8, out: &mut Vec<u8>) {
        // SAFETY: forwarded from the caller.
        unsafe { self.plan.write(value, out) };
        out.push(b'\n');
    }
}

#[derive(Clone, Copy, Debug)]
enum Cell {
    Int,
    Float,
    Bool,
    Str,
}

/// Encodes records of scalar fields as CSV rows (RFC 4180, `\n` line ends).
#[derive(Debug)]
pub struct CsvEncoder {
    header: Vec<u8>,
    /// Per column: offset of the field, offset of its optional tag (if optional), kind.
    columns: Vec<(usize, Option<usize>, Cell)>,
}

impl CsvEncoder {
    /// Fails (naming the field) when `ty` is not a record of `int`, `float`, `bool`, `str`
    /// fields, optional or not.
    pub fn new(ty: &TypeDesc) -> Result<CsvEncoder, String> {
        let TypeDesc::Record(fields) = ty else {
            return Err("a CSV sink needs records".into());
        };
        let mut header = Vec::new();
        let mut columns = Vec::new();
        for (i, ((name, ft), off)) in fields.iter().zip(ty.field_offsets()).enumerate() {
            if i > 0 {
                header.push(b',');
            }
            write_csv_cell(&mut header, name.as_bytes());
            let (inner, tag, payload) = match ft {
                TypeDesc::Optional(inner) => {
                    (&**inner, Some(off), off + ft.optional_payload_offset())
                }
                t => (t, None, off),
            };
            let kind = match inner {
                TypeDesc::Int => Cell::Int,
                TypeDesc::Float => Cell::Float,
                TypeDesc::Bool => Cell::Bool,
                TypeDesc::Str => Cell::Str,
                _ => {
                    return Err(format!(
                        "field `{name}` is not a number, bool or string, so it has no CSV column"
                    ));
                }
            };
            columns.push((payload, tag, kind));
        }
        header.push(b'\n');
        Ok(CsvEncoder { header, columns })
    }

    /// Appends the header line.
    pub fn write_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
    }

    /// Appends one row: `null` (and NaN, infinities) as an empty cell, an empty string as
    /// `""`, a cell quoted only when it holds `,` `"` `\r` `\n` or is empty.
    ///
    /// # Safety
    /// `value` must point to a valid record of the encoder's type, with its strings alive.
    pub unsafe fn write_row(&self, value: *const u8, out: &mut Vec<u8>) {
        for (i, &(off, tag, kind)) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // SAFETY: per the caller, `value` points to a valid record of the encoder's type,
            // so the offsets computed from that type address its fields: the tag byte of an
            // optional column, then (present) the payload at `off` of the column's kind,
            // a string's bytes alive. Reads are unaligned.
            unsafe {
                if let Some(t) = tag
                    && read::<u8>(value, t) == 0
                {
                    continue;
                }
                match kind {
                    Cell::Int => format_i64(out, read::<i64>(value, off)),
                    Cell::Float => {
                        let v = read::<f64>(value, off);
                        if v.is_finite() {
                            format_f64(out, v);
                        }
                    }
                    Cell::Bool => out.extend_from_slice(if read::<u8>(value, off) != 0 {
                        b"true"
                    } else {
                        b"false"
                    }),
                    Cell::Str => write_csv_cell(out, str_at(value.add(off))),
                }
            }
        }
        out.push(b'\n');
    }
}

/// Appends a CSV cell, quoted only when needed (always for the empty string, which an
/// unquoted empty cell would turn into null).
pub fn write_csv_cell(out: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty() && !s.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(s);
        return;
    }
    out.push(b'"');
    for part in s.split_inclusive(|&c| c == b'"') {
        out.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// Appends a string as one line of a `lines` sink (the text as is, then `\n`).
pub fn write_text_line(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s);
    out.push(b'\n');
}

/// Appends the `str` value at `value` as one line.
///
/// # Safety
/// `value` must point to a valid `KStr` whose bytes are alive.
pub unsafe fn write_str_line(value: *const u8, out: &mut Vec<u8>) {
    // SAFETY: forwarded from the caller.
    write_text_line(out, unsafe { str_at(value) });
}
