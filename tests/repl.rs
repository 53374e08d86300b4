//! Transcript tests of `kiln repl` (issue 16): each `tests/repl/*.repl` script is fed to
//! `kiln repl` as its standard input (a file: no prompts), from the workspace root,
//! and its output (stdout and stderr, interleaved as printed) and exit code are
//! snapshotted under `snapshots/repl/`. Review changes with `cargo insta review`.

use std::io::{BufRead, BufReader, Seek, Write};
use std::process::{Command, Stdio};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Runs `kiln repl < FILE` with `script` in FILE: exit code and output, stderr merged
/// into stdout.
fn transcript(script: &str) -> (i32, String) {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(script.as_bytes()).unwrap();
    file.seek(std::io::SeekFrom::Start(0)).unwrap();
    let out = Command::new("sh")
        .args(["-c", "exec \"$0\" repl 2>&1", env!("CARGO_BIN_EXE_kiln")])
        .current_dir(ROOT)
        .env("NO_COLOR", "1")
        .env_remove("KILN_HISTORY")
        .stdin(Stdio::from(file))
        .output()
        .expect("the kiln binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A program talking to `kiln repl` through pipes gets each answer before it writes the
/// next input.
#[test]
fn each_answer_comes_before_the_next_input_is_written() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("repl")
        .current_dir(ROOT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the kiln binary runs");
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    for (line, answer) in [
        ("stage s = range(0, 3)", "defined s : stream<int>\n"),
        ("1 + 2", "3 : int\n"),
        ("[1,", ""),
        ("2] |> sum", "3 : int\n"),
    ] {
        writeln!(input, "{line}").unwrap();
        input.flush().unwrap();
        if !answer.is_empty() {
            let mut got = String::new();
            output.read_line(&mut got).unwrap();
            assert_eq!(got, answer);
        }
    }
    drop(input);
    assert!(child.wait().unwrap().success());
}

#[test]
fn transcripts() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/repl"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("repl", "*.repl", |path| {
            let script = std::fs::read_to_string(path).unwrap();
            let (code, out) = transcript(&script);
            insta::assert_snapshot!(format!("exit code: {code}\n{out}"));
        });
    });
}

#[test]
fn a_session_without_mistakes_succeeds_and_one_with_a_mistake_fails() {
    assert_eq!(transcript("1 + 2\n"), (0, "3 : int\n".to_string()));
    let (code, out) = transcript("1 + \"a\"\n2 + 2\n");
    assert_eq!(code, 1);
    assert!(out.ends_with("4 : int\n"), "{out}");
}

#[test]
fn a_pipe_on_the_next_line_continues_a_scripted_declaration() {
    let (code, out) = transcript("stage s = range(0, 5)\n  |> map(x => x * 10)\n:run s 2\n");
    assert_eq!((code, out.as_str()), (0, "defined s : stream<int>\n0\n10\n"));
}

/// `:reload` reads a loaded file again: changed declarations replace the old ones, and a
/// declaration the file no longer has is dropped.
#[test]
fn reload_reads_the_loaded_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lib.kiln");
    std::fs::write(&file, "fn f(x: int) -> int = x + 1\nconst OLD = 1\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("repl")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kiln binary runs");
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &str| {
        writeln!(input, "{line}").unwrap();
        input.flush().unwrap();
        let mut got = String::new();
        output.read_line(&mut got).unwrap();
        got
    };
    assert_eq!(ask(":load lib.kiln"), "loaded lib.kiln (2 declarations)\n");
    assert_eq!(ask("f(1) + OLD"), "3 : int\n");
    std::fs::write(&file, "fn f(x: int) -> int = x * 10\n").unwrap();
    assert_eq!(ask(":reload"), "loaded lib.kiln (1 declaration)\n");
    assert_eq!(ask("f(2)"), "20 : int\n");
    writeln!(input, "OLD").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown name `OLD`"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}
