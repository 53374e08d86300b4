//! Plans run over temporary files with row functions written in Rust, with 1, 2 and 4
//! threads and tiny chunks; outputs must be identical whatever the thread count.

use super::value::{rd, str_bytes, wr};
use super::*;
use crate::io::ffi::kiln_arena_alloc;
use crate::io::sig::parse_type;
use crate::layout::{KStr, TypeDesc};
use std::path::{Path, PathBuf};

fn ty(s: &str) -> TypeDesc {
    parse_type(s).unwrap()
}

const IN: &str = "{ id: int, name: str, score: float }";

// ---- row functions (what generated code would be) ------------------------------------

/// filter(r => r.id % 2 == 0)
unsafe extern "C" fn keep_even(ctx: *mut RowCtx, row: *const u8) -> u32 {
    // SAFETY: rows of IN have the id at offset 0.
    unsafe {
        if rd::<i64>(row, 0) % 2 == 0 {
            kiln_emit(ctx, row);
        }
    }
    0
}

/// map(r => { id: r.id, msg: "hi " + r.name })
unsafe extern "C" fn greet(ctx: *mut RowCtx, row: *const u8) -> u32 {
    // SAFETY: IN rows; the output record `{ id: int, msg: str }` is 24 bytes in the arena.
    unsafe {
        let name = str_bytes(row.add(8));
        let text = [b"hi ".as_slice(), name].concat();
        let s = kiln_arena_alloc((*ctx).arena, text.len(), 1);
        std::ptr::copy_nonoverlapping(text.as_ptr(), s, text.len());
        let out = kiln_arena_alloc((*ctx).arena, 24, 8);
        wr(out, 0, rd::<i64>(row, 0));
        wr(out, 8, KStr { ptr: s, len: text.len() as u64 });
        kiln_emit(ctx, out);
    }
    0
}

/// flat_map(r => [r, r])
unsafe extern "C" fn twice(ctx: *mut RowCtx, row: *const u8) -> u32 {
    // SAFETY: forwards the live row.
    unsafe {
        kiln_emit(ctx, row);
        kiln_emit(ctx, row);
    }
    0
}

/// Fails on ids divisible by 3 (site 0), else passes the row on.
unsafe extern "C" fn fail_thirds(ctx: *mut RowCtx, row: *const u8) -> u32 {
    // SAFETY: IN rows.
    unsafe {
        let id = rd::<i64>(row, 0);
        if id % 3 == 0 {
            let m = format!("division by zero ({id})");
            return kiln_fail(ctx, 0, m.as_ptr(), m.len());
        }
        kiln_emit(ctx, row);
    }
    0
}

/// Projection `{ key: name, a0: id, a1: score }` (offsets 0, 16, 24).
unsafe extern "C" fn proj_name(_ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: IN rows; `out` is a zeroed projection record.
    unsafe {
        wr(out, 0, rd::<KStr>(row, 8));
        wr(out, 16, rd::<i64>(row, 0));
        wr(out, 24, rd::<f64>(row, 24));
    }
    0
}

/// Projection `{ a0: id }` of an aggregate.
unsafe extern "C" fn proj_id(_ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: IN rows; `out` holds 8 bytes.
    unsafe { wr(out, 0, rd::<i64>(row, 0)) };
    0
}

/// For `range`: keeps multiples of 1000, fails on 7777 (site 0).
unsafe extern "C" fn thousands(ctx: *mut RowCtx, row: *const u8) -> u32 {
    // SAFETY: int rows.
    unsafe {
        let i = rd::<i64>(row, 0);
        if i == 7777 {
            return kiln_fail(ctx, 0, b"seven".as_ptr(), 5);
        }
        if i % 1000 == 0 {
            kiln_emit(ctx, row);
        }
    }
    0
}

// ---- helpers ---------------------------------------------------------------------------

