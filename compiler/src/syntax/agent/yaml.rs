//! A YAML document as a tree of nodes that each remember their byte range, so every
//! validation problem of an `.af` file can point at the exact value. serde-saphyr does the
//! parsing; [`Spanned`] gives us the locations.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;
use std::ops::Range;

/// One YAML value and where it came from (byte range in the YAML text).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order; a key's range is that of the key text.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// A short description for messages: "a string", "a list", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }
}

/// What serde hands us before locations are attached: children are `Spanned` so that the
/// deserializer records where each one starts.
struct Raw(Value);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw(Value::Int(v as i128)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw(Value::Int(v as i128)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw(Value::Int(v)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(Raw(Value::Int(i128::try_from(v).unwrap_or(i128::MAX))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw(Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw(Value::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw(Value::Str(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw(Value::Seq(items.into_iter().map(pending).collect())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<Raw>, Spanned<Raw>>()? {
            entries.push((pending(k), pending(v)));
        }
        Ok(Raw(Value::Map(entries)))
    }
}

/// A node whose range still holds serde-saphyr's raw location; [`fix_ranges`] converts it.
fn pending(s: Spanned<Raw>) -> Node {
    Node { value: s.value.0, range: encode(s.referenced) }
}

/// Locations are stashed as (byte offset, byte length) when known, else (line, column)
/// packed with a marker so that [`fix_ranges`] can turn them into byte ranges.
const LINECOL: usize = 1 << 62;

fn encode(loc: Location) -> Range<usize> {
    let span = loc.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(o), Some(l)) => o as usize..(o + l) as usize,
        _ => LINECOL | loc.line() as usize..loc.column() as usize,
    }
}

/// Byte offset of a one-based (line, column) position; the column counts characters.
pub fn byte_of_line_col(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_text = &rest[..rest.find('\n').unwrap_or(rest.len())];
    start
        + line_text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(line_text.len())
}

fn fix_ranges(node: &mut Node, text: &str) {
    if node.range.start & LINECOL != 0 {
        let b = byte_of_line_col(text, node.range.start & !LINECOL, node.range.end);
        node.range = b..b;
    }
    // Clamp to the text and to character boundaries, whatever the parser said.
    let mut s = node.range.start.min(text.len());
    let mut e = node.range.end.clamp(s, text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    if e == s {
        // Widen an empty range to the token that starts there, so it underlines something.
        let rest = &text[s..];
        let tok = rest.find(['\n', '#']).unwrap_or(rest.len());
        e = s + rest[..tok].trim_end().len();
    }
    node.range = s..e;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| fix_ranges(n, text)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            fix_ranges(k, text);
            fix_ranges(v, text);
        }),
        _ => {}
    }
}

/// A YAML syntax (or structure) error: a message and a byte range.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub range: Range<usize>,
}

/// Parses one YAML document into a located tree. An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.trim().is_empty() {
        return Ok(Node { value: Value::Null, range: 0..0 });
    }
    let parsed = std::panic::catch_unwind(|| serde_saphyr::from_str::<Spanned<Raw>>(text));
    match parsed {
        Ok(Ok(root)) => {
            let mut node = pending(root);
            fix_ranges(&mut node, text);
            Ok(node)
        }
        Ok(Err(e)) => {
            let range = match e.location() {
                Some(loc) => {
                    let mut n = Node { value: Value::Null, range: encode(loc) };
                    fix_ranges(&mut n, text);
                    n.range
                }
                None => 0..0,
            };
            Err(YamlError { message: clean_message(&e.without_snippet().to_string()), range })
        }
        Err(_) => Err(YamlError {
            message: "the YAML parser failed on this document".into(),
            range: 0..0,
        }),
    }
}

/// serde-saphyr's messages end with " at line L column C"; the diagnostic already says where.
fn clean_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("invalid YAML").trim();
    let cut = first.find(" at line ").map(|i| &first[..i]).unwrap_or(first);
    cut.trim_end_matches(['.', ':']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_point_at_values() {
        let text = "a: 1\nb:\n  c: [x, \"yé\"]\n  d: 2.5\n";
        let root = parse(text).unwrap();
        let m = root.as_map().unwrap();
        assert_eq!(&text[m[0].0.range.clone()], "a");
        assert_eq!(&text[m[0].1.range.clone()], "1");
        let inner = m[1].1.as_map().unwrap();
        let Value::Seq(items) = &inner[0].1.value else { panic!() };
        assert_eq!(&text[items[1].range.clone()], "\"yé\"");
        assert_eq!(&text[inner[1].1.range.clone()], "2.5");
        assert_eq!(inner[1].1.as_f64(), Some(2.5));
    }

    #[test]
    fn syntax_error_has_location() {
        let text = "a: 1\nb: [1, 2\nc: 3\n";
        let e = parse(text).unwrap_err();
        assert!(!e.message.is_empty());
        assert!(e.range.start > 0, "{e:?}");
    }
}
