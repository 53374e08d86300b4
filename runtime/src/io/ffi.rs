//! The C ABI of the I/O runtime, for generated code. Every function is panic-free by
//! construction and also runs under `catch_unwind`, so nothing unwinds into generated code.
//! Types travel as text in Kiln's type syntax ([`super::sig`]); strings as (pointer,
//! length) pairs; handles are opaque pointers made by a `*_new` and released by the
//! matching `*_free` (null is accepted everywhere and does nothing, or fails cleanly).
//!
//! Errors: a decode returns 0 on success and 1 on a record error, whose message is written
//! to `*err` as a `KStr` allocated in the arena (valid until the arena is reset).
//!
//! For the JIT, [`c_symbols`] lists every function with its address.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::csv::{CsvDecoder, decode_line};
use super::json::JsonDecoder;
use super::sig::parse_type;
use super::write::{self, CsvEncoder, JsonEncoder};
use crate::arena::Arena;
use crate::layout::KStr;

fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A byte slice from a C pointer and length; empty for null or zero length.
///
/// # Safety
/// Unless null or `len == 0`, `ptr` must be valid for reading `len` bytes for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: per the caller, `ptr` addresses `len` readable bytes.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A mutable byte slice; empty for null or zero length.
///
/// # Safety
/// Unless null or `len == 0`, `ptr` must be valid for writing `len` bytes for `'a` and not
/// be accessed otherwise meanwhile.
unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
    if ptr.is_null() || len == 0 {
        &mut []
    } else {
        // SAFETY: per the caller, `ptr` addresses `len` writable bytes used only here.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

fn parse_type_text(ptr: *const u8, len: usize) -> Option<crate::layout::TypeDesc> {
    // SAFETY: the C caller passes `len` readable bytes of type text at `ptr`.
    let text = std::str::from_utf8(unsafe { bytes(ptr, len) }).ok()?;
    parse_type(text).ok()
}

/// Reports `message` through `err` (arena-allocated) and returns 1.
fn report(arena: &mut Arena, err: *mut KStr, message: &str) -> i32 {
    if !err.is_null() {
        let p = arena.alloc_copy(message.as_bytes());
        let s = if p.is_null() {
            KStr { ptr: std::ptr::null(), len: 0 }
        } else {
            KStr { ptr: p, len: message.len() as u64 }
        };
        // SAFETY: the caller passes either null (checked) or a writable KStr.
        unsafe { err.write_unaligned(s) };
    }
    1
}

// ---- arena -------------------------------------------------------------------------

/// A new, empty arena.
#[unsafe(no_mangle)]
pub extern "C" fn kiln_arena_new() -> *mut Arena {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::new(Arena::new())))
}

/// Frees an arena and everything allocated in it.
///
/// # Safety
/// `arena` is null or came from `kiln_arena_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_arena_free(arena: *mut Arena) {
    if !arena.is_null() {
        // SAFETY: made by `Box::into_raw` in `kiln_arena_new`, freed once.
        guard((), || drop(unsafe { Box::from_raw(arena) }));
    }
}

/// `size` bytes aligned to `align`; null when out of memory.
///
/// # Safety
/// `arena` is null or a live arena not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_arena_alloc(arena: *mut Arena, size: usize, align: usize) -> *mut u8 {
    // SAFETY: per the contract, a live arena used by this thread only.
    let Some(a) = (unsafe { arena.as_mut() }) else {
        return std::ptr::null_mut();
    };
    guard(std::ptr::null_mut(), || a.alloc(size, align))
}

/// Frees everything allocated in the arena (all its pointers become invalid).
///
/// # Safety
/// `arena` is null or a live arena not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_arena_reset(arena: *mut Arena) {
    // SAFETY: per the contract, a live arena used by this thread only.
    if let Some(a) = unsafe { arena.as_mut() } {
        guard((), || a.reset());
    }
}

// ---- decoders ------------------------------------------------------------------------

/// A JSONL decoder for the type written at `type_text`; null if the text is not a type.
///
/// # Safety
/// `type_text` addresses `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_decoder_new(
    type_text: *const u8,
    len: usize,
) -> *mut JsonDecoder {
    guard(std::ptr::null_mut(), || match parse_type_text(type_text, len) {
        Some(t) => Box::into_raw(Box::new(JsonDecoder::new(&t))),
        None => std::ptr::null_mut(),
    })
}

