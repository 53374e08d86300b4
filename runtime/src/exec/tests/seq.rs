//! The order-dependent operators ([`PNode::Seq`]) with 1, 2 and 4 threads and tiny chunks.

use super::*;

/// Key `{key: name}`.
unsafe extern "C" fn key_name(_ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: IN rows (name at 8); `out` holds a `str`.
    unsafe { wr(out, 0, rd::<KStr>(row, 8)) };
    0
}

/// Key `{key: score}`; fails (site 0) on id 7.
unsafe extern "C" fn key_score(ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: IN rows (id at 0, score at 24); `out` holds a float.
    unsafe {
        if rd::<i64>(row, 0) == 7 {
            return kiln_fail(ctx, 0, b"bad key".as_ptr(), 7);
        }
        wr(out, 0, rd::<f64>(row, 24));
    }
    0
}

/// Key `{key: id % 3}`.
unsafe extern "C" fn key_id3(_ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: rows with an int at offset 0; `out` holds an int.
    unsafe { wr(out, 0, rd::<i64>(row, 0) % 3) };
    0
}

fn seq(input: usize, op: SeqOp, t: &str, out: &str) -> PNode {
    PNode::Seq { input, name: "sq".into(), op, ty: ty(t), out: ty(out) }
}

fn key(f: ProjFn, t: &str) -> KeyFn {
    KeyFn { f, key_ty: if t == "str" { TypeDesc::Str } else { ty(t) } }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn take_skip_enumerate_keep_input_order() {
    let item = "{ index: int, item: { id: int, name: str, score: float } }";
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(50)), IN),
                seq(0, SeqOp::Take(3), IN, IN),
                seq(0, SeqOp::Skip(47), IN, IN),
                stage(0, keep_even, IN),
                seq(3, SeqOp::Enumerate, IN, item),
                seq(4, SeqOp::Take(2), item, item),
                sink(1, SinkFormat::Jsonl, &out(d, "take.jsonl"), IN),
                sink(2, SinkFormat::Jsonl, &out(d, "skip.jsonl"), IN),
                sink(5, SinkFormat::Jsonl, &out(d, "enum.jsonl"), item),
            ],
            sites: vec![],
        },
        &["take.jsonl", "skip.jsonl", "enum.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 0 }));
    let ids = |s: &str| -> Vec<String> {
        lines(s).iter().map(|l| l.split(',').next().unwrap_or("").to_string()).collect()
    };
    assert_eq!(ids(&files[0]), ["{\"id\":1", "{\"id\":2", "{\"id\":3"]);
    assert_eq!(ids(&files[1]), ["{\"id\":48", "{\"id\":49", "{\"id\":50"]);
    assert_eq!(
        lines(&files[2]),
        [
            "{\"index\":0,\"item\":{\"id\":2,\"name\":\"cy\",\"score\":2.5}}",
            "{\"index\":1,\"item\":{\"id\":4,\"name\":\"bob\",\"score\":4.5}}"
        ]
    );
}

#[test]
fn sort_distinct_and_a_failing_key() {
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(30)), IN),
                PNode::Errors,
                seq(0, SeqOp::Sort { key: key(key_score, "float"), desc: true }, IN, IN),
                seq(2, SeqOp::Take(3), IN, IN),
                seq(0, SeqOp::Distinct(key(key_name, "str")), IN, IN),
                sink(3, SinkFormat::Jsonl, &out(d, "top.jsonl"), IN),
                sink(4, SinkFormat::Jsonl, &out(d, "distinct.jsonl"), IN),
                sink(1, SinkFormat::Jsonl, &out(d, "errors.jsonl"), &error_ty()),
            ],
            sites: vec![site("sq")],
        },
        &["top.jsonl", "distinct.jsonl", "errors.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 1 }));
    assert_eq!(
        lines(&files[0]),
        [
            "{\"id\":30,\"name\":\"ann\",\"score\":30.5}",
            "{\"id\":29,\"name\":\"cy\",\"score\":29.5}",
            "{\"id\":28,\"name\":\"bob\",\"score\":28.5}"
        ]
    );
    assert_eq!(
        lines(&files[1]),
        [
            "{\"id\":1,\"name\":\"bob\",\"score\":1.5}",
            "{\"id\":2,\"name\":\"cy\",\"score\":2.5}",
            "{\"id\":3,\"name\":\"ann\",\"score\":3.5}"
        ]
    );
    assert!(
        files[2].contains("\"line\":7,\"stage\":\"sq\",\"message\":\"bad key (at p.kiln:3:7)\"")
    );
}

fn error_ty() -> String {
    "{ source: str, line: int, stage: str, message: str, raw: str }".into()
}

#[test]
fn join_left_join_union_and_batch() {
    let pair = "{ left: { id: int, name: str, score: float }, right: int }";
    let opt_pair = "{ left: { id: int, name: str, score: float }, right: int? }";
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(9)), IN),
                src(SourceKind::Range(0, 4), "", "int"),
                seq(
                    0,
                    SeqOp::Join {
                        right: 1,
                        left_key: key(key_id3, "int"),
                        right_key: key(key_id3, "int"),
                        outer: false,
                        right_ty: TypeDesc::Int,
                    },
                    IN,
                    pair,
                ),
                stage(0, keep_even, IN),
                seq(
                    3,
                    SeqOp::Join {
                        right: 1,
                        left_key: key(key_name, "str"),
                        right_key: key(key_id3, "int"),
                        outer: true,
                        right_ty: TypeDesc::Int,
                    },
                    IN,
                    opt_pair,
                ),
                seq(3, SeqOp::Union { other: 0 }, IN, IN),
                seq(1, SeqOp::Batch(3), "int", "[int]"),
                sink(2, SinkFormat::Jsonl, &out(d, "join.jsonl"), pair),
                sink(4, SinkFormat::Jsonl, &out(d, "left.jsonl"), opt_pair),
                sink(5, SinkFormat::Jsonl, &out(d, "union.jsonl"), IN),
                sink(6, SinkFormat::Jsonl, &out(d, "batch.jsonl"), "[int]"),
            ],
            sites: vec![],
        },
        &["join.jsonl", "left.jsonl", "union.jsonl", "batch.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 0 }));
    // Left order, then right order; ids 3, 6, 9 match 0 and 3.
    let join = lines(&files[0]);
    assert_eq!(join.len(), 12);
    assert!(join[0].starts_with("{\"left\":{\"id\":1,") && join[0].ends_with("\"right\":1}"));
    assert!(join[2].starts_with("{\"left\":{\"id\":3,") && join[2].ends_with("\"right\":0}"));
    assert!(join[3].starts_with("{\"left\":{\"id\":3,") && join[3].ends_with("\"right\":3}"));
    // No str key equals an int key: every left row once, with null.
    let left = lines(&files[1]);
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|l| l.ends_with("\"right\":null}")));
    let ids: Vec<i64> =
        lines(&files[2]).iter().map(|l| l[6..l.find(',').unwrap()].parse().unwrap()).collect();
    assert_eq!(ids, [2, 4, 6, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(lines(&files[3]), ["[0,1,2]", "[3]"]);
}
