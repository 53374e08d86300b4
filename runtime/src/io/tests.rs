//! Tests across the readers and writers: decode with a plan, encode back, compare.

use super::sig::parse_type;
use super::*;
use crate::arena::Arena;

/// Decodes `line` as `sig` and prints it back as JSON.
fn rt(sig: &str, line: &str) -> Result<String, String> {
    rt_bytes(sig, line.as_bytes())
}

fn rt_bytes(sig: &str, line: &[u8]) -> Result<String, String> {
    let t = parse_type(sig).unwrap();
    let dec = JsonDecoder::new(&t);
    let mut arena = Arena::new();
    // Garbage in the buffer must not leak into the result.
    let mut out = vec![0xA5u8; dec.size()];
    dec.decode(line, &mut out, &mut arena).map_err(|e| e.message)?;
    let mut s = Vec::new();
    // SAFETY: `out` was filled by a successful decode of the same type; the line and the
    // arena it points into are alive.
    unsafe { JsonEncoder::new(&t).encode(out.as_ptr(), &mut s) };
    Ok(String::from_utf8(s).unwrap())
}

fn ok(sig: &str, line: &str, want: &str) {
    assert_eq!(rt(sig, line).as_deref(), Ok(want), "{line}");
}

fn err(sig: &str, line: &str, want: &str) {
    assert_eq!(rt(sig, line).unwrap_err(), want, "{line}");
}

const REVIEW: &str = "{ id: int, text: str, stars: int, tags: [str]? }";

