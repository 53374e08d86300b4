//! Splitting an input into chunks of about [`DEFAULT_CHUNK_SIZE`] bytes that end at record
//! boundaries, so chunks can be decoded independently (and in parallel) and each knows the
//! line number it starts on.
//!
//! A regular file is memory-mapped (zero copy: chunks are windows into the map, kept alive
//! by an `Arc`); standard input, pipes and anything that cannot be mapped are read in large
//! blocks. A UTF-8 byte-order mark at the start of the input is dropped. The last record
//! may lack its newline. Records end at `\n` (JSONL, lines) or at a `\n` outside double
//! quotes (CSV); a `\r` before the `\n` is dropped from the record.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

/// The target size of a chunk. A chunk is larger only when one record is.
pub const DEFAULT_CHUNK_SIZE: usize = 2 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The arena memory one batch should take at most (within a core's L2 cache, which is
/// 1-2 MB on current x86 servers): a chunk whose rows grow much bigger than its input (a long prompt template
/// rendered for every record, a `flat_map` that multiplies) makes the reader cut the next
/// chunks smaller ([`ChunkTarget`]), so a batch's values stay in cache and the arena does
/// not take fresh pages from the system for every chunk.
pub const BATCH_MEMORY: usize = 1024 * 1024;

/// The smallest chunk [`ChunkTarget`] asks for.
pub const MIN_CHUNK_SIZE: usize = 64 * 1024;

/// The size of the chunks cut before any batch has said how much memory its rows take.
pub const FIRST_CHUNK_SIZE: usize = 256 * 1024;

/// The chunk size a run's reader cuts next, learnt from the batches done so far: the input
/// bytes that take [`BATCH_MEMORY`] of arena, judging by the last batch (never below
/// [`MIN_CHUNK_SIZE`], never above the run's own chunk size; [`FIRST_CHUNK_SIZE`] until a
/// batch is done). Shared by the reader and the workers.
#[derive(Debug, Default)]
pub struct ChunkTarget(std::sync::atomic::AtomicUsize);

impl ChunkTarget {
    /// A batch of `input` bytes took `used` bytes of arena.
    pub fn observe(&self, input: usize, used: usize) {
        if input == 0 || used == 0 {
            return;
        }
        let t = (input as u128 * BATCH_MEMORY as u128 / used as u128).min(usize::MAX as u128);
        self.0.store((t as usize).max(MIN_CHUNK_SIZE), std::sync::atomic::Ordering::Relaxed);
    }

    /// The size to cut the next chunk at, for a run whose chunk size is `size`.
    pub fn limit(&self, size: usize) -> usize {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => size.min(FIRST_CHUNK_SIZE),
            t => size.min(t),
        }
    }
}

/// How records are framed in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON value per line; blank lines are skipped.
    Jsonl,
    /// RFC 4180 records: a newline inside double quotes belongs to the cell; blank records
    /// are skipped.
    Csv,
    /// CSV whose header has one column: a blank record is a row whose one cell is empty
    /// (null), as the CSV writer writes it, so it is kept. [`ChunkReader::read_header`]
    /// switches a `Csv` reader to this format.
    CsvOneColumn,
    /// Every line is a record, blank ones included.
    Lines,
}

/// Input bytes shared by the chunks cut from them.
pub type Shared = Arc<dyn AsRef<[u8]> + Send + Sync>;

enum Source {
    /// The whole input in memory (a map or a buffer); `pos` is where the next chunk starts.
    Shared { data: Shared, pos: usize },
    /// A stream; `buf` holds the bytes read but not yet handed out.
    Stream { reader: Box<dyn Read + Send>, buf: Vec<u8>, eof: bool },
}

enum Data {
    Shared(Shared, usize, usize),
    Owned(Vec<u8>),
}

/// A run of whole records. Dereferences to its bytes, which stay valid (and at the same
/// address) as long as the chunk lives: decoded strings may point into them.
pub struct Chunk {
    data: Data,
    /// The 1-based line number of the chunk's first byte.
    pub first_line: u64,
    /// The position of the chunk in the input, from 0.
    pub index: u64,
    /// The bytes are a memory-mapped file (see [`Chunk::release`]).
    mapped: bool,
}