fn input(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn src(kind: SourceKind, path: &str, t: &str) -> PNode {
    let (path, shown, ty, name) = (path.into(), path.into(), ty(t), "src".into());
    PNode::Source { kind, path, shown, ty, name, unread: Vec::new() }
}

fn sink(input: usize, format: SinkFormat, path: &Path, t: &str) -> PNode {
    PNode::Sink {
        input,
        format,
        path: Some(path.display().to_string()),
        ty: if t == "str" { TypeDesc::Str } else { ty(t) },
        name: "out".into(),
    }
}

fn stage(input: usize, f: StageFn, out: &str) -> PNode {
    PNode::Stage { input, name: "st".into(), f, out: ty(out), parts: Vec::new() }
}

fn site(stage: &str) -> Site {
    Site { stage: stage.into(), location: "p.kiln:3:7".into() }
}

/// Runs the plan built by `mk(dir)` with 1, 2, 4 threads and several chunk sizes; checks
/// that the files listed are identical every time and returns them with the result.
fn run_all(mk: &dyn Fn(&Path) -> Plan, outs: &[&str]) -> (Result<Summary, Failure>, Vec<String>) {
    let mut first: Option<(Result<Summary, Failure>, Vec<String>)> = None;
    // One folder for all runs, so paths in error records are the same.
    let dir = tempfile::tempdir().unwrap();
    for threads in [1, 2, 4] {
        for chunk_size in [64, 1000, crate::io::chunk::DEFAULT_CHUNK_SIZE] {
            let plan = mk(dir.path());
            let opts = Options { threads, chunk_size, progress: None, streams: None };
            let r = run(&plan, &opts);
            let files: Vec<String> = outs
                .iter()
                .map(|o| std::fs::read_to_string(dir.path().join(o)).unwrap_or_default())
                .collect();
            match &first {
                None => first = Some((r, files)),
                Some((r0, f0)) => {
                    assert_eq!(&r, r0, "threads {threads}, chunk {chunk_size}");
                    assert_eq!(&files, f0, "threads {threads}, chunk {chunk_size}");
                }
            }
        }
    }
    first.unwrap()
}

fn people(n: usize) -> String {
    let names = ["ann", "bob", "cy"];
    (1..=n)
        .map(|i| format!("{{\"id\":{i},\"name\":\"{}\",\"score\":{}.5}}\n", names[i % 3], i))
        .collect()
}

fn out(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

// ---- tests ----------------------------------------------------------------------------

#[test]
fn stateless_chain_keeps_order() {
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(40)), IN),
                stage(0, keep_even, IN),
                stage(1, greet, "{ id: int, msg: str }"),
                stage(2, twice, "{ id: int, msg: str }"),
                sink(3, SinkFormat::Jsonl, &out(d, "a.jsonl"), "{ id: int, msg: str }"),
                sink(0, SinkFormat::Csv, &out(d, "b.csv"), IN),
            ],
            sites: vec![],
        },
        &["a.jsonl", "b.csv"],
    );
    assert_eq!(r, Ok(Summary { errors: 0 }));
    let mut want = String::new();
    let names = ["ann", "bob", "cy"];
    for i in (2..=40).step_by(2) {
        let line = format!("{{\"id\":{i},\"msg\":\"hi {}\"}}\n", names[i % 3]);
        want.push_str(&line);
        want.push_str(&line);
    }
    assert_eq!(files[0], want);
    let csv: String = std::iter::once("id,name,score\n".to_string())
        .chain((1..=40).map(|i| format!("{i},{},{i}.5\n", names[i % 3])))
        .collect();
    assert_eq!(files[1], csv);
}

