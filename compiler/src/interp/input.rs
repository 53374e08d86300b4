//! Sources: records framed by the runtime's `ChunkReader` (line numbers, BOM, `\r\n`,
//! blank JSONL lines skipped but counted, RFC 4180 records), decoded here independently of
//! the runtime's fast decoders but by the same rules (runtime/README.md): JSON through
//! serde_json then converted by the declared type; CSV cells split and converted here.

use super::text::{self, shorten};
use super::value::Value;
use crate::check::types::{Field, Ty};
use kiln_runtime::io::{ChunkReader, Format};
use std::collections::VecDeque;

/// One input record: its 1-based line, its text and the decoded value (or why not).
pub struct Rec {
    pub line: u64,
    pub raw: Vec<u8>,
    pub value: Result<Value, String>,
}

enum Decode {
    Json(Ty),
    Csv { fields: Vec<(Field, Option<usize>)>, ncols: usize },
    Lines,
}

/// A source being read.
pub struct Reader {
    chunks: ChunkReader,
    format: Format,
    decode: Decode,
    pending: VecDeque<(u64, Vec<u8>)>,
}

impl Reader {
    /// Opens a `jsonl`, `csv` or `lines` source at `path` (`-`: standard input). `Err` is a
    /// message: the file cannot be opened, or a CSV header does not fit the type.
    pub fn open(
        path: &str,
        format: crate::check::hir::SourceFormat,
        elem: &Ty,
    ) -> Result<Reader, String> {
        use crate::check::hir::SourceFormat as S;
        let fmt = match format {
            S::Jsonl => Format::Jsonl,
            S::Csv => Format::Csv,
            _ => Format::Lines,
        };
        let mut chunks = ChunkReader::open(path, fmt).map_err(|e| io_message(&e))?;
        let decode = match format {
            S::Jsonl => Decode::Json(elem.clone()),
            S::Csv => {
                let header = chunks.read_header().map_err(|e| io_message(&e))?;
                match header {
                    None => return Err(kiln_runtime::io::csv::NO_HEADER.into()),
                    Some((_, h)) => csv_plan(elem, &h)?,
                }
            }
            _ => Decode::Lines,
        };
        let format = chunks.format();
        Ok(Reader { chunks, format, decode, pending: VecDeque::new() })
    }

    /// The next record, `Ok(None)` at the end, `Err` when reading fails.
    pub fn next_record(&mut self) -> Result<Option<Rec>, String> {
        while self.pending.is_empty() {
            let Some(chunk) = self.chunks.next_chunk().map_err(|e| io_message(&e))? else {
                return Ok(None);
            };
            self.pending.extend(chunk.records(self.format).map(|(l, r)| (l, r.to_vec())));
        }
        let Some((line, raw)) = self.pending.pop_front() else { return Ok(None) };
        let value = match std::str::from_utf8(&raw) {
            Err(e) => Err(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1)),
            Ok(s) => match &self.decode {
                Decode::Json(ty) => decode_json(s, ty),
                Decode::Csv { fields, ncols } => decode_csv(s, fields, *ncols),
                Decode::Lines => Ok(Value::str(s)),
            },
        };
        Ok(Some(Rec { line, raw, value }))
    }
}

pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a folder, not a file".into(),
        _ => e.to_string(),
    }
}

// ---- JSON ------------------------------------------------------------------------------

/// One JSONL line as a value of type `ty`.
///
/// The interpreter decides on its own (through serde_json) whether a line fits the type and
/// what it holds, so it stays an oracle for the runtime's decoder. The words of a rejection
/// are the runtime decoder's: it reads a line once, front to back, and names the first
/// fault it meets (a line with several faults, or cut short after a wrong value, would
/// otherwise be described differently by the two engines).
pub fn decode_json(line: &str, ty: &Ty) -> Result<Value, String> {
    let result = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) => convert(&v, ty, &mut String::new()),
        Err(e) => Err(json_syntax(&e)),
    };
    result.map_err(|own| runtime_error(line, ty).unwrap_or(own))
}

/// The runtime decoder's message for a line it rejects.
fn runtime_error(line: &str, ty: &Ty) -> Option<String> {
    let d = crate::codegen::layout::desc(ty)?;
    let dec = kiln_runtime::io::JsonDecoder::new(&d);
    let mut out = vec![0u8; dec.size() + 16];
    let mut arena = kiln_runtime::arena::Arena::new();
    let e = dec.decode(line.as_bytes(), &mut out, &mut arena).err()?;
    Some(e.to_string())
}

