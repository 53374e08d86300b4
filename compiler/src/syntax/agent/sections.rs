//! The binary part of an `.af` file: `---BINARY_SECTION:<name>---` lines, each followed by
//! base64 text (line breaks and other whitespace ignored) of little-endian `f32` values.

use std::ops::Range;

/// The marker that starts a section header line.
pub const MARKER: &str = "---BINARY_SECTION";

/// One section as it appears in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    /// The header line, without its line break.
    pub header: Range<usize>,
    /// The base64 body: from the line after the header to the next header or the end.
    pub body: Range<usize>,
}

/// A header line that does not have the form `---BINARY_SECTION:<name>---`.
#[derive(Debug, Clone, PartialEq)]
pub struct BadHeader {
    pub range: Range<usize>,
}

/// The file split into its YAML part (always a prefix) and its sections.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub yaml: Range<usize>,
    pub sections: Vec<Section>,
    pub bad_headers: Vec<BadHeader>,
}

/// Splits `text` at every line that starts with [`MARKER`].
pub fn split(text: &str) -> Layout {
    let mut headers: Vec<(Range<usize>, Option<String>)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.starts_with(MARKER) {
            headers.push((pos..pos + content.len(), header_name(content)));
        }
        pos += line.len();
    }
    let yaml_end = headers.first().map(|h| h.0.start).unwrap_or(text.len());
    let mut sections = Vec::new();
    let mut bad_headers = Vec::new();
    for (i, (range, name)) in headers.iter().enumerate() {
        let body_start = (range.end + 1).min(text.len());
        let body_end = headers.get(i + 1).map(|h| h.0.start).unwrap_or(text.len()).max(body_start);
        match name {
            Some(name) => sections.push(Section {
                name: name.clone(),
                header: range.clone(),
                body: body_start..body_end,
            }),
            None => bad_headers.push(BadHeader { range: range.clone() }),
        }
    }
    Layout { yaml: 0..yaml_end, sections, bad_headers }
}

fn header_name(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_prefix(MARKER)?.strip_prefix(':')?;
    let name = rest.strip_suffix("---")?;
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    ok.then(|| name.to_string())
}

/// Why a section body could not be decoded; `range` is a byte range in the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub message: String,
    pub range: Range<usize>,
}

fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes a section body (at `body` in `text`) into `f32` values.
pub fn decode_f32(text: &str, body: Range<usize>) -> Result<Vec<f32>, DecodeError> {
    let bytes = text.as_bytes();
    // Base64 digits with their positions; padding only at the very end.
    let mut digits: Vec<(u32, usize)> = Vec::new();
    let mut pad: Option<usize> = None;
    let mut pads = 0;
    for i in body.clone() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            continue;
        }
        let bad = |what: &str| {
            let ch = text[i..].chars().next().unwrap_or('?');
            DecodeError {
                message: format!("{what} {ch:?} in base64 data"),
                range: i..i + ch.len_utf8(),
            }
        };
        if c == b'=' {
            pad.get_or_insert(i);
            pads += 1;
            continue;
        }
        if pad.is_some() {
            return Err(bad("data after padding:"));
        }
        match b64_value(c) {
            Some(v) => digits.push((v, i)),
            None => return Err(bad("invalid character")),
        }
    }
    let end_range = || {
        let last = digits.last().map(|d| d.1).unwrap_or(body.start);
        let e = pad.map(|p| p + pads).unwrap_or(last + 1).min(text.len());
        last.min(e)..e
    };
    if digits.len() % 4 == 1 || (pads > 0 && !(digits.len() + pads).is_multiple_of(4)) || pads > 2 {
        return Err(DecodeError {
            message: format!(
                "truncated base64 data: {} digits do not form whole bytes",
                digits.len()
            ),
            range: end_range(),
        });
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut acc = 0u32;
        for (k, d) in chunk.iter().enumerate() {
            acc |= d.0 << (18 - 6 * k);
        }
        let n = chunk.len() - 1; // 4 digits → 3 bytes, 3 → 2, 2 → 1
        for k in 0..n {
            out.push((acc >> (16 - 8 * k)) as u8);
        }
    }
    if out.len() % 4 != 0 {
        return Err(DecodeError {
            message: format!(
                "truncated data: {} bytes is not a whole number of 4-byte f32 values",
                out.len()
            ),
            range: end_range(),
        });
    }
    Ok(out.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Base64 (standard alphabet, padded) of `values` as little-endian `f32`, wrapped at 76
/// columns, each line ending in `\n`.
pub fn encode_f32(values: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut flat = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let acc = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                flat.push(ALPHABET[(acc >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                flat.push('=');
            }
        }
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / 76 + 1);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in 0..9 {
            let v: Vec<f32> = (0..n).map(|i| i as f32 * 1.5 - 3.0).collect();
            let enc = encode_f32(&v);
            assert_eq!(decode_f32(&enc, 0..enc.len()).unwrap(), v);
        }
    }

    #[test]
    fn split_sections() {
        let t = "name: x\n---BINARY_SECTION:a---\nAAAA\nAAAA\n---BINARY_SECTION:b---\n---BINARY_SECTION:bad\n";
        let l = split(t);
        assert_eq!(&t[l.yaml.clone()], "name: x\n");
        assert_eq!(l.sections.len(), 2);
        assert_eq!(&t[l.sections[0].body.clone()], "AAAA\nAAAA\n");
        assert_eq!(l.bad_headers.len(), 1);
    }

    #[test]
    fn truncated_and_invalid() {
        let t = "AAAAAAAA";
        let e = decode_f32(t, 0..t.len()).unwrap_err();
        assert!(e.message.contains("truncated"), "{e:?}");
        let t = "AAAA\nA*AA";
        assert_eq!(decode_f32(t, 0..t.len()).unwrap_err().range, 6..7);
        let t = "AAAAA";
        assert!(decode_f32(t, 0..t.len()).unwrap_err().message.contains("truncated"));
    }
}