#[test]
fn errors_stream_gets_records_in_order() {
    let (r, files) = run_all(
        &|d| {
            let mut text = people(10);
            text.insert_str(0, "{\"id\":\"x\"}\n");
            text.push_str("not json\n\n{\"id\":12,\"name\":\"z\",\"score\":1}\n");
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &text), IN),
                    PNode::Errors,
                    stage(0, fail_thirds, IN),
                    sink(2, SinkFormat::Jsonl, &out(d, "ok.jsonl"), IN),
                    sink(
                        1,
                        SinkFormat::Jsonl,
                        &out(d, "err.jsonl"),
                        &crate::io::sig::type_to_string(&error_row_type()),
                    ),
                ],
                sites: vec![site("checked")],
            }
        },
        &["ok.jsonl", "err.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 6 }));
    let ok: Vec<i64> = files[0]
        .lines()
        .map(|l| l.split(',').next().unwrap().trim_start_matches("{\"id\":").parse().unwrap())
        .collect();
    assert_eq!(ok, vec![1, 2, 4, 5, 7, 8, 10]);
    let err: Vec<&str> = files[1].lines().collect();
    assert_eq!(err.len(), 6);
    assert!(err[0].starts_with("{\"source\":\""), "{}", err[0]);
    assert!(
        err[0]
            .contains("\"line\":1,\"stage\":\"src\",\"message\":\"field `id`: expected an integer"),
        "{}",
        err[0]
    );
    assert!(
        err[1].contains(
            "\"line\":4,\"stage\":\"checked\",\"message\":\"division by zero (3) (at p.kiln:3:7)\""
        ),
        "{}",
        err[1]
    );
    assert!(err[3].contains("\"line\":10,"), "{}", err[3]);
    assert!(
        err[4].contains("\"line\":12,\"stage\":\"src\",\"message\":\"invalid JSON"),
        "{}",
        err[4]
    );
    assert!(err[4].contains("\"raw\":\"not json\"}"), "{}", err[4]);
    assert!(err[5].contains("\"line\":14,\"stage\":\"checked\""), "{}", err[5]);
}

#[test]
fn fail_fast_stops_at_the_first_failure_and_keeps_earlier_output() {
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(30)), IN),
                sink(0, SinkFormat::Jsonl, &out(d, "all.jsonl"), "{ id: int }"),
                stage(0, fail_thirds, IN),
                sink(2, SinkFormat::Jsonl, &out(d, "ok.jsonl"), "{ id: int }"),
            ],
            sites: vec![site("checked")],
        },
        &["all.jsonl", "ok.jsonl"],
    );
    match r {
        Err(Failure::Record { site, node, line, raw, message, .. }) => {
            assert_eq!(site, Some(0));
            assert_eq!(node, "checked");
            assert_eq!(line, 3);
            assert_eq!(raw, "{\"id\":3,\"name\":\"ann\",\"score\":3.5}");
            assert_eq!(message, "division by zero (3)");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files[0], "{\"id\":1}\n{\"id\":2}\n");
    assert_eq!(files[1], "{\"id\":1}\n{\"id\":2}\n");
}