impl std::ops::Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.data {
            Data::Shared(d, start, end) => d.as_ref().as_ref().get(*start..*end).unwrap_or(&[]),
            Data::Owned(v) => v,
        }
    }
}

impl Chunk {
    /// The records in this chunk, each with its 1-based line number (a CSV record spanning
    /// several lines has the number of its first line).
    pub fn records(&self, format: Format) -> Records<'_> {
        Records { data: self, pos: 0, line: self.first_line, format }
    }

    /// The whole memory-mapped input this chunk is a window of (`None` when the input
    /// is not a mapped file): holding it keeps the map, so a record's text can be read
    /// again after the chunk is released.
    pub fn mapped_input(&self) -> Option<Shared> {
        match &self.data {
            Data::Shared(d, ..) if self.mapped => Some(d.clone()),
            _ => None,
        }
    }

    /// Tells the system that the chunk's pages of a memory-mapped file will not be read
    /// again, so a long run's resident memory does not grow with the file (the pages are
    /// dropped from this process, not from the page cache). Reading them again stays
    /// valid: a private read-only map refaults them from the file. No-op for chunks that
    /// are not mapped, and outside Linux.
    pub fn release(&self) {
        #[cfg(target_os = "linux")]
        if self.mapped {
            unsafe extern "C" {
                fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
            }
            const MADV_DONTNEED: i32 = 4;
            const PAGE: usize = 4096;
            let bytes: &[u8] = self;
            let start = (bytes.as_ptr() as usize).next_multiple_of(PAGE);
            let end = (bytes.as_ptr() as usize + bytes.len()) / PAGE * PAGE;
            if end > start {
                // SAFETY: the range lies inside this chunk of a private, read-only file
                // map that stays mapped while the chunk lives; MADV_DONTNEED on such a map
                // only drops pages, which later reads fault in again from the file. A
                // failure (e.g. another page size) leaves everything as it was.
                unsafe { madvise(start as *mut u8, end - start, MADV_DONTNEED) };
            }
        }
    }
}

/// Reads an input chunk by chunk. See the module documentation.
pub struct ChunkReader {
    source: Source,
    format: Format,
    chunk_size: usize,
    next_line: u64,
    next_index: u64,
    started: bool,
    /// The source is a memory-mapped file.
    mapped: bool,
}