/// # Safety
/// `dec` is null or came from `kiln_json_decoder_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_decoder_free(dec: *mut JsonDecoder) {
    if !dec.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once.
        guard((), || drop(unsafe { Box::from_raw(dec) }));
    }
}

/// The size of the value buffer the decoder fills (0 for null).
///
/// # Safety
/// `dec` is null or a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_decoder_size(dec: *const JsonDecoder) -> usize {
    // SAFETY: per the contract.
    unsafe { dec.as_ref() }.map_or(0, JsonDecoder::size)
}

/// Decodes one line into `out` (`kiln_json_decoder_size` bytes). 0 on success; 1 on a
/// record error, with the message in `*err` (if not null).
///
/// # Safety
/// `dec` and `arena` are live (the arena used by this thread only); `line` addresses `len`
/// bytes that outlive the decoded value; `out` addresses the decoder's size in writable
/// bytes; `err` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_decode(
    dec: *const JsonDecoder,
    line: *const u8,
    len: usize,
    out: *mut u8,
    arena: *mut Arena,
    err: *mut KStr,
) -> i32 {
    // SAFETY: per the contract.
    let (Some(dec), Some(arena)) = (unsafe { dec.as_ref() }, unsafe { arena.as_mut() }) else {
        return 1;
    };
    // SAFETY: per the contract, `line` holds `len` bytes and `out` the decoder's size.
    let (line, out) = unsafe { (bytes(line, len), bytes_mut(out, dec.size())) };
    guard(1, || match dec.decode(line, out, arena) {
        Ok(()) => 0,
        Err(e) => report(arena, err, &e.message),
    })
}

/// A CSV decoder for a record type and a header row. Null on error, with the message in
/// `*err` (allocated in `arena`; both may be null).
///
/// # Safety
/// The text pointers address their lengths in bytes; `arena` is null or live; `err` is null
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_decoder_new(
    type_text: *const u8,
    len: usize,
    header: *const u8,
    header_len: usize,
    arena: *mut Arena,
    err: *mut KStr,
) -> *mut CsvDecoder {
    guard(std::ptr::null_mut(), || {
        let result = match parse_type_text(type_text, len) {
            // SAFETY: per the contract, `header` holds `header_len` bytes.
            Some(t) => CsvDecoder::new(&t, unsafe { bytes(header, header_len) }),
            None => Err("internal: invalid type text".to_string()),
        };
        match result {
            Ok(d) => Box::into_raw(Box::new(d)),
            Err(m) => {
                // SAFETY: per the contract.
                if let Some(a) = unsafe { arena.as_mut() } {
                    report(a, err, &m);
                }
                std::ptr::null_mut()
            }
        }
    })
}

/// # Safety
/// `dec` is null or came from `kiln_csv_decoder_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_decoder_free(dec: *mut CsvDecoder) {
    if !dec.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once.
        guard((), || drop(unsafe { Box::from_raw(dec) }));
    }
}

/// # Safety
/// `dec` is null or a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_decoder_size(dec: *const CsvDecoder) -> usize {
    // SAFETY: per the contract.
    unsafe { dec.as_ref() }.map_or(0, CsvDecoder::size)
}

/// Decodes one CSV record; as `kiln_json_decode`.
///
/// # Safety
/// As for `kiln_json_decode`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_decode(
    dec: *const CsvDecoder,
    rec: *const u8,
    len: usize,
    out: *mut u8,
    arena: *mut Arena,
    err: *mut KStr,
) -> i32 {
    // SAFETY: per the contract.
    let (Some(dec), Some(arena)) = (unsafe { dec.as_ref() }, unsafe { arena.as_mut() }) else {
        return 1;
    };
    // SAFETY: per the contract.
    let (rec, out) = unsafe { (bytes(rec, len), bytes_mut(out, dec.size())) };
    guard(1, || match dec.decode(rec, out, arena) {
        Ok(()) => 0,
        Err(e) => report(arena, err, &e.message),
    })
}