#[test]
fn bad_record_is_fatal_without_errors_stream() {
    let (r, files) = run_all(
        &|d| {
            let mut text = people(5);
            text.push_str("{\"id\":6,\"name\":\"x\"\n");
            text.push_str(&people(3));
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &text), IN),
                    sink(0, SinkFormat::Jsonl, &out(d, "all.jsonl"), "{ id: int }"),
                ],
                sites: vec![],
            }
        },
        &["all.jsonl"],
    );
    match r {
        Err(Failure::Record { site: None, node, line: 6, message, .. }) => {
            assert_eq!(node, "src");
            assert!(message.starts_with("invalid JSON"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files[0].lines().count(), 5);
}

#[test]
fn group_by_in_order_of_first_appearance() {
    let group_out = "{ key: str, n: int, total: int, avg: float, lo: int, hi: float, first: int, last: int, all: [int] }";
    let (r, files) = run_all(
        &|d| {
            let aggs = vec![
                AggSpec { kind: AggKind::Count, field: None, out: TypeDesc::Int },
                AggSpec { kind: AggKind::Sum, field: Some(1), out: TypeDesc::Int },
                AggSpec { kind: AggKind::Mean, field: Some(2), out: TypeDesc::Float },
                AggSpec { kind: AggKind::Min, field: Some(1), out: TypeDesc::Int },
                AggSpec { kind: AggKind::Max, field: Some(2), out: TypeDesc::Float },
                AggSpec { kind: AggKind::First, field: Some(1), out: TypeDesc::Int },
                AggSpec { kind: AggKind::Last, field: Some(1), out: TypeDesc::Int },
                AggSpec { kind: AggKind::Collect, field: Some(1), out: ty("[int]") },
            ];
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(20)), IN),
                    PNode::Group {
                        input: 0,
                        name: "g".into(),
                        proj: proj_name,
                        proj_ty: ty("{ key: str, a0: int, a1: float }"),
                        aggs,
                        out: ty(group_out),
                        site: 0,
                    },
                    sink(1, SinkFormat::Jsonl, &out(d, "g.jsonl"), group_out),
                ],
                sites: vec![site("g")],
            }
        },
        &["g.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 0 }));
    let names = ["ann", "bob", "cy"];
    let mut want = String::new();
    for first in [1usize, 2, 3] {
        let ids: Vec<usize> = (first..=20).step_by(3).collect();
        let total: usize = ids.iter().sum();
        let mut s = 0.0f64;
        for &i in &ids {
            s += i as f64 + 0.5;
        }
        let avg = s / ids.len() as f64;
        let all: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        want.push_str(&format!(
            "{{\"key\":\"{}\",\"n\":{},\"total\":{total},\"avg\":{},\"lo\":{first},\"hi\":{},\"first\":{first},\"last\":{},\"all\":[{}]}}\n",
            names[first % 3],
            ids.len(),
            crate::io::f64_to_string(avg),
            crate::io::f64_to_string(*ids.last().unwrap() as f64 + 0.5),
            ids.last().unwrap(),
            all.join(",")
        ));
    }
    assert_eq!(files[0], want);
}

#[test]
fn aggregate_over_empty_and_full_input() {
    let agg_out = "{ n: int, total: int, lo: int?, all: [int] }";
    let mk = |text: String| {
        move |d: &Path| {
            let aggs = vec![
                AggSpec { kind: AggKind::Count, field: None, out: TypeDesc::Int },
                AggSpec { kind: AggKind::Sum, field: Some(0), out: TypeDesc::Int },
                AggSpec { kind: AggKind::Min, field: Some(0), out: ty("int?") },
                AggSpec { kind: AggKind::Collect, field: Some(0), out: ty("[int]") },
            ];
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &text), IN),
                    stage(0, keep_even, IN),
                    PNode::Aggregate {
                        input: 1,
                        name: "a".into(),
                        proj: Some(proj_id),
                        proj_ty: ty("{ a0: int }"),
                        aggs,
                        out: ty(agg_out),
                        site: 0,
                    },
                    sink(2, SinkFormat::Jsonl, &out(d, "a.jsonl"), agg_out),
                    sink(1, SinkFormat::Csv, &out(d, "e.csv"), IN),
                ],
                sites: vec![site("a")],
            }
        }
    };
    let (r, files) = run_all(&mk(String::new()), &["a.jsonl", "e.csv"]);
    assert_eq!(r, Ok(Summary { errors: 0 }));
    assert_eq!(files[0], "{\"n\":0,\"total\":0,\"lo\":null,\"all\":[]}\n");
    assert_eq!(files[1], "id,name,score\n", "an empty CSV sink has its header");
    let (_, files) = run_all(&mk(people(9)), &["a.jsonl"]);
    assert_eq!(files[0], "{\"n\":4,\"total\":20,\"lo\":2,\"all\":[2,4,6,8]}\n");
}

