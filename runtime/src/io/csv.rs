//! CSV decoding (RFC 4180) into records, and the `lines` decoder.
//!
//! The header row is required; [`CsvDecoder::new`] matches its columns to the record's
//! fields by exact name (the first column of a name wins; extra columns are ignored; a
//! field without a column is an error then, unless it is optional: then it is always
//! null). A row must have as many cells as the header. Cells: an unquoted empty cell is
//! null (an error for a non-optional field); a quoted empty cell `""` is the empty string
//! for `str` (null for other types); `int` takes `[+-]digits`, `float` a JSON number (or
//! a leading `+`), `bool` `true` or `false`, all three with spaces or tabs around allowed;
//! `str` is the cell as is (doubled quotes undone; no trimming).

use super::RecordError;
use super::num;
use crate::arena::Arena;
use crate::layout::TypeDesc;

/// Why an empty CSV input is refused: the header row is required (LANGUAGE.md §1.5).
pub const NO_HEADER: &str = "the file is empty, and a CSV source needs a header row";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Str,
}

#[derive(Debug)]
struct Field {
    name: String,
    /// Where the value goes (after the tag for an optional).
    offset: usize,
    /// The optional's tag byte, if the field is optional.
    tag: Option<usize>,
    kind: Kind,
}

/// A decoder for CSV rows of one record type, bound to one header.
#[derive(Debug)]
pub struct CsvDecoder {
    size: usize,
    fields: Vec<Field>,
    /// For each header column, the field it fills.
    columns: Vec<Option<usize>>,
}

impl CsvDecoder {
    /// Builds the decoder from the record type and the header row (without its line end).
    /// Fails, with a message naming the field, when the type is not a record of `int`,
    /// `float`, `bool` or `str` fields (optional or not), or a required field has no column.
    pub fn new(ty: &TypeDesc, header: &[u8]) -> Result<CsvDecoder, String> {
        let TypeDesc::Record(decl) = ty else {
            return Err("a CSV source needs a record type".into());
        };
        let header_text = std::str::from_utf8(header)
            .map_err(|_| "the CSV header is not valid UTF-8".to_string())?;
        let mut names = Vec::new();
        let mut arena = Arena::new();
        for_each_cell(header_text.as_bytes(), &mut arena, |i, cell| {
            names.push((i, cell.text().to_vec()));
            Ok(())
        })
        .map_err(|e| format!("the CSV header: {}", e.message))?;
        let mut fields = Vec::new();
        let mut columns = vec![None; names.len()];
        for ((name, ft), off) in decl.iter().zip(ty.field_offsets()) {
            let (inner, tag, offset) = match ft {
                TypeDesc::Optional(inner) => {
                    (&**inner, Some(off), off + ft.optional_payload_offset())
                }
                t => (t, None, off),
            };
            let kind = match inner {
                TypeDesc::Int => Kind::Int,
                TypeDesc::Float => Kind::Float,
                TypeDesc::Bool => Kind::Bool,
                TypeDesc::Str => Kind::Str,
                _ => {
                    return Err(format!(
                        "field `{name}` is not a number, bool or string, so CSV cannot hold it"
                    ));
                }
            };
            match names.iter().find(|(_, n)| n.as_slice() == name.as_bytes()) {
                Some(&(col, _)) => {
                    if let Some(c) = columns.get_mut(col) {
                        *c = Some(fields.len());
                    }
                }
                None if tag.is_some() => {}
                None => {
                    let have: Vec<String> = names
                        .iter()
                        .map(|(_, n)| format!("`{}`", String::from_utf8_lossy(n)))
                        .collect();
                    return Err(format!(
                        "the CSV header has no column `{name}` (it has {}); declare the field as optional to allow this",
                        have.join(", ")
                    ));
                }
            }
            fields.push(Field { name: name.clone(), offset, tag, kind });
        }
        Ok(CsvDecoder { size: ty.size(), fields, columns })
    }