fn json_syntax(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    if e.classify() == serde_json::error::Category::Eof {
        format!("invalid JSON: {what} (the line ends early)")
    } else {
        format!("invalid JSON at column {}: {what}", e.column())
    }
}

fn expected(ty: &Ty) -> String {
    match ty {
        Ty::Int => "an integer".into(),
        Ty::Float => "a number".into(),
        Ty::Bool => "true or false".into(),
        Ty::Str => "a string".into(),
        Ty::List(_) => "an array".into(),
        Ty::Vec(n) => format!("an array of {n} numbers"),
        Ty::Record(_) => "an object".into(),
        Ty::Optional(t) => format!("{} or null", expected(t)),
        other => format!("`{other}`"),
    }
}

fn found(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(_) => "an object".into(),
        serde_json::Value::Array(_) => "an array".into(),
        other => shorten(&other.to_string()),
    }
}

fn type_error(path: &str, msg: String) -> String {
    if path.is_empty() { msg } else { format!("field `{path}`: {msg}") }
}

/// A JSON number as a float, correctly rounded; beyond the float range is an error.
fn finite(n: &serde_json::Number, path: &str) -> Result<f64, String> {
    n.as_f64().ok_or_else(|| {
        type_error(path, format!("number {} is out of range for float", shorten(&n.to_string())))
    })
}

fn convert(v: &serde_json::Value, ty: &Ty, path: &mut String) -> Result<Value, String> {
    use serde_json::Value as J;
    let mismatch =
        |path: &str| type_error(path, format!("expected {}, found {}", expected(ty), found(v)));
    Ok(match (ty, v) {
        (Ty::Optional(_), J::Null) => Value::Null,
        (Ty::Optional(t), _) => convert(v, t, path)?,
        // serde_json keeps a number's text (`arbitrary_precision`; an exponent is written
        // `e+N` / `e-N`): a token with a fraction or an exponent is not an integer (as in
        // the runtime's decoder), `-0` is 0.
        (Ty::Int, J::Number(n)) => {
            let t = n.to_string();
            if t.contains(['.', 'e', 'E']) {
                return Err(type_error(path, format!("expected an integer, found {t}")));
            }
            match t.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => {
                    let msg = format!("integer {} is out of range for int", shorten(&t));
                    return Err(type_error(path, msg));
                }
            }
        }
        (Ty::Float, J::Number(n)) => Value::Float(finite(n, path)?),
        (Ty::Bool, J::Bool(b)) => Value::Bool(*b),
        (Ty::Str, J::String(s)) => Value::str(s),
        (Ty::List(t), J::Array(xs)) => {
            let mut out = Vec::with_capacity(xs.len());
            for (i, x) in xs.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(convert(x, t, path)?);
                path.truncate(len);
            }
            Value::list(out)
        }
        (Ty::Vec(n), J::Array(xs)) => {
            if xs.len() != *n as usize {
                return Err(type_error(
                    path,
                    format!("expected an array of {n} numbers, found {}", xs.len()),
                ));
            }
            let mut out = Vec::with_capacity(xs.len());
            for x in xs {
                match x {
                    // Rounded to f32 from the number's text, once (as the runtime's
                    // decoder does), not through f64 (which can round twice).
                    J::Number(n) => {
                        let x = finite(n, path)?;
                        out.push(n.to_string().parse::<f32>().unwrap_or(x as f32));
                    }
                    _ => return Err(mismatch(path)),
                }
            }
            Value::Vec(out.into())
        }
        (Ty::Record(fields), J::Object(map)) => {
            let mut out = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&f.name);
                match map.get(&*f.name) {
                    None | Some(J::Null) if !f.ty.is_optional() => {
                        return Err(match map.get(&*f.name) {
                            None => format!("missing field `{path}`"),
                            Some(_) => type_error(
                                path,
                                format!("expected {}, found null", expected(&f.ty)),
                            ),
                        });
                    }
                    None => out.push(Value::Null),
                    Some(x) => out.push(convert(x, &f.ty, path)?),
                }
                path.truncate(len);
            }
            Value::record(out)
        }
        _ => return Err(mismatch(path)),
    })
}

// ---- CSV -------------------------------------------------------------------------------