/// The `lines` source: writes a `KStr` for the line at `out`. 0, or 1 when the line is not
/// UTF-8 (message in `*err`, allocated in `arena`).
///
/// # Safety
/// `line` addresses `len` bytes that outlive the value; `out` addresses 16 writable bytes;
/// `arena` is live; `err` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_lines_decode(
    line: *const u8,
    len: usize,
    out: *mut u8,
    arena: *mut Arena,
    err: *mut KStr,
) -> i32 {
    // SAFETY: per the contract.
    let Some(arena) = (unsafe { arena.as_mut() }) else {
        return 1;
    };
    // SAFETY: per the contract.
    let (line, out) = unsafe { (bytes(line, len), bytes_mut(out, 16)) };
    guard(1, || match decode_line(line, out) {
        Ok(()) => 0,
        Err(e) => report(arena, err, &e.message),
    })
}

// ---- output buffers and writers --------------------------------------------------------

/// A new, empty output buffer.
#[unsafe(no_mangle)]
pub extern "C" fn kiln_buf_new() -> *mut Vec<u8> {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::new(Vec::with_capacity(1 << 16))))
}

/// # Safety
/// `buf` is null or came from `kiln_buf_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_buf_free(buf: *mut Vec<u8>) {
    if !buf.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once.
        guard((), || drop(unsafe { Box::from_raw(buf) }));
    }
}

/// The buffer's bytes (valid until the next write or clear).
///
/// # Safety
/// `buf` is null or a live buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_buf_data(buf: *const Vec<u8>) -> *const u8 {
    // SAFETY: per the contract.
    unsafe { buf.as_ref() }.map_or(std::ptr::null(), |b| b.as_ptr())
}

/// # Safety
/// `buf` is null or a live buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_buf_len(buf: *const Vec<u8>) -> usize {
    // SAFETY: per the contract.
    unsafe { buf.as_ref() }.map_or(0, Vec::len)
}

/// Empties the buffer, keeping its memory.
///
/// # Safety
/// `buf` is null or a live buffer not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_buf_clear(buf: *mut Vec<u8>) {
    // SAFETY: per the contract.
    if let Some(b) = unsafe { buf.as_mut() } {
        b.clear();
    }
}

/// A JSON encoder for the type written at `type_text`; null if the text is not a type.
///
/// # Safety
/// `type_text` addresses `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_encoder_new(
    type_text: *const u8,
    len: usize,
) -> *mut JsonEncoder {
    guard(std::ptr::null_mut(), || match parse_type_text(type_text, len) {
        Some(t) => Box::into_raw(Box::new(JsonEncoder::new(&t))),
        None => std::ptr::null_mut(),
    })
}

/// # Safety
/// `enc` is null or came from `kiln_json_encoder_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_encoder_free(enc: *mut JsonEncoder) {
    if !enc.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once.
        guard((), || drop(unsafe { Box::from_raw(enc) }));
    }
}

/// Appends the value at `value` as one JSON line.
///
/// # Safety
/// `enc` and `buf` are null or live (the buffer used by this thread only); `value` points
/// to a valid value of the encoder's type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_json_write_line(
    enc: *const JsonEncoder,
    value: *const u8,
    buf: *mut Vec<u8>,
) {
    // SAFETY: per the contract.
    if let (Some(enc), Some(buf)) = (unsafe { enc.as_ref() }, unsafe { buf.as_mut() }) {
        // SAFETY: `value` is a valid value of the encoder's type, per the contract.
        guard((), || unsafe { enc.write_line(value, buf) });
    }
}

/// A CSV encoder for a record type of scalar fields; null if the text is not such a type.
///
/// # Safety
/// `type_text` addresses `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_encoder_new(type_text: *const u8, len: usize) -> *mut CsvEncoder {
    guard(std::ptr::null_mut(), || {
        match parse_type_text(type_text, len).map(|t| CsvEncoder::new(&t)) {
            Some(Ok(e)) => Box::into_raw(Box::new(e)),
            _ => std::ptr::null_mut(),
        }
    })
}

/// # Safety
/// `enc` is null or came from `kiln_csv_encoder_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_encoder_free(enc: *mut CsvEncoder) {
    if !enc.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once.
        guard((), || drop(unsafe { Box::from_raw(enc) }));
    }
}

/// Appends the CSV header line.
///
/// # Safety
/// `enc` and `buf` are null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_write_header(enc: *const CsvEncoder, buf: *mut Vec<u8>) {
    // SAFETY: per the contract.
    if let (Some(enc), Some(buf)) = (unsafe { enc.as_ref() }, unsafe { buf.as_mut() }) {
        guard((), || enc.write_header(buf));
    }
}

