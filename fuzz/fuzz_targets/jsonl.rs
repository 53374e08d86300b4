//! The runtime's JSONL reader (`ChunkReader` with `Format::Jsonl`, then `JsonDecoder`)
//! against serde_json as the oracle, for a few declared types (the first input byte picks
//! the type and the chunk size; the rest is the input file).
//!
//! The oracle reads each line with serde_json into a tree that keeps every key (duplicates
//! included) and the raw text of every number, then applies the rules of runtime/README.md
//! ("JSONL"), each written out below:
//! - framing: a leading BOM is dropped, lines end at `\n` (a `\r` before it is dropped),
//!   whitespace-only lines are skipped but counted;
//! - the line must be UTF-8 and one JSON value (serde_json decides; strings, keys included,
//!   must unescape to valid UTF-8, so a lone surrogate escape is an error everywhere);
//! - keys not in the type are skipped, but a skipped value may nest at most 128 levels
//!   (values at depth 129 and below are an error);
//! - every occurrence of a declared key must fit its type, and the last one wins;
//! - a missing key or `null` is null for `T?`, an error otherwise;
//! - `int` takes integer tokens (no fraction, no exponent: `-0` is 0) within i64; `float`
//!   takes any number, correctly rounded (serde_json with `float_roundtrip`; a number that
//!   overflows is an error), `bool`/`str` their JSON kinds.
//!
//! When the oracle accepts a line, Kiln must decode it to the same value (read back by
//! writing it with `JsonEncoder` and reading that with serde_json: floats compare bit for
//! bit); when it refuses, Kiln must report a record error. Nothing may panic.
#![no_main]

use kiln_runtime::arena::Arena;
use kiln_runtime::io::sig::parse_type;
use kiln_runtime::io::{ChunkReader, Format, JsonDecoder, JsonEncoder};
use kiln_runtime::layout::TypeDesc;
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

const TYPES: &[&str] = &[
    "{ a: int, b: float, c: str?, d: [int]?, e: bool }",
    "{ id: int, u: { name: str, tags: [str], score: float? }?, xs: [{ k: str, v: [float?] }], \"é\": bool? }",
    "[{ n: int?, s: str }?]",
    "{ x: [[int]], y: float?, z: str, \"k\\\"ey\": int? }",
];

/// A type of more than 64 fields (the decoder tracks them differently).
fn wide() -> String {
    let fields: Vec<String> =
        (0..70).map(|i| format!("f{i}: {}", if i % 9 == 0 { "int" } else { "float?" })).collect();
    format!("{{ {} }}", fields.join(", "))
}

/// A JSON value as the oracle sees it.
#[derive(Debug)]
enum J {
    Null,
    Bool(bool),
    /// The number's text.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    /// Every key in order, duplicates included.
    Obj(Vec<(String, J)>),
    /// Nested deeper than the oracle follows (far beyond what Kiln accepts).
    Deep,
}