#[test]
fn csv_and_lines_sources() {
    let (r, files) = run_all(
        &|d| {
            let csv = "name,id,score\n\"a, b\",1,0.5\nc,2,1\n\"multi\nline\",3,2.5\nd,x,1\n";
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Csv, &input(d, "in.csv", csv), IN),
                    PNode::Errors,
                    sink(0, SinkFormat::Jsonl, &out(d, "c.jsonl"), IN),
                    PNode::Source {
                        kind: SourceKind::Lines,
                        path: input(d, "in.txt", "one\n\ntwo\r\nthree"),
                        shown: "in.txt".into(),
                        ty: TypeDesc::Str,
                        name: "txt".into(),
                        unread: Vec::new(),
                    },
                    sink(3, SinkFormat::Lines, &out(d, "t.txt"), "str"),
                    sink(
                        1,
                        SinkFormat::Jsonl,
                        &out(d, "err.jsonl"),
                        &crate::io::sig::type_to_string(&error_row_type()),
                    ),
                ],
                sites: vec![],
            }
        },
        &["c.jsonl", "t.txt", "err.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 1 }));
    assert_eq!(
        files[0],
        "{\"id\":1,\"name\":\"a, b\",\"score\":0.5}\n{\"id\":2,\"name\":\"c\",\"score\":1.0}\n{\"id\":3,\"name\":\"multi\\nline\",\"score\":2.5}\n"
    );
    assert_eq!(files[1], "one\n\ntwo\nthree\n");
    assert!(files[2].contains("\"line\":6,\"stage\":\"src\""), "{}", files[2]);
}

#[test]
fn range_source() {
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                PNode::Source {
                    kind: SourceKind::Range(-5, 200_000),
                    path: String::new(),
                    shown: String::new(),
                    ty: TypeDesc::Int,
                    name: "r".into(),
                    unread: Vec::new(),
                },
                PNode::Errors,
                PNode::Stage {
                    input: 0,
                    name: "k".into(),
                    f: thousands,
                    out: TypeDesc::Int,
                    parts: Vec::new(),
                },
                PNode::Sink {
                    input: 2,
                    format: SinkFormat::Jsonl,
                    path: Some(out(d, "r.jsonl").display().to_string()),
                    ty: TypeDesc::Int,
                    name: "o".into(),
                },
                sink(
                    1,
                    SinkFormat::Jsonl,
                    &out(d, "err.jsonl"),
                    &crate::io::sig::type_to_string(&error_row_type()),
                ),
            ],
            sites: vec![site("k")],
        },
        &["r.jsonl", "err.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 1 }));
    let want: String = (0..200).map(|i| format!("{}\n", i * 1000)).collect();
    assert_eq!(files[0], want);
    assert_eq!(
        files[1],
        "{\"source\":\"range(-5, 200000)\",\"line\":7783,\"stage\":\"k\",\"message\":\"seven (at p.kiln:3:7)\",\"raw\":\"7777\"}\n"
    );
}

#[test]
fn missing_input_is_an_io_failure() {
    let d = tempfile::tempdir().unwrap();
    let plan = Plan {
        params: Default::default(),
        nodes: vec![
            src(SourceKind::Jsonl, &d.path().join("nope.jsonl").display().to_string(), IN),
            sink(0, SinkFormat::Jsonl, &out(d.path(), "o.jsonl"), IN),
        ],
        sites: vec![],
    };
    match run(&plan, &Options { threads: 2, ..Options::default() }) {
        Err(Failure::Io { node, message }) => {
            assert_eq!(node, "src");
            assert!(
                message.starts_with("cannot read `")
                    && message.ends_with("nope.jsonl`: no such file"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(out(d.path(), "o.jsonl")).unwrap(), "");
}

#[test]
fn big_input_with_many_chunks() {
    let d = tempfile::tempdir().unwrap();
    let text = people(200_000);
    let path = input(d.path(), "big.jsonl", &text);
    let mut results = Vec::new();
    for threads in [1, 4] {
        let o = out(d.path(), &format!("o{threads}.jsonl"));
        let plan = Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &path, IN),
                stage(0, keep_even, IN),
                stage(1, greet, "{ id: int, msg: str }"),
                sink(2, SinkFormat::Jsonl, &o, "{ id: int, msg: str }"),
            ],
            sites: vec![],
        };
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = calls.clone();
        let opts = Options {
            threads,
            chunk_size: 16 * 1024,
            streams: None,
            progress: Some(Box::new(move |done, total| {
                assert!(done <= total);
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })),
        };
        assert_eq!(run(&plan, &opts), Ok(Summary { errors: 0 }));
        assert!(calls.load(std::sync::atomic::Ordering::Relaxed) > 100);
        results.push(std::fs::read(&o).unwrap());
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0].iter().filter(|&&b| b == b'\n').count(), 100_000);
}