#[test]
fn records_in_declared_order_skipping_unread_fields() {
    ok(
        REVIEW,
        r#"{"stars": 4, "extra": {"deep": [1, {"x": null}], "s": "\"}"}, "text": "good", "id": 7, "tags": ["a", "b"]}"#,
        r#"{"id":7,"text":"good","stars":4,"tags":["a","b"]}"#,
    );
    ok(REVIEW, r#"{"id":1,"text":"","stars":0}"#, r#"{"id":1,"text":"","stars":0,"tags":null}"#);
    ok(
        REVIEW,
        r#"{"id":1,"text":"","stars":0,"tags":null}"#,
        r#"{"id":1,"text":"","stars":0,"tags":null}"#,
    );
    ok(
        REVIEW,
        r#" { "id" : 1 , "text" : "x" , "stars" : 2 , "tags" : [ ] } "#,
        r#"{"id":1,"text":"x","stars":2,"tags":[]}"#,
    );
    ok("{ a: int }", r#"{"a":1,"a":2}"#, r#"{"a":2}"#);
    ok("{}", r#"{"a":1}"#, "{}");
}

#[test]
fn scalars_at_the_top_level() {
    ok("int", "-9223372036854775808", "-9223372036854775808");
    ok("float", "1", "1.0");
    ok("float", "0.30000000000000004", "0.30000000000000004");
    ok("float", "1e300", "1e300");
    ok("float", "-0.0", "-0.0");
    ok("bool", "true", "true");
    ok("str?", "null", "null");
    ok("int?", " 3 ", "3");
    ok("[int]", "[1,2,3,4,5,6,7,8,9,10]", "[1,2,3,4,5,6,7,8,9,10]");
}

#[test]
fn strings_unescape_and_keep_unicode() {
    ok("str", r#""h\u00e9llo \"w\"\\/\b\f\n\r\t""#, r#""héllo \"w\"\\/\b\f\n\r\t""#);
    ok("str", r#""\uD83D\uDE00 and 😀 and \u0001""#, r#""😀 and 😀 and \u0001""#);
    ok("str", r#""日本語""#, r#""日本語""#);
    ok("{ \"k\\\"ey\": int }", r#"{"k\"ey": 5}"#, r#"{"k\"ey":5}"#);
    ok("{ \"é\": int }", r#"{"\u00e9": 5}"#, r#"{"é":5}"#);
    err("str", r#""\uD83D""#, "invalid JSON at column 8: unpaired surrogate in a \\u escape");
    err("str", r#""\uDE00x""#, "invalid JSON at column 8: unpaired surrogate in a \\u escape");
    err(
        "str",
        r#""\uD83Dx\uDE00""#,
        "invalid JSON at column 8: unpaired surrogate in a \\u escape",
    );
    err(
        "str",
        r#""\u12G4""#,
        "invalid JSON at column 4: invalid \\u escape (four hex digits needed)",
    );
    err("str", r#""\x""#, "invalid JSON at column 3: invalid escape in a string");
    err("str", "\"a\tb\"", "invalid JSON at column 3: control character in a string (escape it)");
    err(
        "str",
        "\"a\\n\tb\"",
        "invalid JSON at column 5: control character in a string (escape it)",
    );
    err("str", r#""abc"#, "invalid JSON: unterminated string (the line ends early)");
    err("str", r#""a\"#, "invalid JSON: unterminated string (the line ends early)");
    assert_eq!(rt_bytes("str", b"\"a\xFFb\"").unwrap_err(), "invalid UTF-8 at byte 3");
    assert_eq!(
        rt_bytes("{ a: int }", b"{\"a\":1,\"b\":\"\xC3\"}").unwrap_err(),
        "invalid UTF-8 at byte 13"
    );
}

#[test]
fn long_strings_cross_word_boundaries() {
    for n in 0..40 {
        let s: String = "abcdefghij".chars().cycle().take(n).collect();
        ok("str", &format!("\"{s}\""), &format!("\"{s}\""));
        ok("str", &format!("\"{s}\\n{s}\""), &format!("\"{s}\\n{s}\""));
        ok("str", &format!("\"{s}é\\\"\""), &format!("\"{s}é\\\"\""));
    }
}

#[test]
fn numbers_per_type() {
    err(
        "{ stars: int }",
        r#"{"stars": "five"}"#,
        "field `stars`: expected an integer, found \"five\"",
    );
    err("{ stars: int }", r#"{"stars": 1.5}"#, "field `stars`: expected an integer, found 1.5");
    err("{ stars: int }", r#"{"stars": 1e3}"#, "field `stars`: expected an integer, found 1e3");
    err("{ stars: int }", r#"{"stars": 1.0}"#, "field `stars`: expected an integer, found 1.0");
    err(
        "{ id: int }",
        r#"{"id": 9223372036854775808}"#,
        "field `id`: integer 9223372036854775808 is out of range for int",
    );
    err(
        "{ id: int }",
        r#"{"id": 123456789012345678901234567890}"#,
        "field `id`: integer 123456789012345678901234567890 is out of range for int",
    );
    ok("{ id: int }", r#"{"id": 9223372036854775807}"#, r#"{"id":9223372036854775807}"#);
    ok(
        "{ x: float }",
        r#"{"x": 123456789012345678901234567890}"#,
        r#"{"x":1.2345678901234568e29}"#,
    );
    err("{ x: float }", r#"{"x": 1e999}"#, "field `x`: number 1e999 is out of range for float");
    err("{ x: float }", r#"{"x": true}"#, "field `x`: expected a number, found true");
    err(
        "{ x: float }",
        r#"{"x": 01}"#,
        "invalid JSON at column 8: expected `,` or `}` in an object",
    );
    err("{ x: float }", r#"{"x": -}"#, "invalid JSON at column 7: invalid number");
    err("{ x: float }", r#"{"x": .5}"#, "invalid JSON at column 7: expected a value");
    err("{ b: bool }", r#"{"b": 1}"#, "field `b`: expected true or false, found 1");
    err("{ b: bool }", r#"{"b": tru}"#, "invalid JSON at column 7: expected a value");
}

#[test]
fn nulls_and_missing_fields() {
    err(REVIEW, r#"{"id":1,"text":"x"}"#, "missing field `stars`");
    err(
        REVIEW,
        r#"{"id":1,"text":"x","stars":null}"#,
        "field `stars`: expected an integer, found null",
    );
    err("{ u: { name: str } }", r#"{"u": {}}"#, "missing field `u.name`");
    err("{ u: { name: str } }", r#"{"u": null}"#, "field `u`: expected an object, found null");
    ok(
        "{ u: { name: str, n: int? }? }",
        r#"{"u": {"name":"a"}}"#,
        r#"{"u":{"name":"a","n":null}}"#,
    );
    ok("{ u: { name: str, n: int? }? }", r#"{}"#, r#"{"u":null}"#);
    ok("{ u: { name: str, n: int? }? }", r#"{"u":null}"#, r#"{"u":null}"#);
    err(
        "{ u: { name: str }? }",
        r#"{"u":{"name":3}}"#,
        "field `u.name`: expected a string, found 3",
    );
    ok(
        "[{ a: bool? }?]",
        r#"[null, {"a": true}, {}, {"a": null}]"#,
        r#"[null,{"a":true},{"a":null},{"a":null}]"#,
    );
}

#[test]
fn lists_and_nesting() {
    ok("[[int]]", "[[], [1], [1,2,3,4,5], []]", "[[],[1],[1,2,3,4,5],[]]");
    let many: Vec<String> = (0..1000).map(|i| format!("\"s{i}\"")).collect();
    let many = format!("[{}]", many.join(","));
    ok("[str]", &many, &many.replace(' ', ""));
    ok(
        "[{ a: bool, b: int }]",
        r#"[{"a":true,"b":1},{"b":2,"a":false}]"#,
        r#"[{"a":true,"b":1},{"a":false,"b":2}]"#,
    );
    err("{ tags: [str] }", r#"{"tags": ["a", 2]}"#, "field `tags[1]`: expected a string, found 2");
    err(
        "{ m: [[int]] }",
        r#"{"m": [[1], [2, "x"]]}"#,
        "field `m[1][1]`: expected an integer, found \"x\"",
    );
    err("{ tags: [str] }", r#"{"tags": "a"}"#, "field `tags`: expected an array, found \"a\"");
    err(
        "{ tags: [str] }",
        r#"{"tags": ["a" "b"]}"#,
        "invalid JSON at column 15: expected `,` or `]` in an array",
    );
    err("{ tags: [str] }", r#"{"tags": ["a",]}"#, "invalid JSON at column 15: expected a value");
    let deep = format!("{{\"a\":1,\"x\":{}{}}}", "[".repeat(127), "]".repeat(127));
    ok("{ a: int }", &deep, r#"{"a":1}"#);
    let too_deep = format!("{{\"a\":1,\"x\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert!(rt("{ a: int }", &too_deep).unwrap_err().contains("nested deeper than 128"));
    let deep_type = format!("{}int{}", "[".repeat(30), "]".repeat(30));
    let deep_val = format!("{}7{}", "[".repeat(30), "]".repeat(30));
    ok(&deep_type, &deep_val, &deep_val);
}

#[test]
fn vectors() {
    ok("{ v: vec[3] }", r#"{"v": [1, 0.1, -2.5e-3]}"#, r#"{"v":[1.0,0.1,-0.0025]}"#);
    ok("vec[0]", "[]", "[]");
    ok("vec[1]", "[16777217]", "[16777216.0]");
    err("{ v: vec[3] }", r#"{"v": [1, 2]}"#, "field `v`: expected an array of 3 numbers, found 2");
    err(
        "{ v: vec[3] }",
        r#"{"v": [1, 2, 3, 4, 5]}"#,
        "field `v`: expected an array of 3 numbers, found 5",
    );
    err("{ v: vec[3] }", r#"{"v": [1, "2", 3]}"#, "field `v[1]`: expected a number, found \"2\"");
    err("{ v: vec[1] }", r#"{"v": [1e39]}"#, "field `v[0]`: number 1e39 is out of range for f32");
    let t = parse_type("{ a: bool, v: vec[8] }").unwrap();
    let dec = JsonDecoder::new(&t);
    let mut arena = Arena::new();
    let mut out = vec![0u8; dec.size()];
    dec.decode(br#"{"a":true,"v":[1,2,3,4,5,6,7,8]}"#, &mut out, &mut arena).unwrap();
    let p = usize::from_ne_bytes(out[8..16].try_into().unwrap());
    assert_eq!(p % 32, 0, "vectors are 32-byte aligned");
}

#[test]
fn syntax_errors() {
    err(REVIEW, "", "invalid JSON: expected a value (the line ends early)");
    err(REVIEW, "{", "invalid JSON: expected a key in double quotes (the line ends early)");
    err(
        REVIEW,
        r#"{"id":1,"#,
        "invalid JSON: expected a key in double quotes (the line ends early)",
    );
    err(REVIEW, r#"{"id" 1}"#, "invalid JSON at column 7: expected `:` after the key");
    err(REVIEW, r#"{id: 1}"#, "invalid JSON at column 2: expected a key in double quotes");
    err(
        REVIEW,
        r#"{"id":1,"text":"x","stars":1} x"#,
        "invalid JSON at column 31: unexpected characters after the value",
    );
    err(REVIEW, "[1]", "expected an object, found an array");
    err("{ a: int }", r#"{"a":1,"b":[1,}"#, "invalid JSON at column 15: expected a value");
    err("{ a: int }", r#"{"a":1,"b":nul}"#, "invalid JSON at column 12: expected a value");
}

#[test]
fn writer_number_formats() {
    let f = |v: f64| f64_to_string(v);
    assert_eq!(f(2.0), "2.0");
    assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(f(1e300), "1e300");
    assert_eq!(f(1e-7), "1e-7");
    assert_eq!(f(1e16), "1e16");
    assert_eq!(f(123456.0), "123456.0");
    assert_eq!(f(f64::NAN), "null");
    assert_eq!(f(f64::INFINITY), "null");
    assert_eq!(f(f64::NEG_INFINITY), "null");
    assert_eq!(f(5e-324), "5e-324");
    for v in [2.0, 0.1, 1e300, 1e-7, 5e-324, -3.25, 1e16, 123456789.125] {
        let s = f(v);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&s).unwrap().as_f64(),
            Some(v),
            "{s} is JSON"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(&s).unwrap().is_f64(),
            "{s} reads back as a float"
        );
    }
    let mut out = Vec::new();
    format_f32(&mut out, 0.1f32);
    out.push(b' ');
    format_f32(&mut out, 16777216.0);
    out.push(b' ');
    format_f32(&mut out, f32::NAN);
    out.push(b' ');
    format_i64(&mut out, i64::MIN);
    assert_eq!(String::from_utf8(out).unwrap(), "0.1 16777216.0 null -9223372036854775808");
}

#[test]
fn json_string_escaping_matches_serde_json() {
    let samples = [
        "",
        "plain",
        "q\"b\\s/",
        "\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}",
        "é日本😀",
        "\u{2028}",
        &"x".repeat(100),
    ];
    for s in samples {
        let mut out = Vec::new();
        write_json_str(&mut out, s);
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap());
    }
}

#[test]
fn error_records() {
    let mut out = Vec::new();
    error_record(
        &mut out,
        "data/r.jsonl",
        12,
        "good",
        "field `stars`: expected an integer, found \"five\"",
        b"{\"stars\":\"five\"}\xFF",
    );
    let line = String::from_utf8(out).unwrap();
    assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["source"], "data/r.jsonl");
    assert_eq!(v["line"], 12);
    assert_eq!(v["stage"], "good");
    assert_eq!(v["message"], "field `stars`: expected an integer, found \"five\"");
    assert_eq!(v["raw"], "{\"stars\":\"five\"}\u{FFFD}");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["source", "line", "stage", "message", "raw"]);
}

#[test]
fn csv_writer() {
    let t = parse_type("{ id: int, name: str?, score: float, ok: bool, note: str }").unwrap();
    let enc = CsvEncoder::new(&t).unwrap();
    let dec = JsonDecoder::new(&t);
    let mut arena = Arena::new();
    let mut out = Vec::new();
    enc.write_header(&mut out);
    for line in [
        r#"{"id":1,"name":"a,b","score":2,"ok":true,"note":"say \"hi\""}"#,
        r#"{"id":-2,"name":null,"score":0.5,"ok":false,"note":""}"#,
        r#"{"id":3,"name":"x\ny","score":1e300,"ok":false,"note":"plain"}"#,
    ] {
        let mut buf = vec![0u8; dec.size()];
        dec.decode(line.as_bytes(), &mut buf, &mut arena).unwrap();
        // SAFETY: decoded just above with the same type; the line and arena are alive.
        unsafe { enc.write_row(buf.as_ptr(), &mut out) };
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "id,name,score,ok,note\n1,\"a,b\",2.0,true,\"say \"\"hi\"\"\"\n-2,,0.5,false,\"\"\n3,\"x\ny\",1e300,false,plain\n"
    );
    assert_eq!(
        CsvEncoder::new(&parse_type("{ a: int, tags: [str] }").unwrap()).unwrap_err(),
        "field `tags` is not a number, bool or string, so it has no CSV column"
    );
}

#[test]
fn decoding_never_panics_on_mangled_input() {
    let t =
        parse_type("{ id: int, text: str, v: vec[2]?, tags: [{ a: str, b: float? }]? }").unwrap();
    let dec = JsonDecoder::new(&t);
    let mut arena = Arena::new();
    let base = br#"{"id": 12, "text": "h\u00e9 \"x\"", "v": [1.5, 2], "tags": [{"a": "q", "b": null}], "z": [true, {"k": 1e5}]}"#;
    let mut out = vec![0u8; dec.size()];
    dec.decode(base, &mut out, &mut arena).unwrap();
    let mut seed = 0x1234_5678_9abc_def0u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut line = base.to_vec();
        let pos = (seed as usize) % line.len();
        match (seed >> 32) % 3 {
            0 => line[pos] = (seed >> 40) as u8,
            1 => {
                line.truncate(pos);
            }
            _ => {
                line.remove(pos);
            }
        }
        let _ = dec.decode(&line, &mut out, &mut arena);
    }
}

#[test]
fn end_to_end_file_with_bom_crlf_bad_lines_and_no_final_newline() {
    let t = parse_type("{ id: int, name: str }").unwrap();
    let dec = JsonDecoder::new(&t);
    let enc = JsonEncoder::new(&t);
    let input = b"\xEF\xBB\xBF{\"id\":1,\"name\":\"a\"}\r\n\r\n{\"id\":\"x\",\"name\":\"b\"}\r\n{\"id\":3,\"name\":\"\xFF\"}\r\n{\"id\":4,\"name\":\"\\u00e9\"}";
    for size in [1, 16, 1 << 20] {
        let streamed: Box<dyn std::io::Read + Send> =
            Box::new(std::io::Cursor::new(input.to_vec()));
        for mut reader in [
            ChunkReader::from_bytes(input.to_vec(), Format::Jsonl).with_chunk_size(size),
            ChunkReader::from_reader(streamed, Format::Jsonl).with_chunk_size(size),
        ] {
            let mut arena = Arena::new();
            let mut good = Vec::new();
            let mut errors = Vec::new();
            while let Some(chunk) = reader.next_chunk().unwrap() {
                for (line, rec) in chunk.records(Format::Jsonl) {
                    let mut out = vec![0u8; dec.size()];
                    match dec.decode(rec, &mut out, &mut arena) {
                        // SAFETY: decoded just above; the chunk and the arena are alive.
                        Ok(()) => unsafe { enc.write_line(out.as_ptr(), &mut good) },
                        Err(e) => {
                            error_record(&mut errors, "in.jsonl", line, "source", &e.message, rec)
                        }
                    }
                }
                arena.reset();
            }
            assert_eq!(
                String::from_utf8(good).unwrap(),
                "{\"id\":1,\"name\":\"a\"}\n{\"id\":4,\"name\":\"é\"}\n"
            );
            assert_eq!(
                String::from_utf8(errors).unwrap(),
                concat!(
                    r#"{"source":"in.jsonl","line":3,"stage":"source","message":"field `id`: expected an integer, found \"x\"","raw":"{\"id\":\"x\",\"name\":\"b\"}"}"#,
                    "\n",
                    r#"{"source":"in.jsonl","line":4,"stage":"source","message":"invalid UTF-8 at byte 17","raw":"{\"id\":3,\"name\":\"�\"}"}"#,
                    "\n"
                )
            );
        }
    }
}

#[test]
fn unread_fields_are_checked_but_not_stored() {
    let t = parse_type(REVIEW).unwrap();
    let dec = JsonDecoder::new(&t).with_unread(&[1, 3]);
    let mut arena = Arena::new();
    let mut out = vec![0xA5u8; dec.size()];
    let line = br#"{"id":7,"text":"esc\"aped","stars":4,"tags":["a","b"]}"#;
    dec.decode(line, &mut out, &mut arena).unwrap();
    let mut s = Vec::new();
    // SAFETY: as in `rt_bytes`; the unread fields hold zeros, a valid empty `str` and a
    // null `[str]?`.
    unsafe { JsonEncoder::new(&t).encode(out.as_ptr(), &mut s) };
    assert_eq!(String::from_utf8(s).unwrap(), r#"{"id":7,"text":"","stars":4,"tags":null}"#);
    // A bad value in an unread field is still the record's error, with its path.
    let bad = br#"{"id":7,"text":5,"stars":4}"#;
    let e = dec.decode(bad, &mut out, &mut arena).unwrap_err().message;
    assert_eq!(e, rt(REVIEW, r#"{"id":7,"text":5,"stars":4}"#).unwrap_err());
    let missing = br#"{"id":7,"stars":4}"#;
    assert!(dec.decode(missing, &mut out, &mut arena).is_err());
    // A big unread field (more than the small scratch buffer) too.
    let t = parse_type("{ a: int, b: { x: str, y: str, z: str, w: str, v: str } }").unwrap();
    let dec = JsonDecoder::new(&t).with_unread(&[1]);
    let mut out = vec![0u8; dec.size()];
    let line = br#"{"a":1,"b":{"x":"1","y":"2","z":"3","w":"4","v":"5"}}"#;
    dec.decode(line, &mut out, &mut arena).unwrap();
    assert!(dec.decode(br#"{"a":1,"b":{"x":"1"}}"#, &mut out, &mut arena).is_err());
}
