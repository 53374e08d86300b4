//! Nothing a user feeds Kiln is lost or overwritten by surprise (issue 17): a sink on its
//! own source's file, two sinks on one file, two readers of standard input, CSV rows that
//! would not read back. Each case runs on every engine.

mod support;
use support::{ENGINES, folder, kiln, read};

const ROWS: &str = "{\"a\":1}\n{\"a\":2}\n";

/// `kiln run p.kiln ARGS` on every engine; each must refuse with exit 1, say `words`, and
/// leave data.jsonl as it was.
fn refused(pipeline: &str, args: &[&str], words: &str) {
    for engine in ENGINES {
        let dir = folder(&[("p.kiln", pipeline), ("data.jsonl", ROWS)]);
        std::os::unix::fs::symlink("data.jsonl", dir.path().join("link.jsonl")).unwrap();
        let mut all = vec!["run", "p.kiln"];
        all.extend_from_slice(args);
        all.extend_from_slice(engine);
        let r = kiln(dir.path(), &all, &[], None);
        assert_eq!(r.code, 1, "{engine:?}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{engine:?}: {}", r.stderr);
        assert_eq!(read(dir.path(), "data.jsonl"), ROWS, "{engine:?}: the input changed");
        assert!(!dir.path().join("out").exists(), "{engine:?}: a sink was opened");
    }
}

#[test]
fn a_sink_on_its_source_written_the_same_is_a_check_error() {
    let p = "source rs: { a: int } = jsonl(\"data.jsonl\")\nsink rs -> jsonl(\"./data.jsonl\")\n";
    refused(p, &[], "error[E0310]: this sink writes `data.jsonl`, which source `rs` reads");
    let dir = folder(&[("p.kiln", p)]);
    let r = kiln(dir.path(), &["check", "p.kiln"], &[], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("E0310") || r.stderr.contains("E0310"), "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_sink_on_its_source_through_a_param_or_a_link_is_refused_before_writing() {
    let p = "param out: str = \"out/x.jsonl\"\nsource rs: { a: int } = jsonl(\"data.jsonl\")\n\
             sink rs |> map(r => r.a) -> jsonl(\"out/y.jsonl\")\nsink rs -> jsonl(out)\n";
    let words = "this sink would overwrite `data.jsonl`";
    refused(p, &["--param", "out=data.jsonl"], words);
    refused(p, &["--param", "out=./data.jsonl"], words);
    refused(p, &["--param", "out=link.jsonl"], "(as `link.jsonl`), which source `rs` reads");
}

#[test]
fn two_sinks_on_one_file_at_run_time_are_refused() {
    let p = "param out: str = \"out/x.jsonl\"\nsource rs: { a: int } = jsonl(\"data.jsonl\")\n\
             sink rs |> map(r => r.a) -> jsonl(\"out/y.jsonl\")\nsink rs -> jsonl(out)\n";
    refused(p, &["--param", "out=./out/../out/y.jsonl"], "two sinks write `out/y.jsonl`");
}

#[test]
fn two_readers_of_standard_input_are_refused() {
    let p = "param a: str = \"data.jsonl\"\nsource x: { a: int } = jsonl(a)\n\
             source y: { a: int } = jsonl(\"-\")\nsink union(x, y) -> stdout()\n";
    refused(p, &["--param", "a=-"], "sources `x` and `y` both read standard input");
    // One reader of standard input, and a sink on standard output, are fine.
    for engine in ENGINES {
        let dir = folder(&[("p.kiln", p), ("data.jsonl", ROWS)]);
        let mut args = vec!["run", "p.kiln"];
        args.extend_from_slice(engine);
        let r = kiln(dir.path(), &args, &[], Some("{\"a\":3}\n"));
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"),
            "{}",
            r.stderr
        );
    }
}

/// `kiln run p.kiln` on every engine in a folder of `files`; returns the folder and run.
fn each_engine(files: &[(&str, &str)], check: impl Fn(&std::path::Path, &support::Run)) {
    for engine in ENGINES {
        let dir = folder(files);
        let mut args = vec!["run", "p.kiln"];
        args.extend_from_slice(engine);
        let r = kiln(dir.path(), &args, &[("KILN_CHUNK_SIZE", "3")], None);
        check(dir.path(), &r);
    }
}

#[test]
fn a_one_column_csv_with_null_rows_reads_back_every_row() {
    let write = "source xs: int = range(0, 4)\n\
                 sink xs |> map(x => { s: if x % 2 == 1 { null } else { str(x) } }) -> csv(\"one.csv\")\n";
    let read_back = "source rs: { s: str? } = csv(\"one.csv\")\nsink rs -> stdout()\n";
    each_engine(&[("p.kiln", write)], |dir, r| {
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(read(dir, "one.csv"), "s\n0\n\n2\n\n");
        std::fs::write(dir.join("p.kiln"), read_back).unwrap();
        for engine in ENGINES {
            let mut args = vec!["run", "p.kiln"];
            args.extend_from_slice(engine);
            let r = kiln(dir, &args, &[("KILN_CHUNK_SIZE", "2")], None);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(r.stdout, "{\"s\":\"0\"}\n{\"s\":null}\n{\"s\":\"2\"}\n{\"s\":null}\n");
        }
    });
    // With more than one column a blank line is still no record.
    let two = "source rs: { s: int, t: int? } = csv(\"two.csv\")\nsink rs -> stdout()\n";
    each_engine(&[("p.kiln", two), ("two.csv", "s,t\n1,2\n\n3,\n")], |_, r| {
        assert_eq!((r.code, r.stdout.as_str()), (0, "{\"s\":1,\"t\":2}\n{\"s\":3,\"t\":null}\n"));
    });
}

#[test]
fn an_empty_csv_file_is_an_error_not_an_empty_input() {
    let p = "source rs: { a: int } = csv(\"empty.csv\")\nsink rs -> stdout()\n";
    each_engine(&[("p.kiln", p), ("empty.csv", "")], |_, r| {
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(
                "cannot read `empty.csv`: the file is empty, and a CSV source needs a header row"
            ),
            "{}",
            r.stderr
        );
    });
}