/// Projection `{ a0: score }`.
unsafe extern "C" fn proj_score(_ctx: *mut RowCtx, row: *const u8, out: *mut u8) -> u32 {
    // SAFETY: IN rows; `out` holds 8 bytes.
    unsafe { wr(out, 0, rd::<f64>(row, 24)) };
    0
}

/// On error rows: fails (site 1) when the record's line is 7 or more.
unsafe extern "C" fn fail_late_errors(ctx: *mut RowCtx, row: *const u8) -> u32 {
    let offs = error_row_type().field_offsets();
    // SAFETY: error rows.
    unsafe {
        if rd::<i64>(row, offs[1]) >= 7 {
            return kiln_fail(ctx, 1, b"late".as_ptr(), 4);
        }
        kiln_emit(ctx, row);
    }
    0
}

#[test]
fn errors_feed_an_aggregate_and_group_overflow_is_an_error() {
    let big = "{\"id\":9223372036854775807,\"name\":\"big\",\"score\":1}\n";
    let (r, files) = run_all(
        &|d| {
            let text = format!("{}{big}{big}", people(10));
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &text), IN),
                    PNode::Errors,
                    stage(0, fail_thirds, IN),
                    sink(2, SinkFormat::Discard, &out(d, "none"), IN),
                    PNode::Group {
                        input: 0,
                        name: "g".into(),
                        proj: proj_name,
                        proj_ty: ty("{ key: str, a0: int, a1: float }"),
                        aggs: vec![AggSpec {
                            kind: AggKind::Sum,
                            field: Some(1),
                            out: TypeDesc::Int,
                        }],
                        out: ty("{ key: str, total: int }"),
                        site: 1,
                    },
                    sink(4, SinkFormat::Csv, &out(d, "g.csv"), "{ key: str, total: int }"),
                    PNode::Aggregate {
                        input: 1,
                        name: "n".into(),
                        proj: None,
                        proj_ty: ty("{}"),
                        aggs: vec![AggSpec {
                            kind: AggKind::Count,
                            field: None,
                            out: TypeDesc::Int,
                        }],
                        out: ty("{ n: int }"),
                        site: 2,
                    },
                    sink(6, SinkFormat::Jsonl, &out(d, "n.jsonl"), "{ n: int }"),
                    sink(
                        1,
                        SinkFormat::Jsonl,
                        &out(d, "err.jsonl"),
                        &crate::io::sig::type_to_string(&error_row_type()),
                    ),
                ],
                sites: vec![site("checked"), site("g"), site("n")],
            }
        },
        &["g.csv", "n.jsonl", "err.jsonl", "none"],
    );
    assert_eq!(r, Ok(Summary { errors: 4 }));
    assert_eq!(files[0], "key,total\nbob,22\ncy,15\nann,18\n");
    assert_eq!(files[1], "{\"n\":4}\n");
    let err: Vec<&str> = files[2].lines().collect();
    assert_eq!(err.len(), 4);
    assert!(err[3].contains("\"line\":11,\"stage\":\"g\",\"message\":\"integer overflow: the sum 18446744073709551614 does not fit in int (at p.kiln:3:7)\""), "{}", err[3]);
    assert_eq!(files[3], "", "discard writes nothing");
}