/// An object's entries in order, duplicates kept, values as raw text.
struct Pairs(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The tree of one JSON text already checked by serde_json's raw parser (grammar).
fn build(raw: &str, depth: u32) -> Result<J, serde_json::Error> {
    if depth > 200 {
        return Ok(J::Deep);
    }
    let s = raw.trim_matches([' ', '\t', '\n', '\r']);
    Ok(match s.as_bytes().first() {
        Some(b'{') => {
            let p: Pairs = serde_json::from_str(s)?;
            let mut v = Vec::new();
            for (k, r) in p.0 {
                v.push((k, build(r.get(), depth + 1)?));
            }
            J::Obj(v)
        }
        Some(b'[') => {
            let items: Vec<Box<RawValue>> = serde_json::from_str(s)?;
            J::Arr(items.iter().map(|r| build(r.get(), depth + 1)).collect::<Result<_, _>>()?)
        }
        Some(b'"') => J::Str(serde_json::from_str(s)?),
        Some(b't' | b'f') => J::Bool(serde_json::from_str(s)?),
        Some(b'n') => {
            serde_json::from_str::<()>(s)?;
            J::Null
        }
        _ => {
            // The raw parse validated the number's grammar.
            serde_json::from_str::<serde::de::IgnoredAny>(s).or_else(|e| {
                // An overflowing number is still a JSON number: `float` rejects it later.
                if e.to_string().starts_with("number out of range") {
                    Ok(serde::de::IgnoredAny)
                } else {
                    Err(e)
                }
            })?;
            J::Num(s.to_string())
        }
    })
}

/// Parses a line as the oracle does; `None` when it is not one JSON value.
fn parse(line: &[u8]) -> Option<J> {
    let text = std::str::from_utf8(line).ok()?;
    let raw: Box<RawValue> = serde_json::from_str(text).ok()?;
    build(raw.get(), 0).ok()
}

/// A decoded value, for comparison.
#[derive(Debug, PartialEq)]
enum Out {
    Null,
    Bool(bool),
    Int(i64),
    /// The bits of the f64.
    Float(u64),
    Str(String),
    List(Vec<Out>),
    Rec(Vec<Out>),
}

/// Levels of nesting below a value: 0 for scalars and empty containers.
fn height(j: &J) -> usize {
    match j {
        J::Deep => usize::MAX,
        J::Arr(v) if !v.is_empty() => v.iter().map(height).max().unwrap_or(0).saturating_add(1),
        J::Obj(v) if !v.is_empty() => {
            v.iter().map(|(_, j)| height(j)).max().unwrap_or(0).saturating_add(1)
        }
        _ => 0,
    }
}

/// What Kiln must decode `j` to as a `t`, or `None` when it must report an error.
fn expect(j: &J, t: &TypeDesc) -> Option<Out> {
    if let J::Deep = j {
        return None;
    }
    match t {
        TypeDesc::Optional(inner) => match j {
            J::Null => Some(Out::Null),
            _ => expect(j, inner),
        },
        TypeDesc::Int => match j {
            // JSON integers only: no fraction, no exponent, within i64 (`-0` is 0).
            J::Num(s) if !s.contains(['.', 'e', 'E']) => s.parse::<i64>().ok().map(Out::Int),
            _ => None,
        },
        TypeDesc::Float => match j {
            J::Num(s) => {
                let v: f64 = serde_json::from_str(s).ok()?;
                // Two correctly rounded parsers must agree (a check of the oracle itself).
                assert_eq!(Ok(v.to_bits()), s.parse::<f64>().map(f64::to_bits), "oracle on {s}");
                v.is_finite().then_some(Out::Float(v.to_bits()))
            }
            _ => None,
        },
        TypeDesc::Bool => match j {
            J::Bool(b) => Some(Out::Bool(*b)),
            _ => None,
        },
        TypeDesc::Str => match j {
            J::Str(s) => Some(Out::Str(s.clone())),
            _ => None,
        },
        TypeDesc::List(e) => match j {
            J::Arr(items) => {
                items.iter().map(|x| expect(x, e)).collect::<Option<_>>().map(Out::List)
            }
            _ => None,
        },
        TypeDesc::Record(fields) => {
            let J::Obj(pairs) = j else { return None };
            let mut got: Vec<Option<Out>> = fields.iter().map(|_| None).collect();
            for (k, v) in pairs {
                match fields.iter().position(|(name, _)| name == k) {
                    // Every occurrence must fit; the last one wins.
                    Some(i) => got[i] = Some(expect(v, &fields[i].1)?),
                    // Skipped, but validated and depth-limited.
                    None if height(v) > 128 => return None,
                    None => {}
                }
            }
            let mut out = Vec::new();
            for (g, (_, ft)) in got.into_iter().zip(fields) {
                match (g, ft) {
                    (Some(v), _) => out.push(v),
                    (None, TypeDesc::Optional(_)) => out.push(Out::Null),
                    (None, _) => return None,
                }
            }
            Some(Out::Rec(out))
        }
        TypeDesc::Vec(_) => unreachable!("no vec in the fuzzed types"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else { return };
    let sig = match mode % 5 {
        4 => wide(),
        i => TYPES[i as usize].to_string(),
    };
    let ty = parse_type(&sig).expect("a fuzzed type");
    let chunk = usize::from(mode >> 3) + 1;

    // The oracle's framing.
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut want = Vec::new();
    if !body.is_empty() {
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                continue;
            }
            want.push((i as u64 + 1, line.to_vec()));
        }
    }

    let dec = JsonDecoder::new(&ty);
    let enc = JsonEncoder::new(&ty);
    let mut arena = Arena::new();
    let mut reader = ChunkReader::from_bytes(input.to_vec(), Format::Jsonl).with_chunk_size(chunk);
    let mut k = 0;
    while let Some(c) = reader.next_chunk().expect("reading memory") {
        for (line_no, rec) in c.records(Format::Jsonl) {
            let (want_no, want_line) = want.get(k).expect("Kiln found more records than lines");
            assert_eq!((line_no, rec), (*want_no, &want_line[..]), "framing of record {k}");
            k += 1;
            let mut buf = vec![0u64; dec.size().div_ceil(8) + 1];
            // SAFETY: a u64 buffer viewed as bytes (8-aligned, as record layouts need).
            let out = unsafe {
                std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), buf.len() * 8)
            };
            out.fill(0xA5);
            let got = dec.decode(rec, out, &mut arena);
            let expected = parse(rec).and_then(|j| expect(&j, &ty));
            match (got, expected) {
                (Err(_), None) => {}
                (Err(e), Some(v)) => panic!("Kiln refused a line that fits: {e}\nwant {v:?}"),
                (Ok(()), None) => {
                    let mut s = Vec::new();
                    // SAFETY: decoded just above; the chunk and the arena are alive.
                    unsafe { enc.encode(out.as_ptr(), &mut s) };
                    panic!(
                        "Kiln accepted a line that does not fit, as {}",
                        String::from_utf8_lossy(&s)
                    );
                }
                (Ok(()), Some(v)) => {
                    let mut s = Vec::new();
                    // SAFETY: decoded just above; the chunk and the arena are alive.
                    unsafe { enc.encode(out.as_ptr(), &mut s) };
                    let back =
                        parse(&s).unwrap_or_else(|| panic!("the encoder wrote bad JSON: {s:?}"));
                    let back = expect(&back, &ty).unwrap_or_else(|| {
                        panic!(
                            "the encoder wrote a value of another type: {}",
                            String::from_utf8_lossy(&s)
                        )
                    });
                    assert_eq!(back, v, "decoded {}", String::from_utf8_lossy(&s));
                }
            }
        }
        arena.reset();
    }
    assert_eq!(k, want.len(), "Kiln found fewer records than lines");
});
