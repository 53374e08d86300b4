//! Reading sources and writing sinks: chunking inputs at record boundaries, decoders
//! specialized to a declared type (JSONL, CSV, lines), writers (JSONL, CSV, lines), number
//! formatting and error records. See `runtime/README.md` for the choices made.

pub mod chunk;
pub mod clobber;
pub mod csv;
pub mod ffi;
pub mod json;
mod num;
pub mod sig;
#[cfg(test)]
mod tests;
pub mod write;

pub use chunk::{Chunk, ChunkReader, Format, Records};
pub use csv::{CsvDecoder, decode_line};
pub use json::JsonDecoder;
pub use write::{
    CsvEncoder, JsonEncoder, error_record, f64_to_string, format_f32, format_f64, format_i64,
    write_json_str,
};

/// A record that could not be read. Errors are values: decoders never panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub message: String,
}

impl RecordError {
    pub fn new(message: impl Into<String>) -> RecordError {
        RecordError { message: message.into() }
    }
}

/// What every decoder checks first: the output buffer is large enough (its first `size`
/// bytes are returned) and the record is valid UTF-8.
pub(crate) fn decode_target<'o>(
    out: &'o mut [u8],
    size: usize,
    record: &[u8],
) -> Result<&'o mut [u8], RecordError> {
    let len = out.len();
    let Some(out) = out.get_mut(..size) else {
        return Err(RecordError::new(format!(
            "internal: output buffer of {len} bytes, {size} needed"
        )));
    };
    // simdutf8 validates with SIMD (chosen at run time); std's validator finds the
    // position for the message once a record is known to be bad.
    if simdutf8::basic::from_utf8(record).is_err()
        && let Err(e) = std::str::from_utf8(record)
    {
        return Err(RecordError::new(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1)));
    }
    Ok(out)
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RecordError {}