/// Appends one CSV row for the record at `value`.
///
/// # Safety
/// As for `kiln_json_write_line`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_csv_write_row(
    enc: *const CsvEncoder,
    value: *const u8,
    buf: *mut Vec<u8>,
) {
    // SAFETY: per the contract.
    if let (Some(enc), Some(buf)) = (unsafe { enc.as_ref() }, unsafe { buf.as_mut() }) {
        // SAFETY: `value` is a valid record of the encoder's type, per the contract.
        guard((), || unsafe { enc.write_row(value, buf) });
    }
}

/// Appends the string `(ptr, len)` and a newline (the `lines` sink).
///
/// # Safety
/// `ptr` addresses `len` bytes; `buf` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_lines_write(ptr: *const u8, len: usize, buf: *mut Vec<u8>) {
    // SAFETY: per the contract.
    if let Some(buf) = unsafe { buf.as_mut() } {
        // SAFETY: per the contract.
        let s = unsafe { bytes(ptr, len) };
        guard((), || write::write_text_line(buf, s));
    }
}

/// Appends an error record (LANGUAGE.md §1.6) as one JSON line.
///
/// # Safety
/// Each (pointer, length) pair addresses that many bytes; `buf` is null or live.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_error_record(
    buf: *mut Vec<u8>,
    source: *const u8,
    source_len: usize,
    line: u64,
    stage: *const u8,
    stage_len: usize,
    message: *const u8,
    message_len: usize,
    raw: *const u8,
    raw_len: usize,
) {
    // SAFETY: per the contract.
    let Some(buf) = (unsafe { buf.as_mut() }) else {
        return;
    };
    // SAFETY: per the contract, each pair addresses its bytes.
    let (source, stage, message, raw) = unsafe {
        (
            bytes(source, source_len),
            bytes(stage, stage_len),
            bytes(message, message_len),
            bytes(raw, raw_len),
        )
    };
    guard((), || {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        write::error_record(buf, &text(source), line, &text(stage), &text(message), raw);
    });
}

/// Appends a float as Kiln prints it (JSON; `null` for NaN and infinities).
///
/// # Safety
/// `buf` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_format_f64(buf: *mut Vec<u8>, v: f64) {
    // SAFETY: per the contract.
    if let Some(buf) = unsafe { buf.as_mut() } {
        guard((), || write::format_f64(buf, v));
    }
}

/// Appends an f32 as Kiln prints vec elements.
///
/// # Safety
/// `buf` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_format_f32(buf: *mut Vec<u8>, v: f32) {
    // SAFETY: per the contract.
    if let Some(buf) = unsafe { buf.as_mut() } {
        guard((), || write::format_f32(buf, v));
    }
}

/// Appends an integer.
///
/// # Safety
/// `buf` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_format_i64(buf: *mut Vec<u8>, v: i64) {
    // SAFETY: per the contract.
    if let Some(buf) = unsafe { buf.as_mut() } {
        guard((), || write::format_i64(buf, v));
    }
}

/// Appends `(ptr, len)` as a JSON string.
///
/// # Safety
/// `ptr` addresses `len` bytes of UTF-8; `buf` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_write_json_str(buf: *mut Vec<u8>, ptr: *const u8, len: usize) {
    // SAFETY: per the contract.
    if let Some(buf) = unsafe { buf.as_mut() } {
        // SAFETY: per the contract.
        let s = unsafe { bytes(ptr, len) };
        guard((), || write::write_json_bytes(buf, s));
    }
}

