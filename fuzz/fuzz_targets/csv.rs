//! The runtime's CSV reader (`ChunkReader` with `Format::Csv`, `read_header`,
//! `CsvDecoder`) against the `csv` crate as the oracle for framing records and splitting
//! them into cells, plus Kiln's documented cell rules (docs/run.md "Inputs",
//! runtime/README.md "CSV"), each written out below:
//! - a leading BOM is dropped; records end at `\n` outside quotes, a `\r` before it is
//!   dropped; blank records are skipped, except after a one-column header, where a blank
//!   line is a row of one unquoted empty cell; the header is the first non-blank record;
//! - Kiln is strict RFC 4180: a record must be exactly its cells written out (a cell
//!   quoted, with doubled quotes, or unquoted without quotes), so a quote inside an
//!   unquoted cell, text after a closing quote or an unclosed quote is an error (the `csv`
//!   crate reads those leniently);
//! - the header must be UTF-8 and strict; columns match fields by exact name, the first of
//!   duplicates; a required field without a column is an error, an optional one is null;
//! - a row must be UTF-8 and have as many cells as the header;
//! - an unquoted empty cell is null; a quoted empty cell is "" for `str`, null otherwise;
//!   null for a required field is an error; `int` is an optional sign and digits within
//!   i64, `float` a JSON number or one with a leading `+`, correctly rounded and finite,
//!   both with spaces or tabs around them; `bool` is `true`/`false` (spaces/tabs around
//!   allowed); `str` is the cell as is.
//!
//! The first input byte picks the type, whether a matching header line is put in front of
//! the input, and the chunk size.
#![no_main]

use kiln_runtime::arena::Arena;
use kiln_runtime::io::sig::parse_type;
use kiln_runtime::io::{ChunkReader, CsvDecoder, Format, JsonEncoder};
use kiln_runtime::layout::TypeDesc;
use libfuzzer_sys::fuzz_target;

const TYPES: &[(&str, &str)] = &[
    ("{ id: int, name: str?, score: float?, ok: bool }", "id,name,score,ok\n"),
    ("{ a: str? }", "a\n"),
    ("{ x: int?, y: float, z: str, w: bool? }", "z,\"y\",x,w,extra\n"),
    ("{ \"a b\": int?, q: str, r: float? }", "\"a b\",q\n"),
];

/// One line of the input as the oracle frames it.
#[derive(Debug)]
enum Item {
    /// A blank line (its number).
    Blank(u64),
    /// A record: its first line's number and its bytes without the line end.
    Rec(u64, Vec<u8>),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Stands for a BOM at the start of what the `csv` crate reads, which it would drop (Kiln
/// drops only the one at the start of the input, already gone here): same length, no
/// special byte.
const NOT_BOM: &[u8] = b"\x01\x01\x01";

/// `data` with a leading BOM replaced by [`NOT_BOM`].
fn masked(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    if v.starts_with(BOM) {
        v[..3].copy_from_slice(NOT_BOM);
    }
    v
}

fn reader(data: &[u8]) -> csv::Reader<std::io::Cursor<Vec<u8>>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(std::io::Cursor::new(masked(data)))
}

/// Frames `data` (BOM already removed) with the `csv` crate: each record's bytes are the
/// input between the reader's positions before and after it; the blank lines it skips are
/// the `\n` bytes at the start of that span.
fn frame(data: &[u8]) -> Vec<Item> {
    let mut rdr = reader(data);
    let line_of = |pos: usize| 1 + data[..pos].iter().filter(|&&b| b == b'\n').count() as u64;
    let mut rec = csv::ByteRecord::new();
    let mut items = Vec::new();
    let mut prev = 0;
    loop {
        let more = rdr.read_byte_record(&mut rec).expect("reading memory");
        let end = if more { rdr.position().byte() as usize } else { data.len() };
        let mut s = prev;
        while s < end && data[s] == b'\n' {
            items.push(Item::Blank(line_of(s)));
            s += 1;
        }
        if !more {
            assert_eq!(s, data.len(), "the csv crate skipped more than blank lines");
            return items;
        }
        let mut r = &data[s..end];
        // The `\n` the record ends with is its line end, unless it is inside a quoted cell
        // left open at the end of the input (then the cells change without it).
        if let Some(cut) = r.strip_suffix(b"\n")
            && (end < data.len() || all_cells(cut) == all_cells(r))
        {
            r = cut;
        }
        let r = r.strip_suffix(b"\r").unwrap_or(r);
        items.push(if r.is_empty() {
            Item::Blank(line_of(s))
        } else {
            Item::Rec(line_of(s), r.to_vec())
        });
        prev = end;
    }
}

/// Every record of `data` as the `csv` crate splits it.
fn all_cells(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut rdr = reader(data);
    rdr.byte_records()
        .map(|r| r.expect("reading memory").iter().map(<[u8]>::to_vec).collect())
        .collect()
}

/// The cells of one record `(text, quoted)`, split by the `csv` crate, or `None` when the
/// record is not exactly those cells written out strictly (RFC 4180).
fn cells(rec: &[u8]) -> Option<Vec<(Vec<u8>, bool)>> {
    let mut rdr = reader(rec);
    let mut r = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut r).expect("reading memory") {
        // An empty record: one empty unquoted cell.
        return Some(vec![(Vec::new(), false)]);
    }
    let mut out = Vec::new();
    let mut p = 0;
    for (i, c) in r.iter().enumerate() {
        let mut c = c.to_vec();
        if i == 0 && rec.starts_with(BOM) && c.starts_with(NOT_BOM) {
            c[..3].copy_from_slice(BOM);
        }
        let c = &c[..];
        if i > 0 {
            if rec.get(p) != Some(&b',') {
                return None;
            }
            p += 1;
        }
        if rec.get(p) == Some(&b'"') {
            let mut q = vec![b'"'];
            for &b in c {
                q.push(b);
                if b == b'"' {
                    q.push(b'"');
                }
            }
            q.push(b'"');
            if !rec[p..].starts_with(&q) {
                return None;
            }
            p += q.len();
            out.push((c.to_vec(), true));
        } else {
            if c.contains(&b'"') || !rec[p..].starts_with(c) {
                return None;
            }
            p += c.len();
            out.push((c.to_vec(), false));
        }
    }
    (p == rec.len()).then_some(out)
}

