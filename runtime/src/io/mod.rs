//! Reading sources and writing sinks: chunking inputs at record boundaries, decoders
//! specialized to a declared type (JSONL, CSV, lines), writers (JSONL, CSV, lines), number
//! formatting and error records. See `runtime/README.md` for the choices made.

pub mod chunk;

pub use chunk::{Chunk, ChunkReader, Format, Records};

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

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RecordError {}
