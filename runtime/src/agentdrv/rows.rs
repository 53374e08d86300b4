//! One JSONL line of an agent executable's input, and one line of its output. `core` only,
//! so the same code runs in the freestanding driver and in the runtime's tests.
//!
//! A row is a JSON array of exactly `input_size` numbers, or a JSON object whose field `x`
//! is such an array (other fields are skipped, whatever their values).

use core::fmt;

/// Why a line is not a row. Columns are 1-based byte offsets into the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowError {
    /// Something other than what the grammar allows at a column.
    Expected {
        what: &'static str,
        col: usize,
    },
    /// The array has the wrong length.
    Count {
        found: usize,
        want: usize,
    },
    /// An object without a field `x`, or with two.
    NoX,
    DuplicateX {
        col: usize,
    },
    /// A number that does not fit an `f32` (it would be infinite).
    Range {
        col: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`] inside a skipped value.
    TooDeep {
        col: usize,
    },
}

/// Deepest nesting of arrays and objects accepted in a skipped field.
pub const MAX_DEPTH: usize = 128;

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RowError::Expected { what, col } => write!(f, "expected {what} at column {col}"),
            RowError::Count { found, want } => {
                write!(f, "the row has {found} numbers, the agent's input_size is {want}")
            }
            RowError::NoX => write!(f, "the object has no field `x` (the input numbers)"),
            RowError::DuplicateX { col } => write!(f, "a second field `x` at column {col}"),
            RowError::Range { col } => write!(f, "the number at column {col} is too large for f32"),
            RowError::TooDeep { col } => {
                write!(f, "values nested more than {MAX_DEPTH} deep at column {col}")
            }
        }
    }
}

/// Whether `line` holds nothing but JSON whitespace (such lines are skipped).
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

/// Parses one row into `out` (whose length is the input size).
pub fn parse_row(line: &[u8], out: &mut [f32]) -> Result<(), RowError> {
    let mut p = Parser { s: line, i: 0 };
    p.ws();
    match p.peek() {
        Some(b'[') => p.array(out)?,
        Some(b'{') => p.object(out)?,
        _ => return Err(p.expected("an array of numbers or an object with field `x`")),
    }
    p.ws();
    if p.i < line.len() {
        return Err(p.expected("the end of the line"));
    }
    Ok(())
}

/// Writes `[v0,v1,...]` and a newline, each value in the shortest form that reads back as
/// the same `f32` (`null` for NaN and infinities, which JSON lacks).
pub fn write_row<W: fmt::Write>(w: &mut W, values: &[f32]) -> fmt::Result {
    w.write_char('[')?;
    let mut buf = ryu::Buffer::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        if v.is_finite() {
            w.write_str(buf.format_finite(*v))?;
        } else {
            w.write_str("null")?;
        }
    }
    w.write_str("]\n")
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn expected(&self, what: &'static str) -> RowError {
        RowError::Expected { what, col: self.i + 1 }
    }

    fn eat(&mut self, c: u8, what: &'static str) -> Result<(), RowError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// `[n, ...]` into `out`; the count must match.
    fn array(&mut self, out: &mut [f32]) -> Result<(), RowError> {
        self.eat(b'[', "`[`")?;
        self.ws();
        let mut found = 0;
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let v = self.number()?;
                if let Some(slot) = out.get_mut(found) {
                    *slot = v;
                }
                found += 1;
                self.ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.expected("`,` or `]`")),
                }
            }
        }
        if found != out.len() {
            return Err(RowError::Count { found, want: out.len() });
        }
        Ok(())
    }

    /// A JSON number (strict grammar), as the nearest `f32`.
    fn number(&mut self) -> Result<f32, RowError> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i > from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if !digits(self) {
            self.i = start;
            return Err(self.expected("a number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.expected("a digit after `.`"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.expected("a digit in the exponent"));
            }
        }
        // The bytes are ASCII digits, signs, `.` and `e`: valid UTF-8 and valid for `parse`.
        let text = core::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        match text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(RowError::Range { col: start + 1 }),
        }
    }

    /// `{"key": value, ...}` with exactly one `"x"`, read into `out`.
    fn object(&mut self, out: &mut [f32]) -> Result<(), RowError> {
        self.eat(b'{', "`{`")?;
        self.ws();
        let mut seen = false;
        if self.peek() == Some(b'}') {
            return Err(RowError::NoX);
        }
        loop {
            self.ws();
            let key_at = self.i;
            let key = self.string()?;
            self.ws();
            self.eat(b':', "`:`")?;
            self.ws();
            if key == b"x" {
                if seen {
                    return Err(RowError::DuplicateX { col: key_at + 1 });
                }
                seen = true;
                self.array(out)?;
            } else {
                self.skip_value()?;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.expected("`,` or `}`")),
            }
        }
        if seen { Ok(()) } else { Err(RowError::NoX) }
    }

    /// A string; returns its raw bytes between the quotes (escapes left as they are).
    fn string(&mut self) -> Result<&'a [u8], RowError> {
        self.eat(b'"', "a string")?;
        let start = self.i;
        loop {
            match self.peek() {
                None => return Err(self.expected("the closing `\"`")),
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
        let end = self.i.min(self.s.len());
        self.i += 1;
        Ok(&self.s[start..end])
    }

    /// `"key":` inside a skipped object.
    fn key(&mut self) -> Result<(), RowError> {
        self.string()?;
        self.ws();
        self.eat(b':', "`:`")
    }

    /// Skips any JSON value (a field other than `x`), checking its bracket structure.
    fn skip_value(&mut self) -> Result<(), RowError> {
        let mut closers = [0u8; MAX_DEPTH];
        let mut depth = 0;
        loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(c @ (b'[' | b'{')) => {
                    if depth == MAX_DEPTH {
                        return Err(RowError::TooDeep { col: self.i + 1 });
                    }
                    closers[depth] = if c == b'[' { b']' } else { b'}' };
                    depth += 1;
                    self.i += 1;
                    self.ws();
                    if c == b'{' && self.peek() != Some(b'}') {
                        self.key()?;
                    }
                    continue;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(b't' | b'f' | b'n') => {
                    let word: &[u8] = match self.peek() {
                        Some(b't') => b"true",
                        Some(b'f') => b"false",
                        _ => b"null",
                    };
                    if !self.s[self.i..].starts_with(word) {
                        return Err(self.expected("a JSON value"));
                    }
                    self.i += word.len();
                }
                Some(c @ (b']' | b'}')) if depth > 0 && closers[depth - 1] == c => {}
                _ => return Err(self.expected("a JSON value")),
            }
            // After a value (or at an empty container's close): commas and closers.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.ws();
                let closer = closers[depth - 1];
                match self.peek() {
                    Some(c) if c == closer => {
                        self.i += 1;
                        depth -= 1;
                    }
                    Some(b',') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.expected("`,` or a closing bracket")),
                }
            }
            if closers[depth - 1] == b'}' {
                self.ws();
                self.key()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: &str, n: usize) -> Result<Vec<f32>, RowError> {
        let mut out = vec![f32::NAN; n];
        parse_row(line.as_bytes(), &mut out).map(|()| out)
    }

    #[test]
    fn arrays_and_objects() {
        assert_eq!(row("[1, -2.5e1,0.25]", 3), Ok(vec![1.0, -25.0, 0.25]));
        assert_eq!(row(" {\"x\": [1,2]} \r", 2), Ok(vec![1.0, 2.0]));
        let skipped =
            r#"{"id": "a\"]}", "y": [[1, {"k": [true, null]}], {}], "label": 3, "x": [0, 1e-3]}"#;
        assert_eq!(row(skipped, 2), Ok(vec![0.0, 0.001]));
        assert_eq!(row("[]", 0), Ok(vec![]));
        assert!(is_blank(b" \t\r") && !is_blank(b" 1"));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(row("[1,2]", 3), Err(RowError::Count { found: 2, want: 3 }));
        assert_eq!(row("[1,2,3,4]", 3), Err(RowError::Count { found: 4, want: 3 }));
        assert_eq!(row("[1,,2]", 2), Err(RowError::Expected { what: "a number", col: 4 }));
        assert_eq!(row("{\"y\": 1}", 1), Err(RowError::NoX));
        assert_eq!(row("{\"x\": [1], \"x\": [2]}", 1), Err(RowError::DuplicateX { col: 12 }));
        assert_eq!(row("[1e39]", 1), Err(RowError::Range { col: 2 }));
        assert!(matches!(row("[1] x", 1), Err(RowError::Expected { col: 5, .. })));
        assert!(matches!(row("[NaN]", 1), Err(RowError::Expected { .. })));
        assert!(matches!(row("{\"a\": tru, \"x\": [1]}", 1), Err(RowError::Expected { .. })));
        assert!(matches!(row("{\"a\": [1}, \"x\": [1]}", 1), Err(RowError::Expected { .. })));
        let deep = format!("{{\"a\": {}{}, \"x\": [1]}}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(row(&deep, 1), Err(RowError::TooDeep { .. })));
        let msg = RowError::Count { found: 2, want: 3 }.to_string();
        assert_eq!(msg, "the row has 2 numbers, the agent's input_size is 3");
    }

    #[test]
    fn output_is_shortest_round_trip() {
        let mut s = String::new();
        write_row(&mut s, &[0.1, 1.0, 1e-30, f32::NAN, -0.0]).unwrap();
        assert_eq!(s, "[0.1,1.0,1e-30,null,-0.0]\n");
        for v in [0.1f32, 1.0 / 3.0, 3.4e38, 1.17e-38] {
            let mut s = String::new();
            write_row(&mut s, &[v]).unwrap();
            assert_eq!(s.trim()[1..s.trim().len() - 1].parse::<f32>().unwrap(), v);
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut out = [0.0f32; 2];
        let bytes = br#"{"x": [1, 2], "y": "\"#;
        for n in 0..bytes.len() {
            let _ = parse_row(&bytes[..n], &mut out);
        }
        for junk in [&b"\"\\"[..], b"{\"", b"{\"a\":[", b"[-", b"[1.", b"[1e", b"{\"a\":\"\\"] {
            let _ = parse_row(junk, &mut out);
        }
    }
}