#[test]
fn a_failure_on_the_errors_stream_is_fatal() {
    let (r, files) = run_all(
        &|d| Plan {
            params: Default::default(),
            nodes: vec![
                src(SourceKind::Jsonl, &input(d, "in.jsonl", &people(12)), IN),
                PNode::Errors,
                stage(0, fail_thirds, IN),
                stage(1, fail_late_errors, &crate::io::sig::type_to_string(&error_row_type())),
                sink(
                    3,
                    SinkFormat::Jsonl,
                    &out(d, "err.jsonl"),
                    &crate::io::sig::type_to_string(&error_row_type()),
                ),
            ],
            sites: vec![site("checked"), site("late")],
        },
        &["err.jsonl"],
    );
    match r {
        Err(Failure::Record { site: Some(1), node, source, line, raw, message }) => {
            assert_eq!(
                (node.as_str(), source.as_str(), line, message.as_str()),
                ("late", "errors", 3, "late")
            );
            assert!(raw.starts_with("{\"source\":") && raw.contains("\"line\":9,"), "{raw}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files[0].lines().count(), 2);
}

#[test]
fn min_and_max_keep_the_first_of_equal_values() {
    let agg_out = "{ lo: float?, hi: float?, total: float, avg: float? }";
    let (r, files) = run_all(
        &|d| {
            let text: String = ["0.0", "1", "-0.0", "1.0", "0.1", "0.2", "-0.0"]
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{{\"id\":{i},\"name\":\"n\",\"score\":{s}}}\n"))
                .collect();
            Plan {
                params: Default::default(),
                nodes: vec![
                    src(SourceKind::Jsonl, &input(d, "in.jsonl", &text), IN),
                    PNode::Aggregate {
                        input: 0,
                        name: "a".into(),
                        proj: Some(proj_score),
                        proj_ty: ty("{ a0: float }"),
                        aggs: vec![
                            AggSpec { kind: AggKind::Min, field: Some(0), out: ty("float?") },
                            AggSpec { kind: AggKind::Max, field: Some(0), out: ty("float?") },
                            AggSpec { kind: AggKind::Sum, field: Some(0), out: TypeDesc::Float },
                            AggSpec { kind: AggKind::Mean, field: Some(0), out: ty("float?") },
                        ],
                        out: ty(agg_out),
                        site: 0,
                    },
                    sink(1, SinkFormat::Jsonl, &out(d, "a.jsonl"), agg_out),
                ],
                sites: vec![site("a")],
            }
        },
        &["a.jsonl"],
    );
    assert_eq!(r, Ok(Summary { errors: 0 }));
    // Correctly rounded (`math.fsum`): 2.3, where adding in order gives 2.3000000000000003.
    let sum = 2.3;
    assert_eq!(
        files[0],
        format!(
            "{{\"lo\":0.0,\"hi\":1.0,\"total\":{},\"avg\":{}}}\n",
            crate::io::f64_to_string(sum),
            crate::io::f64_to_string(sum / 7.0)
        )
    );
}

/// Peak resident memory of a stateless chain over a large file (run with
/// `cargo test --release -p kiln_runtime rss -- --ignored --nocapture`).
#[test]
#[ignore]
fn rss_stays_bounded_on_a_large_input() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("big.jsonl");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let block = people(10_000);
        while f.get_ref().metadata().unwrap().len() < 400 << 20 {
            f.write_all(block.as_bytes()).unwrap();
        }
    }
    let path = path.display().to_string();
    let plan = Plan {
        params: Default::default(),
        nodes: vec![
            src(SourceKind::Jsonl, &path, IN),
            stage(0, keep_even, IN),
            stage(1, greet, "{ id: int, msg: str }"),
            sink(2, SinkFormat::Jsonl, &out(d.path(), "o.jsonl"), "{ id: int, msg: str }"),
        ],
        sites: vec![],
    };
    let t = std::time::Instant::now();
    let peak = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let p2 = peak.clone();
    let progress = move |done: u64, _total: u64| {
        if done % (64 << 20) < (2 << 20) {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let anon: String =
                status.lines().filter(|l| l.starts_with("Rss")).collect::<Vec<_>>().join(" ");
            *p2.lock().unwrap() = anon;
        }
    };
    let opts = Options { threads: 2, progress: Some(Box::new(progress)), ..Options::default() };
    assert_eq!(run(&plan, &opts), Ok(Summary { errors: 0 }));
    eprintln!("late in the run: {}", peak.lock().unwrap());
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("").to_string();
    eprintln!("{:?} for 400 MB; {hwm}", t.elapsed());
    let kb: u64 = hwm.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(kb < 200_000, "peak RSS {kb} kB");
}

mod seq;