impl ChunkReader {
    /// Opens `path`, or standard input when `path` is `"-"`.
    pub fn open(path: &str, format: Format) -> io::Result<ChunkReader> {
        if path == "-" {
            return Ok(ChunkReader::from_reader(Box::new(io::stdin()), format));
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only and private to this process. If another process
            // truncates or rewrites the file while it is mapped, reads may see the new bytes
            // or fault; like other tools that map their inputs (grep, ripgrep), Kiln
            // documents that inputs must not change while a run reads them.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                let mut r = ChunkReader::from_shared(Arc::new(map), format);
                r.mapped = true;
                return Ok(r);
            }
        }
        Ok(ChunkReader::from_reader(Box::new(file), format))
    }

    /// Reads from a stream (standard input, a pipe, a socket...).
    pub fn from_reader(reader: Box<dyn Read + Send>, format: Format) -> ChunkReader {
        ChunkReader::with_source(Source::Stream { reader, buf: Vec::new(), eof: false }, format)
    }

    /// Reads from bytes already in memory, without copying them.
    pub fn from_shared(data: Arc<dyn AsRef<[u8]> + Send + Sync>, format: Format) -> ChunkReader {
        ChunkReader::with_source(Source::Shared { data, pos: 0 }, format)
    }

    /// Reads from an owned buffer, without copying it.
    pub fn from_bytes(data: Vec<u8>, format: Format) -> ChunkReader {
        ChunkReader::from_shared(Arc::new(data), format)
    }

    fn with_source(source: Source, format: Format) -> ChunkReader {
        ChunkReader {
            source,
            format,
            chunk_size: DEFAULT_CHUNK_SIZE,
            next_line: 1,
            next_index: 0,
            started: false,
            mapped: false,
        }
    }

    /// Sets the target chunk size (at least 1 byte).
    pub fn with_chunk_size(mut self, size: usize) -> ChunkReader {
        self.chunk_size = size.max(1);
        self
    }

    /// Changes the target chunk size of the chunks cut from now on (at least 1 byte).
    pub fn set_chunk_size(&mut self, size: usize) {
        self.chunk_size = size.max(1);
    }

    /// The framing of the records: [`Self::read_header`] may change it.
    pub fn format(&self) -> Format {
        self.format
    }

    /// For CSV: reads the header record and returns it (without its line end), with its line
    /// number. `None` when the input holds no records at all. Call it before `next_chunk`,
    /// then frame records with [`Self::format`] (a one-column header keeps blank records).
    pub fn read_header(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        loop {
            let Some(chunk) = self.next_with_limit(0)? else {
                return Ok(None);
            };
            if let Some((line, rec)) = chunk.records(self.format).next() {
                if self.format == Format::Csv && csv_cells(rec) == 1 {
                    self.format = Format::CsvOneColumn;
                }
                return Ok(Some((line, rec.to_vec())));
            }
        }
    }

    /// The next chunk, or `None` at the end of the input.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        self.next_with_limit(self.chunk_size)
    }

    fn next_with_limit(&mut self, limit: usize) -> io::Result<Option<Chunk>> {
        let format = self.format;
        let first = !self.started;
        self.started = true;
        let data = match &mut self.source {
            Source::Shared { data, pos } => {
                let bytes = data.as_ref().as_ref();
                if first && bytes.starts_with(BOM) {
                    *pos = BOM.len();
                }
                let rest = bytes.get(*pos..).unwrap_or(&[]);
                if rest.is_empty() {
                    return Ok(None);
                }
                let end = split_point(rest, limit, format, true).unwrap_or(rest.len());
                let start = *pos;
                *pos += end;
                Data::Shared(data.clone(), start, start + end)
            }
            Source::Stream { reader, buf, eof } => {
                let mut want = limit.max(64 * 1024);
                let mut checked_bom = !first;
                loop {
                    while !*eof && buf.len() < want {
                        fill(reader.as_mut(), buf, want, eof)?;
                    }
                    if !checked_bom && (buf.len() >= BOM.len() || *eof) {
                        checked_bom = true;
                        if buf.starts_with(BOM) {
                            buf.drain(..BOM.len());
                        }
                    }
                    if buf.is_empty() && *eof {
                        return Ok(None);
                    }
                    match split_point(buf, limit, format, *eof) {
                        Some(end) => {
                            let rest = buf.get(end..).unwrap_or(&[]).to_vec();
                            buf.truncate(end);
                            break Data::Owned(std::mem::replace(buf, rest));
                        }
                        // One record is longer than what was read: read more.
                        None => want = buf.len().saturating_mul(2),
                    }
                }
            }
        };
        let mapped = self.mapped && matches!(data, Data::Shared(..));
        let chunk = Chunk { data, first_line: self.next_line, index: self.next_index, mapped };
        self.next_index += 1;
        self.next_line += count_newlines(&chunk);
        Ok(Some(chunk))
    }
}

/// The number of `\n` in `s`. Counts into byte-wide lanes (which the compiler turns into
/// SIMD compares and adds), flushing them before they can overflow.
pub fn count_newlines(s: &[u8]) -> u64 {
    let mut total = 0u64;
    let mut blocks = s.chunks_exact(64);
    let mut lanes = [0u8; 64];
    let mut pending = 0;
    for block in &mut blocks {
        for (l, &b) in lanes.iter_mut().zip(block) {
            *l += u8::from(b == b'\n');
        }
        pending += 1;
        if pending == 255 {
            total += lanes.iter().map(|&l| u64::from(l)).sum::<u64>();
            lanes = [0; 64];
            pending = 0;
        }
    }
    total += lanes.iter().map(|&l| u64::from(l)).sum::<u64>();
    total + blocks.remainder().iter().filter(|&&b| b == b'\n').count() as u64
}