/// Every C ABI function of this module with its address, for `JITBuilder::symbol`.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_arena_new", kiln_arena_new as *const u8),
        ("kiln_arena_free", kiln_arena_free as *const u8),
        ("kiln_arena_alloc", kiln_arena_alloc as *const u8),
        ("kiln_arena_reset", kiln_arena_reset as *const u8),
        ("kiln_json_decoder_new", kiln_json_decoder_new as *const u8),
        ("kiln_json_decoder_free", kiln_json_decoder_free as *const u8),
        ("kiln_json_decoder_size", kiln_json_decoder_size as *const u8),
        ("kiln_json_decode", kiln_json_decode as *const u8),
        ("kiln_csv_decoder_new", kiln_csv_decoder_new as *const u8),
        ("kiln_csv_decoder_free", kiln_csv_decoder_free as *const u8),
        ("kiln_csv_decoder_size", kiln_csv_decoder_size as *const u8),
        ("kiln_csv_decode", kiln_csv_decode as *const u8),
        ("kiln_lines_decode", kiln_lines_decode as *const u8),
        ("kiln_buf_new", kiln_buf_new as *const u8),
        ("kiln_buf_free", kiln_buf_free as *const u8),
        ("kiln_buf_data", kiln_buf_data as *const u8),
        ("kiln_buf_len", kiln_buf_len as *const u8),
        ("kiln_buf_clear", kiln_buf_clear as *const u8),
        ("kiln_json_encoder_new", kiln_json_encoder_new as *const u8),
        ("kiln_json_encoder_free", kiln_json_encoder_free as *const u8),
        ("kiln_json_write_line", kiln_json_write_line as *const u8),
        ("kiln_csv_encoder_new", kiln_csv_encoder_new as *const u8),
        ("kiln_csv_encoder_free", kiln_csv_encoder_free as *const u8),
        ("kiln_csv_write_header", kiln_csv_write_header as *const u8),
        ("kiln_csv_write_row", kiln_csv_write_row as *const u8),
        ("kiln_lines_write", kiln_lines_write as *const u8),
        ("kiln_error_record", kiln_error_record as *const u8),
        ("kiln_format_f64", kiln_format_f64 as *const u8),
        ("kiln_format_f32", kiln_format_f32 as *const u8),
        ("kiln_format_i64", kiln_format_i64 as *const u8),
        ("kiln_write_json_str", kiln_write_json_str as *const u8),
        ("kiln_emit", crate::exec::abi::kiln_emit as *const u8),
        ("kiln_fail", crate::exec::abi::kiln_fail as *const u8),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kstr(s: &KStr) -> String {
        // SAFETY: the KStr was written by the runtime from live memory.
        String::from_utf8(unsafe { bytes(s.ptr, s.len as usize) }.to_vec()).unwrap()
    }

    #[test]
    fn decode_and_write_through_the_c_abi() {
        let ty = "{ id: int, text: str, v: vec[2]? }";
        // SAFETY: each call meets its `# Safety` contract: type texts, lines and strings are
        // live Rust slices passed with their lengths; `arena`, `dec`, `enc` and `buf` come
        // from their `_new` functions (checked non-null), are used by this thread only and
        // are freed once, after their last use; `out` is `size` (40) writable bytes, 8-byte
        // aligned; `err` is a writable local; the decoded value read by
        // `kiln_json_write_line` refers to `line` and `arena`, both still alive.
        unsafe {
            let arena = kiln_arena_new();
            let dec = kiln_json_decoder_new(ty.as_ptr(), ty.len());
            let enc = kiln_json_encoder_new(ty.as_ptr(), ty.len());
            let buf = kiln_buf_new();
            assert!(!arena.is_null() && !dec.is_null() && !enc.is_null() && !buf.is_null());
            let size = kiln_json_decoder_size(dec);
            assert_eq!(size, 40);
            let mut out = vec![0u64; size / 8];
            let mut err = KStr { ptr: std::ptr::null(), len: 0 };
            let line = br#"{"text":"a\"b","id":5,"v":[0.5,2]}"#;
            let rc = kiln_json_decode(
                dec,
                line.as_ptr(),
                line.len(),
                out.as_mut_ptr().cast(),
                arena,
                &mut err,
            );
            assert_eq!(rc, 0);
            kiln_json_write_line(enc, out.as_ptr().cast(), buf);
            let bad = br#"{"id":"x"}"#;
            let rc = kiln_json_decode(
                dec,
                bad.as_ptr(),
                bad.len(),
                out.as_mut_ptr().cast(),
                arena,
                &mut err,
            );
            assert_eq!(rc, 1);
            assert_eq!(kstr(&err), "field `id`: expected an integer, found \"x\"");
            let (src, stage, msg) = ("in.jsonl", "good", kstr(&err));
            kiln_error_record(
                buf,
                src.as_ptr(),
                src.len(),
                3,
                stage.as_ptr(),
                stage.len(),
                msg.as_ptr(),
                msg.len(),
                bad.as_ptr(),
                bad.len(),
            );
            kiln_format_f64(buf, 2.0);
            kiln_format_f32(buf, f32::INFINITY);
            kiln_format_i64(buf, -1);
            kiln_write_json_str(buf, "é\n".as_ptr(), 3);
            kiln_lines_write(b"x".as_ptr(), 1, buf);
            let text =
                String::from_utf8(bytes(kiln_buf_data(buf), kiln_buf_len(buf)).to_vec()).unwrap();
            assert_eq!(
                text,
                concat!(
                    "{\"id\":5,\"text\":\"a\\\"b\",\"v\":[0.5,2.0]}\n",
                    "{\"source\":\"in.jsonl\",\"line\":3,\"stage\":\"good\",",
                    "\"message\":\"field `id`: expected an integer, found \\\"x\\\"\",\"raw\":\"{\\\"id\\\":\\\"x\\\"}\"}\n",
                    "2.0null-1\"é\\n\"x\n"
                )
            );
            kiln_buf_clear(buf);
            assert_eq!(kiln_buf_len(buf), 0);
            kiln_arena_reset(arena);
            kiln_buf_free(buf);
            kiln_json_encoder_free(enc);
            kiln_json_decoder_free(dec);
            kiln_arena_free(arena);
        }
    }

    #[test]
    fn csv_and_lines_through_the_c_abi() {
        let ty = "{ a: int, b: str? }";
        // SAFETY: each call meets its `# Safety` contract: type texts, headers, records and
        // lines are live Rust slices passed with their lengths; `arena`, `dec`, `enc` and
        // `buf` come from their `_new` functions (null or live: the functions taking them
        // accept null, and the null `none` is never used), are used by this thread only and
        // are freed once, after their last use; `out` is the decoder's size in writable, 8-byte aligned bytes, and `s` 16
        // writable bytes (a `KStr`); `err` is a writable local. The null decoder given to
        // `kiln_json_decode` and the null arena given to `kiln_arena_alloc` are rejected
        // (checked with `as_ref`/`as_mut`) before anything is accessed.
        unsafe {
            let arena = kiln_arena_new();
            let mut err = KStr { ptr: std::ptr::null(), len: 0 };
            let none =
                kiln_csv_decoder_new(ty.as_ptr(), ty.len(), b"x".as_ptr(), 1, arena, &mut err);
            assert!(none.is_null());
            assert!(kstr(&err).starts_with("the CSV header has no column `a`"));
            let dec =
                kiln_csv_decoder_new(ty.as_ptr(), ty.len(), b"b,a".as_ptr(), 3, arena, &mut err);
            assert!(!dec.is_null());
            let mut out = vec![0u64; kiln_csv_decoder_size(dec) / 8];
            let rec = b"\"q\"\"\",7";
            assert_eq!(
                kiln_csv_decode(
                    dec,
                    rec.as_ptr(),
                    rec.len(),
                    out.as_mut_ptr().cast(),
                    arena,
                    &mut err
                ),
                0
            );
            let enc = kiln_csv_encoder_new(ty.as_ptr(), ty.len());
            let buf = kiln_buf_new();
            kiln_csv_write_header(enc, buf);
            kiln_csv_write_row(enc, out.as_ptr().cast(), buf);
            assert_eq!(bytes(kiln_buf_data(buf), kiln_buf_len(buf)), b"a,b\n7,\"q\"\"\"\n");
            let mut s = KStr { ptr: std::ptr::null(), len: 0 };
            assert_eq!(
                kiln_lines_decode(b"xy".as_ptr(), 2, (&raw mut s).cast(), arena, &mut err),
                0
            );
            assert_eq!(kstr(&s), "xy");
            assert_eq!(
                kiln_lines_decode(b"\xFF".as_ptr(), 1, (&raw mut s).cast(), arena, &mut err),
                1
            );
            assert_eq!(kstr(&err), "invalid UTF-8 at byte 1");
            assert!(kiln_csv_encoder_new(b"[int]".as_ptr(), 5).is_null());
            assert!(kiln_json_decoder_new(b"nope".as_ptr(), 4).is_null());
            assert_eq!(
                kiln_json_decode(
                    std::ptr::null(),
                    std::ptr::null(),
                    0,
                    std::ptr::null_mut(),
                    arena,
                    &mut err
                ),
                1
            );
            assert!(kiln_arena_alloc(std::ptr::null_mut(), 8, 8).is_null());
            assert_eq!(kiln_arena_alloc(arena, 64, 32) as usize % 32, 0);
            kiln_csv_encoder_free(enc);
            kiln_csv_decoder_free(dec);
            kiln_buf_free(buf);
            kiln_arena_free(arena);
        }
        assert_eq!(c_symbols().len(), 33);
    }
}