    /// The size of the buffer `decode` fills.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Decodes one CSV record (its line end removed; it may span lines inside quotes) into
    /// `out` (at least [`size`](Self::size) bytes). Strings point into `record` or `arena`.
    pub fn decode(
        &self,
        record: &[u8],
        out: &mut [u8],
        arena: &mut Arena,
    ) -> Result<(), RecordError> {
        let out = super::decode_target(out, self.size, record)?;
        out.fill(0);
        let ncols = self.columns.len();
        let cells = for_each_cell(record, arena, |col, cell| {
            let Some(&Some(fi)) = self.columns.get(col) else {
                return Ok(());
            };
            let Some(f) = self.fields.get(fi) else {
                return Ok(());
            };
            self.cell(f, cell, out)
                .map_err(|m| RecordError::new(format!("field `{}`: {m}", f.name)))
        });
        match cells {
            Ok(count) => count_error(ncols, count),
            // The record is read as a whole first (cell syntax, then the number of cells),
            // then cell by cell: a bad cell is reported only in a well-formed row. Only
            // failing records are scanned again.
            Err(e) => {
                for_each_cell(record, arena, |_, _| Ok(())).and_then(|n| count_error(ncols, n))?;
                Err(e)
            }
        }
    }

    fn cell(&self, f: &Field, cell: Cell<'_>, out: &mut [u8]) -> Result<(), String> {
        let text = cell.text();
        if text.is_empty() && !(f.kind == Kind::Str && cell.quoted) {
            return match f.tag {
                Some(_) => Ok(()), // tag stays 0: null
                None => Err("empty cell (null), but the field is not optional".into()),
            };
        }
        let found = || format!("found \"{}\"", shorten(text));
        match f.kind {
            Kind::Int => {
                // An optional sign and digits (leading zeros allowed: `007` is 7), not the
                // JSON grammar, which refuses `007`.
                let t = trim(text);
                let digits = t.strip_prefix(b"+").or_else(|| t.strip_prefix(b"-")).unwrap_or(t);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(format!("expected an integer, {}", found()));
                }
                let v = std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| format!("integer {} is out of range for int", shorten(t)))?;
                put(out, f.offset, &v.to_ne_bytes());
            }
            Kind::Float => {
                let v = match num::scan_all(trim(text)) {
                    Some((n, t)) => n
                        .to_f64(t)
                        .map_err(|_| format!("number {} is out of range for float", shorten(t)))?,
                    None => return Err(format!("expected a number, {}", found())),
                };
                put(out, f.offset, &v.to_ne_bytes());
            }
            Kind::Bool => {
                let v = match trim(text) {
                    b"true" => 1u8,
                    b"false" => 0u8,
                    _ => return Err(format!("expected true or false, {}", found())),
                };
                put(out, f.offset, &[v]);
            }
            Kind::Str => {
                put(out, f.offset, &(text.as_ptr() as usize).to_ne_bytes());
                put(out, f.offset + 8, &(text.len() as u64).to_ne_bytes());
            }
        }
        if let Some(t) = f.tag {
            put(out, t, &[1]);
        }
        Ok(())
    }
}

fn count_error(ncols: usize, count: usize) -> Result<(), RecordError> {
    if count == ncols {
        return Ok(());
    }
    Err(RecordError::new(format!("expected {ncols} cells as in the header, found {count}")))
}

/// One cell: its text (quotes removed, doubled quotes undone) and whether it was quoted.
#[derive(Clone, Copy)]
struct Cell<'a> {
    text: &'a [u8],
    quoted: bool,
}

impl<'a> Cell<'a> {
    fn text(&self) -> &'a [u8] {
        self.text
    }
}