/// Reads into `buf` until it holds `want` bytes or the stream ends.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize, eof: &mut bool) -> io::Result<()> {
    let start = buf.len();
    buf.resize(want, 0);
    let mut filled = start;
    while filled < want {
        match reader.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => {
                *eof = true;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(())
}

/// Where a chunk taken from the front of `data` should end: after the last record boundary
/// within `limit` bytes, else after the first boundary past it. `None` when `data` holds
/// no boundary and more input may follow; at the end of input, everything.
fn split_point(data: &[u8], limit: usize, format: Format, at_eof: bool) -> Option<usize> {
    if at_eof && data.len() <= limit {
        return Some(data.len());
    }
    let found = match format {
        Format::Jsonl | Format::Lines => {
            let head = data.get(..limit).unwrap_or(data);
            match memchr::memrchr(b'\n', head) {
                Some(i) => Some(i + 1),
                None => memchr::memchr(b'\n', data.get(head.len()..).unwrap_or(&[]))
                    .map(|i| head.len() + i + 1),
            }
        }
        Format::Csv | Format::CsvOneColumn => csv_split_point(data, limit),
    };
    match found {
        Some(end) => Some(end),
        None if at_eof => Some(data.len()),
        None => None,
    }
}

/// The CSV version of [`split_point`]: records are scanned from the start of `data` (always
/// a record boundary), so a newline inside quotes never splits.
fn csv_split_point(data: &[u8], limit: usize) -> Option<usize> {
    let mut start = 0;
    let mut last = None;
    while let Some(j) = csv_record_end(data.get(start..).unwrap_or(&[])) {
        let nl = start + j;
        if nl >= limit {
            return Some(last.unwrap_or(nl + 1));
        }
        start = nl + 1;
        last = Some(start);
    }
    last
}

/// The index of the newline ending the CSV record at the start of `data`, if it has one.
/// A `"` opens a quoted cell only at the start of a cell (a stray quote inside an unquoted
/// cell is left to the decoder to report, and cannot swallow the following lines); inside
/// a quoted cell `""` is a quote and a lone `"` closes the cell.
pub(crate) fn csv_record_end(data: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    let mut hits = memchr::memchr2_iter(b'"', b'\n', data);
    while let Some(i) = hits.next() {
        if data.get(i) == Some(&b'\n') {
            if !in_quotes {
                return Some(i);
            }
        } else if in_quotes {
            if data.get(i + 1) == Some(&b'"') {
                hits.next();
            } else {
                in_quotes = false;
            }
        } else if i == 0 || data.get(i - 1) == Some(&b',') {
            in_quotes = true;
        }
    }
    None
}

/// The records of a chunk: `(line number, bytes without the line end)`.
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    format: Format,
}

impl<'a> Iterator for Records<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<(u64, &'a [u8])> {
        loop {
            let rest = self.data.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            let line = self.line;
            let (end, newlines) = match self.format {
                Format::Jsonl | Format::Lines => match memchr::memchr(b'\n', rest) {
                    Some(i) => (i, 1),
                    None => (rest.len(), 0),
                },
                Format::Csv | Format::CsvOneColumn => match csv_record_end(rest) {
                    Some(i) => (
                        i,
                        1 + memchr::memchr_iter(b'\n', rest.get(..i).unwrap_or(&[])).count() as u64,
                    ),
                    None => (rest.len(), memchr::memchr_iter(b'\n', rest).count() as u64),
                },
            };
            self.pos += end + 1;
            self.line += newlines;
            let mut rec = rest.get(..end).unwrap_or(rest);
            if let Some(r) = rec.strip_suffix(b"\r") {
                rec = r;
            }
            let skip = match self.format {
                Format::Jsonl => rec.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')),
                Format::Csv => rec.is_empty(),
                Format::CsvOneColumn | Format::Lines => false,
            };
            if !skip {
                return Some((line, rec));
            }
        }
    }
}