/// A decoded cell, for comparison.
#[derive(Debug, PartialEq)]
enum V {
    Null,
    Int(i64),
    Float(u64),
    Bool(bool),
    Str(String),
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s.iter().position(|c| !matches!(c, b' ' | b'\t')).unwrap_or(s.len());
    let b = s.iter().rposition(|c| !matches!(c, b' ' | b'\t')).map_or(a, |e| e + 1);
    &s[a..b]
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` (JSON), written out.
fn json_number(s: &[u8]) -> bool {
    let mut i = usize::from(s.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let st = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > st
    };
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == s.len()
}

/// What a cell must decode to for a field of type `t`; `Err` when it must be an error.
fn cell(text: &[u8], quoted: bool, t: &TypeDesc) -> Result<V, ()> {
    let (inner, optional) = match t {
        TypeDesc::Optional(i) => (&**i, true),
        t => (t, false),
    };
    if text.is_empty() && !(quoted && *inner == TypeDesc::Str) {
        return if optional { Ok(V::Null) } else { Err(()) };
    }
    let s = std::str::from_utf8(trim(text)).map_err(drop)?;
    match inner {
        TypeDesc::Int => {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            s.parse::<i64>().map(V::Int).map_err(drop)
        }
        TypeDesc::Float => {
            let n = s.strip_prefix('+').filter(|r| !r.starts_with('-')).unwrap_or(s);
            if !json_number(n.as_bytes()) {
                return Err(());
            }
            let v: f64 = n.parse().map_err(drop)?;
            if v.is_finite() { Ok(V::Float(v.to_bits())) } else { Err(()) }
        }
        TypeDesc::Bool => match s {
            "true" => Ok(V::Bool(true)),
            "false" => Ok(V::Bool(false)),
            _ => Err(()),
        },
        TypeDesc::Str => Ok(V::Str(String::from_utf8(text.to_vec()).map_err(drop)?)),
        _ => unreachable!("only scalar fields are fuzzed"),
    }
}

/// The decoder Kiln must build for `header`: for each field, its column.
fn columns(header: &[u8], fields: &[(String, TypeDesc)]) -> Option<Vec<Option<usize>>> {
    std::str::from_utf8(header).ok()?;
    let names = cells(header)?;
    let mut cols = Vec::new();
    for (name, t) in fields {
        let col = names.iter().position(|(n, _)| n == name.as_bytes());
        if col.is_none() && !matches!(t, TypeDesc::Optional(_)) {
            return None;
        }
        cols.push(col);
    }
    Some(cols)
}

/// The row Kiln must decode, or `None` for a record error.
fn row(
    rec: &[u8],
    ncols: usize,
    cols: &[Option<usize>],
    fields: &[(String, TypeDesc)],
) -> Option<Vec<V>> {
    std::str::from_utf8(rec).ok()?;
    let cs = cells(rec)?;
    if cs.len() != ncols {
        return None;
    }
    let mut out = Vec::new();
    for (col, (_, t)) in cols.iter().zip(fields) {
        out.push(match col {
            None => V::Null,
            Some(c) => cell(&cs[*c].0, cs[*c].1, t).ok()?,
        });
    }
    Some(out)
}

/// Kiln's decoded row, read back from its JSON encoding.
fn read_back(json: &[u8], fields: &[(String, TypeDesc)]) -> Vec<V> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("the encoder writes JSON");
    let obj = v.as_object().expect("an object");
    fields
        .iter()
        .map(|(name, t)| {
            let x = &obj[name.as_str()];
            let inner = match t {
                TypeDesc::Optional(i) => &**i,
                t => t,
            };
            match (x, inner) {
                (serde_json::Value::Null, _) => V::Null,
                (x, TypeDesc::Int) => V::Int(x.as_i64().expect("an int")),
                (x, TypeDesc::Float) => V::Float(x.as_f64().expect("a float").to_bits()),
                (x, TypeDesc::Bool) => V::Bool(x.as_bool().expect("a bool")),
                (x, _) => V::Str(x.as_str().expect("a string").to_string()),
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (sig, header) = TYPES[usize::from(mode) % TYPES.len()];
    let ty = parse_type(sig).expect("a fuzzed type");
    let TypeDesc::Record(fields) = &ty else { unreachable!() };
    let mut input = Vec::new();
    if mode & 4 != 0 {
        input.extend_from_slice(header.as_bytes());
    }
    input.extend_from_slice(rest);
    let chunk = usize::from(mode >> 3) + 1;

    // The oracle.
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&input);
    let items = frame(body);
    let Some(hpos) = items.iter().position(|i| matches!(i, Item::Rec(..))) else {
        let mut r = ChunkReader::from_bytes(input.clone(), Format::Csv).with_chunk_size(chunk);
        assert!(r.read_header().expect("memory").is_none(), "a header in blank lines");
        return;
    };
    let Item::Rec(hline, hbytes) = &items[hpos] else { unreachable!() };

    // Kiln.
    let mut r = ChunkReader::from_bytes(input.clone(), Format::Csv).with_chunk_size(chunk);
    let (kline, kheader) = r.read_header().expect("memory").expect("Kiln found no header");
    assert_eq!((kline, &kheader), (*hline, hbytes), "the header record");
    let want_cols = columns(hbytes, fields);
    let dec = match (CsvDecoder::new(&ty, &kheader), want_cols) {
        (Ok(d), Some(cols)) => (d, cols),
        (Err(_), None) => return,
        (Ok(_), None) => panic!("Kiln accepted header {:?}", String::from_utf8_lossy(hbytes)),
        (Err(e), Some(_)) => {
            panic!("Kiln refused header {:?}: {e}", String::from_utf8_lossy(hbytes))
        }
    };
    let (dec, cols) = dec;
    let ncols = cells(hbytes).expect("checked above").len();
    let one_column = ncols == 1;
    assert_eq!(r.format() == Format::CsvOneColumn, one_column, "one-column switch");

    let mut want = Vec::new();
    for it in &items[hpos + 1..] {
        match it {
            Item::Blank(l) if one_column => want.push((*l, Vec::new())),
            Item::Blank(_) => {}
            Item::Rec(l, b) => want.push((*l, b.clone())),
        }
    }
    let enc = JsonEncoder::new(&ty);
    let fmt = r.format();
    let mut arena = Arena::new();
    let mut k = 0;
    while let Some(c) = r.next_chunk().expect("memory") {
        for (line, rec) in c.records(fmt) {
            let (wl, wb) = want.get(k).unwrap_or_else(|| panic!("an extra record {rec:?}"));
            assert_eq!((line, rec), (*wl, &wb[..]), "framing of record {k}");
            k += 1;
            let mut buf = vec![0u64; dec.size().div_ceil(8) + 1];
            // SAFETY: a u64 buffer viewed as bytes (8-aligned, as record layouts need).
            let out = unsafe {
                std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), buf.len() * 8)
            };
            out.fill(0xEE);
            let got = dec.decode(rec, out, &mut arena).map(|()| {
                let mut s = Vec::new();
                // SAFETY: decoded just above; the chunk and the arena are alive.
                unsafe { enc.encode(out.as_ptr(), &mut s) };
                read_back(&s, fields)
            });
            let expected = row(rec, ncols, &cols, fields);
            match (got, expected) {
                (Err(_), None) => {}
                (Ok(g), Some(w)) => assert_eq!(g, w, "row {:?}", String::from_utf8_lossy(rec)),
                (Ok(g), None) => {
                    panic!("Kiln accepted {:?} as {g:?}", String::from_utf8_lossy(rec))
                }
                (Err(e), Some(w)) => {
                    panic!("Kiln refused {:?}: {e}; want {w:?}", String::from_utf8_lossy(rec))
                }
            }
        }
        arena.reset();
    }
    assert_eq!(k, want.len(), "Kiln found fewer records");
});