/// Calls `f(column, cell)` for each cell of a record; returns the number of cells. Cells
/// with doubled quotes are unescaped into the arena.
fn for_each_cell(
    rec: &[u8],
    arena: &mut Arena,
    mut f: impl FnMut(usize, Cell<'_>) -> Result<(), RecordError>,
) -> Result<usize, RecordError> {
    let mut pos = 0;
    let mut col = 0;
    loop {
        let rest = rec.get(pos..).unwrap_or(&[]);
        let (cell, used) = if rest.first() == Some(&b'"') {
            quoted_cell(rest, arena)
                .map_err(|m| RecordError::new(format!("cell {}: {m}", col + 1)))?
        } else {
            let end = memchr::memchr(b',', rest).unwrap_or(rest.len());
            let text = rest.get(..end).unwrap_or(&[]);
            if memchr::memchr(b'"', text).is_some() {
                return Err(RecordError::new(format!(
                    "cell {}: a double quote inside an unquoted cell (quote the whole cell and double the quote)",
                    col + 1
                )));
            }
            (Cell { text, quoted: false }, end)
        };
        f(col, cell)?;
        col += 1;
        pos += used;
        match rec.get(pos) {
            None => return Ok(col),
            Some(_) => pos += 1, // the comma
        }
    }
}

/// A quoted cell at the start of `s`: the cell and the bytes it takes.
fn quoted_cell<'a>(s: &'a [u8], arena: &'a mut Arena) -> Result<(Cell<'a>, usize), String> {
    let body = s.get(1..).unwrap_or(&[]);
    let mut i = 0;
    let mut doubled = 0;
    let end = loop {
        match memchr::memchr(b'"', body.get(i..).unwrap_or(&[])) {
            None => return Err("a quoted cell is not closed".into()),
            Some(j) => {
                i += j;
                if body.get(i + 1) == Some(&b'"') {
                    doubled += 1;
                    i += 2;
                } else {
                    break i;
                }
            }
        }
    };
    let used = end + 2;
    if !matches!(s.get(used), None | Some(b',')) {
        return Err("characters after the closing quote".into());
    }
    let raw = body.get(..end).unwrap_or(&[]);
    if doubled == 0 {
        return Ok((Cell { text: raw, quoted: true }, used));
    }
    let n = raw.len() - doubled;
    let p = arena.alloc(n, 1);
    if p.is_null() {
        return Err("out of memory".into());
    }
    // SAFETY: a fresh arena allocation of `n` bytes, written only through this slice.
    // The returned cell borrows the arena, so the memory cannot be freed (by `reset` or
    // drop) while the cell lives.
    let dst: &'a mut [u8] = unsafe { std::slice::from_raw_parts_mut(p, n) };
    let mut w = 0;
    let mut r = 0;
    while r < raw.len() {
        let c = raw.get(r).copied().unwrap_or(0);
        if let Some(d) = dst.get_mut(w) {
            *d = c;
        }
        w += 1;
        r += if c == b'"' { 2 } else { 1 };
    }
    let dst: &'a [u8] = dst;
    let text = dst.get(..w.min(n)).unwrap_or(&[]);
    Ok((Cell { text, quoted: true }, used))
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| !matches!(c, b' ' | b'\t')).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !matches!(c, b' ' | b'\t')).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or(&[])
}

fn put(out: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(d) = out.get_mut(off..off + bytes.len()) {
        d.copy_from_slice(bytes);
    }
}

fn shorten(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
        None => text.into_owned(),
    }
}