/// One cell: its text (quotes removed, doubled quotes undone) and whether it was quoted.
pub struct Cell {
    pub text: String,
    pub quoted: bool,
}

/// Splits an RFC 4180 record into cells.
pub fn split_cells(rec: &str) -> Result<Vec<Cell>, String> {
    let mut cells = Vec::new();
    let mut rest = rec;
    loop {
        let col = cells.len() + 1;
        if let Some(body) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = body.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err(format!("cell {col}: a quoted cell is not closed")),
                    Some((i, '"')) => {
                        if body[i + 1..].starts_with('"') {
                            text.push('"');
                            chars.next();
                        } else {
                            break i + 1;
                        }
                    }
                    Some((_, c)) => text.push(c),
                }
            };
            rest = &body[end..];
            cells.push(Cell { text, quoted: true });
            match rest.strip_prefix(',') {
                Some(r) => rest = r,
                None if rest.is_empty() => return Ok(cells),
                None => return Err(format!("cell {col}: characters after the closing quote")),
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let text = &rest[..end];
            if text.contains('"') {
                return Err(format!(
                    "cell {col}: a double quote inside an unquoted cell (quote the whole cell and double the quote)"
                ));
            }
            cells.push(Cell { text: text.to_string(), quoted: false });
            if end == rest.len() {
                return Ok(cells);
            }
            rest = &rest[end + 1..];
        }
    }
}

fn csv_plan(elem: &Ty, header: &[u8]) -> Result<Decode, String> {
    let Ty::Record(decl) = elem else {
        return Err("a CSV source needs a record type".into());
    };
    let h =
        std::str::from_utf8(header).map_err(|_| "the CSV header is not valid UTF-8".to_string())?;
    let names = split_cells(h).map_err(|e| format!("the CSV header: {e}"))?;
    let mut fields = Vec::new();
    for f in decl.iter() {
        if !f.ty.strip_optional().is_scalar() {
            return Err(format!(
                "field `{}` is not a number, bool or string, so CSV cannot hold it",
                f.name
            ));
        }
        let col = names.iter().position(|c| c.text == *f.name);
        if col.is_none() && !f.ty.is_optional() {
            let have: Vec<String> = names.iter().map(|c| format!("`{}`", c.text)).collect();
            return Err(format!(
                "the CSV header has no column `{}` (it has {}); declare the field as optional to allow this",
                f.name,
                have.join(", ")
            ));
        }
        fields.push((f.clone(), col));
    }
    Ok(Decode::Csv { fields, ncols: names.len() })
}

fn decode_csv(rec: &str, fields: &[(Field, Option<usize>)], ncols: usize) -> Result<Value, String> {
    let cells = split_cells(rec)?;
    if cells.len() != ncols {
        return Err(format!("expected {ncols} cells as in the header, found {}", cells.len()));
    }
    let mut out = Vec::with_capacity(fields.len());
    for (f, col) in fields {
        let v = match col.and_then(|c| cells.get(c)) {
            None => Value::Null,
            Some(cell) => csv_cell(cell, &f.ty).map_err(|m| format!("field `{}`: {m}", f.name))?,
        };
        out.push(v);
    }
    Ok(Value::record(out))
}

fn csv_cell(cell: &Cell, ty: &Ty) -> Result<Value, String> {
    let inner = ty.strip_optional();
    let t = &cell.text;
    if t.is_empty() && !(*inner == Ty::Str && cell.quoted) {
        return if ty.is_optional() {
            Ok(Value::Null)
        } else {
            Err("empty cell (null), but the field is not optional".into())
        };
    }
    let found = || format!("found \"{}\"", shorten(t));
    let trimmed = t.trim_matches([' ', '\t']);
    Ok(match inner {
        Ty::Int => {
            let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("expected an integer, {}", found()));
            }
            Value::Int(
                trimmed
                    .parse::<i64>()
                    .map_err(|_| format!("integer {} is out of range for int", shorten(trimmed)))?,
            )
        }
        Ty::Float => match text::parse_float(trimmed) {
            Ok(v) => Value::Float(v),
            Err(text::NumErr::OutOfRange) => {
                return Err(format!("number {} is out of range for float", shorten(trimmed)));
            }
            Err(_) => return Err(format!("expected a number, {}", found())),
        },
        Ty::Bool => match trimmed {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("expected true or false, {}", found())),
        },
        _ => Value::str(t),
    })
}