/// The number of cells of a CSV record (commas outside double quotes, plus one).
fn csv_cells(rec: &[u8]) -> usize {
    let mut quoted = false;
    let mut n = 1;
    for &b in rec {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

/// Whether a JSONL line holds only whitespace (such lines are skipped).
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_records(mut r: ChunkReader, format: Format) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            for (line, rec) in c.records(format) {
                out.push((line, String::from_utf8_lossy(rec).into_owned()));
            }
        }
        out
    }

    #[test]
    fn chunk_target_follows_the_memory_a_batch_takes() {
        let t = ChunkTarget::default();
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), FIRST_CHUNK_SIZE, "nothing seen yet");
        assert_eq!(t.limit(1000), 1000);
        // Rows smaller than their input: the run's own size stands.
        t.observe(2 << 20, 1 << 20);
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), DEFAULT_CHUNK_SIZE);
        // 2 KB rendered per 250-byte record: chunks of about BATCH_MEMORY / 8.
        t.observe(2 << 20, 8 * (2 << 20));
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), BATCH_MEMORY / 8);
        const { assert!(BATCH_MEMORY / 8 > MIN_CHUNK_SIZE) };
        // ... and a later, smaller batch says the same.
        t.observe(BATCH_MEMORY / 8, BATCH_MEMORY);
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), BATCH_MEMORY / 8);
        // Never below the floor, never above the run's size (1 byte: calls to models).
        t.observe(1 << 20, 1 << 40);
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), MIN_CHUNK_SIZE);
        assert_eq!(t.limit(1), 1);
        t.observe(0, 0);
        assert_eq!(t.limit(DEFAULT_CHUNK_SIZE), MIN_CHUNK_SIZE);
        // Cut sizes change between chunks; the records are the same.
        let input: Vec<u8> =
            (0..2000).flat_map(|i| format!("{{\"i\":{i}}}\n").into_bytes()).collect();
        let mut r = ChunkReader::from_bytes(input.clone(), Format::Jsonl).with_chunk_size(4096);
        let mut got = Vec::new();
        let mut k = 0;
        while let Some(c) = r.next_chunk().unwrap() {
            got.extend(c.records(Format::Jsonl).map(|(l, rec)| (l, rec.to_vec())));
            k += 1;
            r.set_chunk_size(if k % 2 == 0 { 100 } else { 3000 });
        }
        let want = all_records(ChunkReader::from_bytes(input, Format::Jsonl), Format::Jsonl);
        let got: Vec<(u64, String)> =
            got.into_iter().map(|(l, r)| (l, String::from_utf8(r).unwrap())).collect();
        assert_eq!(got, want);
    }

    fn recs(v: &[(u64, &str)]) -> Vec<(u64, String)> {
        v.iter().map(|(l, s)| (*l, s.to_string())).collect()
    }

    /// Every way of reading (mapped/streamed, tiny/huge chunks) gives the same records.
    fn check(input: &[u8], format: Format, want: &[(u64, &str)]) {
        for size in [1, 2, 3, 5, 7, 64, 1 << 20] {
            let r = ChunkReader::from_bytes(input.to_vec(), format).with_chunk_size(size);
            assert_eq!(all_records(r, format), recs(want), "shared, chunk size {size}");
            let r =
                ChunkReader::from_reader(Box::new(std::io::Cursor::new(input.to_vec())), format)
                    .with_chunk_size(size);
            assert_eq!(all_records(r, format), recs(want), "stream, chunk size {size}");
        }
    }

    #[test]
    fn lines_crlf_bom_and_no_final_newline() {
        check(b"a\r\nbb\n\nccc", Format::Lines, &[(1, "a"), (2, "bb"), (3, ""), (4, "ccc")]);
        check(b"\xEF\xBB\xBFx\ny\n", Format::Lines, &[(1, "x"), (2, "y")]);
        check(b"", Format::Lines, &[]);
        check(b"\n", Format::Lines, &[(1, "")]);
        check(b"\xEF\xBB\xBF", Format::Lines, &[]);
        check(b"a\xFFb\n", Format::Lines, &[(1, "a\u{FFFD}b")]);
    }

    #[test]
    fn jsonl_skips_blank_lines_but_counts_them() {
        check(b"{}\n  \n\r\n{\"a\":1}\r\n", Format::Jsonl, &[(1, "{}"), (4, "{\"a\":1}")]);
    }

    #[test]
    fn csv_newlines_inside_quotes_stay_in_the_record() {
        let input = b"id,text\r\n1,\"two\nlines\"\r\n2,\"a \"\"q\"\"\"\n\n3,\"x\r\ny\"";
        check(
            input,
            Format::Csv,
            &[
                (1, "id,text"),
                (2, "1,\"two\nlines\""),
                (4, "2,\"a \"\"q\"\"\""),
                (6, "3,\"x\r\ny\""),
            ],
        );
    }

    #[test]
    fn a_one_column_csv_header_keeps_blank_records() {
        for size in [1, 2, 3, 64] {
            let input = b"\"a,b\"\r\n1\n\n\r\n\"\"\n".to_vec();
            let mut r = ChunkReader::from_bytes(input, Format::Csv).with_chunk_size(size);
            assert_eq!(r.read_header().unwrap(), Some((1, b"\"a,b\"".to_vec())));
            assert_eq!(r.format(), Format::CsvOneColumn);
            let want = recs(&[(2, "1"), (3, ""), (4, ""), (5, "\"\"")]);
            assert_eq!(all_records(r, Format::CsvOneColumn), want, "chunk size {size}");
        }
        let mut two = ChunkReader::from_bytes(b"a,b\n\n1,2\n".to_vec(), Format::Csv);
        two.read_header().unwrap();
        assert_eq!(two.format(), Format::Csv);
    }

    #[test]
    fn csv_header_then_chunks() {
        let input = b"\xEF\xBB\xBFa,\"b\nc\"\n1,2\n3,4\n".to_vec();
        let mut r = ChunkReader::from_bytes(input, Format::Csv).with_chunk_size(4);
        assert_eq!(r.read_header().unwrap(), Some((1, b"a,\"b\nc\"".to_vec())));
        assert_eq!(all_records(r, Format::Csv), recs(&[(3, "1,2"), (4, "3,4")]));
        let mut empty = ChunkReader::from_bytes(Vec::new(), Format::Csv);
        assert_eq!(empty.read_header().unwrap(), None);
    }

    #[test]
    fn chunks_are_near_the_target_size() {
        let line = b"{\"id\": 12345, \"text\": \"hello\"}\n";
        let input: Vec<u8> = line.iter().copied().cycle().take(line.len() * 10_000).collect();
        let mut r = ChunkReader::from_bytes(input, Format::Jsonl).with_chunk_size(4096);
        let mut n = 0;
        let mut lines = 0;
        while let Some(c) = r.next_chunk().unwrap() {
            assert!(c.len() <= 4096 && c.ends_with(b"\n"));
            assert_eq!(c.first_line, lines + 1);
            assert_eq!(c.index, n);
            lines += c.records(Format::Jsonl).count() as u64;
            n += 1;
        }
        assert_eq!(lines, 10_000);
        assert!(n >= 75, "{n} chunks");
    }

    #[test]
    fn counts_newlines() {
        let mut s = Vec::new();
        for i in 0..100_000usize {
            s.push(if i % 3 == 0 { b'\n' } else { b'x' });
            assert!(
                i > 1000 || count_newlines(&s) == s.iter().filter(|&&b| b == b'\n').count() as u64
            );
        }
        assert_eq!(count_newlines(&s), 33_334);
        assert_eq!(count_newlines(&vec![b'\n'; 64 * 300 + 5]), 64 * 300 + 5);
    }

    #[test]
    fn opens_files_and_maps_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.jsonl");
        std::fs::write(&p, b"1\n2\n3").unwrap();
        let r = ChunkReader::open(p.to_str().unwrap(), Format::Jsonl).unwrap();
        assert_eq!(all_records(r, Format::Jsonl), recs(&[(1, "1"), (2, "2"), (3, "3")]));
        let e = dir.path().join("empty");
        std::fs::write(&e, b"").unwrap();
        let r = ChunkReader::open(e.to_str().unwrap(), Format::Jsonl).unwrap();
        assert!(all_records(r, Format::Jsonl).is_empty());
        assert!(ChunkReader::open("/nonexistent/x", Format::Jsonl).is_err());
    }
}