/// The `lines` source: writes the line (its line end already removed) as a `str` value
/// (16 bytes: pointer into `line`, length) at the start of `out`.
pub fn decode_line(line: &[u8], out: &mut [u8]) -> Result<(), RecordError> {
    if let Err(e) = std::str::from_utf8(line) {
        return Err(RecordError::new(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1)));
    }
    if out.len() < 16 {
        return Err(RecordError::new("internal: output buffer smaller than a string"));
    }
    put(out, 0, &(line.as_ptr() as usize).to_ne_bytes());
    put(out, 8, &(line.len() as u64).to_ne_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::chunk::{ChunkReader, Format};
    use crate::io::sig::parse_type;
    use crate::io::write::{CsvEncoder, JsonEncoder};

    /// Reads a whole CSV text with `sig`, returning each row as JSON or its error, with
    /// line numbers.
    type Rows = Vec<(u64, Result<String, String>)>;

    fn read(sig: &str, input: &str) -> Result<Rows, String> {
        let t = parse_type(sig).unwrap();
        let mut r =
            ChunkReader::from_bytes(input.as_bytes().to_vec(), Format::Csv).with_chunk_size(8);
        let (_, header) = r.read_header().unwrap().ok_or("no header")?;
        let dec = CsvDecoder::new(&t, &header)?;
        let enc = JsonEncoder::new(&t);
        let mut arena = Arena::new();
        let mut rows = Vec::new();
        while let Some(chunk) = r.next_chunk().unwrap() {
            for (line, rec) in chunk.records(Format::Csv) {
                let mut out = vec![0xEEu8; dec.size()];
                let row = dec.decode(rec, &mut out, &mut arena).map(|()| {
                    let mut s = Vec::new();
                    // SAFETY: decoded just above; the chunk and arena are alive.
                    unsafe { enc.encode(out.as_ptr(), &mut s) };
                    String::from_utf8(s).unwrap()
                });
                rows.push((line, row.map_err(|e| e.message)));
            }
        }
        Ok(rows)
    }

    fn rows(v: &[(u64, Result<&str, &str>)]) -> Rows {
        v.iter().map(|(l, r)| (*l, r.map(str::to_string).map_err(str::to_string))).collect()
    }

    const T: &str = "{ id: int, name: str?, score: float?, ok: bool }";

    #[test]
    fn rfc4180_rows() {
        let input = "extra,ok,name,id,score\r\nz,true,\"Smith, J\",1,2.5\r\nz,false,\"say \"\"hi\"\"\nbye\",2,\r\n\r\nz,true,,3, 1e3 \nz,true,\"\",4,-0.5";
        assert_eq!(
            read(T, input).unwrap(),
            rows(&[
                (2, Ok(r#"{"id":1,"name":"Smith, J","score":2.5,"ok":true}"#)),
                (3, Ok(r#"{"id":2,"name":"say \"hi\"\nbye","score":null,"ok":false}"#)),
                (6, Ok(r#"{"id":3,"name":null,"score":1000.0,"ok":true}"#)),
                (7, Ok(r#"{"id":4,"name":"","score":-0.5,"ok":true}"#)),
            ])
        );
    }

    #[test]
    fn cell_errors_name_the_field() {
        let input = "id,ok\n1.5,true\nx,true\n,true\n1,yes\n1\n1,true,3\n99999999999999999999,true\n1,a\"b\n1,\"t\"x\n1,\"open";
        assert_eq!(
            read("{ id: int, ok: bool }", input).unwrap(),
            rows(&[
                (2, Err("field `id`: expected an integer, found \"1.5\"")),
                (3, Err("field `id`: expected an integer, found \"x\"")),
                (4, Err("field `id`: empty cell (null), but the field is not optional")),
                (5, Err("field `ok`: expected true or false, found \"yes\"")),
                (6, Err("expected 2 cells as in the header, found 1")),
                (7, Err("expected 2 cells as in the header, found 3")),
                (8, Err("field `id`: integer 99999999999999999999 is out of range for int")),
                (
                    9,
                    Err(
                        "cell 2: a double quote inside an unquoted cell (quote the whole cell and double the quote)"
                    )
                ),
                (10, Err("cell 2: characters after the closing quote")),
                (11, Err("cell 2: a quoted cell is not closed")),
            ])
        );
    }

    /// Found by the `csv` fuzz target: `int` cells are an optional sign and digits (as
    /// documented, and as the interpreter reads them), so leading zeros are allowed.
    #[test]
    fn int_cells_allow_leading_zeros() {
        let input = "id,ok\n007,true\n -01\t,false\n+00,true\n-0,true\n0x1,true\n+-1,true\n09223372036854775807,true\n-009223372036854775809,true\n";
        assert_eq!(
            read("{ id: int, ok: bool }", input).unwrap(),
            rows(&[
                (2, Ok(r#"{"id":7,"ok":true}"#)),
                (3, Ok(r#"{"id":-1,"ok":false}"#)),
                (4, Ok(r#"{"id":0,"ok":true}"#)),
                (5, Ok(r#"{"id":0,"ok":true}"#)),
                (6, Err("field `id`: expected an integer, found \"0x1\"")),
                (7, Err("field `id`: expected an integer, found \"+-1\"")),
                (8, Ok(r#"{"id":9223372036854775807,"ok":true}"#)),
                (9, Err("field `id`: integer -009223372036854775809 is out of range for int")),
            ])
        );
    }

    #[test]
    fn a_row_is_checked_whole_before_its_cells() {
        let input = "id,ok\nx,true,3\nx\n1,yes,\"t\"x\nx,\"open";
        assert_eq!(
            read("{ id: int, ok: bool }", input).unwrap(),
            rows(&[
                (2, Err("expected 2 cells as in the header, found 3")),
                (3, Err("expected 2 cells as in the header, found 1")),
                (4, Err("cell 3: characters after the closing quote")),
                (5, Err("cell 2: a quoted cell is not closed")),
            ])
        );
    }

    #[test]
    fn header_matching() {
        assert_eq!(
            read(T, "id,name\n1,a\n").unwrap_err(),
            "the CSV header has no column `ok` (it has `id`, `name`); declare the field as optional to allow this"
        );
        assert_eq!(
            read("{ id: int, gone: str? }", "\u{FEFF}id,\"x,y\"\n7,q\n").unwrap(),
            rows(&[(2, Ok(r#"{"id":7,"gone":null}"#))])
        );
        assert_eq!(
            read("{ id: int, t: [str] }", "id\n").unwrap_err(),
            "field `t` is not a number, bool or string, so CSV cannot hold it"
        );
        assert_eq!(read("int", "id\n").unwrap_err(), "a CSV source needs a record type");
        assert_eq!(read(T, "").unwrap_err(), "no header");
        let bad = CsvDecoder::new(&parse_type("{ a: int }").unwrap(), b"a,\"b").unwrap_err();
        assert_eq!(bad, "the CSV header: cell 2: a quoted cell is not closed");
    }

    #[test]
    fn csv_round_trip_through_the_writer() {
        let t = parse_type("{ id: int, name: str?, note: str, x: float? }").unwrap();
        let input = "id,name,note,x\n1,\"a,\"\"b\"\"\r\nc\",\"\",\n-2,,plain,0.1\n";
        let mut r = ChunkReader::from_bytes(input.as_bytes().to_vec(), Format::Csv);
        let (_, header) = r.read_header().unwrap().unwrap();
        let dec = CsvDecoder::new(&t, &header).unwrap();
        let enc = CsvEncoder::new(&t).unwrap();
        let mut arena = Arena::new();
        let mut out = Vec::new();
        enc.write_header(&mut out);
        while let Some(chunk) = r.next_chunk().unwrap() {
            for (_, rec) in chunk.records(Format::Csv) {
                let mut buf = vec![0u8; dec.size()];
                dec.decode(rec, &mut buf, &mut arena).unwrap();
                // SAFETY: decoded just above; the chunk and arena are alive.
                unsafe { enc.write_row(buf.as_ptr(), &mut out) };
            }
        }
        assert_eq!(String::from_utf8(out).unwrap(), input);
    }

    #[test]
    fn lines() {
        let mut out = [0u8; 16];
        decode_line(b"h\xC3\xA9", &mut out).unwrap();
        assert_eq!(u64::from_ne_bytes(out[8..].try_into().unwrap()), 3);
        assert_eq!(decode_line(b"a\xFF", &mut out).unwrap_err().message, "invalid UTF-8 at byte 2");
        assert!(decode_line(b"a", &mut out[..8]).is_err());
        let mut s = Vec::new();
        crate::io::write::write_text_line(&mut s, b"x");
        assert_eq!(s, b"x\n");
    }
}
