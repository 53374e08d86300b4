//! `kiln repl` at a terminal (issue 16), through a pseudo-terminal: a prompt, Tab
//! completion of a name and of a record field, the Up arrow recalling history (also from
//! an earlier session), an unclosed bracket continuing on a `...` line, and Ctrl-C
//! stopping a long `:run` while the session goes on.

#![cfg(unix)]

use rexpect::session::{PtySession, spawn_command};
use std::process::Command;

const UP: &str = "\x1b[A";

/// Sends keys, then waits a little: the editor reads an escape sequence as one key only
/// when it arrives before the next key.
fn keys(p: &mut PtySession, k: &str) {
    p.send(k).unwrap();
    p.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
}

fn start(history: &std::path::Path) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.arg("repl")
        .env("KILN_HISTORY", history)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut p = spawn_command(cmd, Some(30_000)).expect("kiln repl starts in a pty");
    p.exp_string("kiln> ").unwrap();
    p
}

#[test]
fn typing_at_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let mut p = start(&history);
    p.send_line("fn square_it(x: int) -> int = x * x").unwrap();
    p.exp_string("defined square_it : (int) -> int").unwrap();
    p.exp_string("kiln> ").unwrap();
    // Tab completes the only name starting with `squa`.
    // (The editor redraws the line in pieces: the result shows the completion worked.)
    keys(&mut p, "squa\t");
    p.send_line("(3)").unwrap();
    p.exp_string("9 : int").unwrap();
    p.exp_string("kiln> ").unwrap();
    // The Up arrow recalls the last input.
    keys(&mut p, UP);
    keys(&mut p, "\r");
    p.exp_string("9 : int").unwrap();
    p.exp_string("kiln> ").unwrap();
    // An unclosed bracket continues on the next line.
    p.send_line("[1,").unwrap();
    p.exp_string("... ").unwrap();
    p.send_line("2] |> sum").unwrap();
    p.exp_string("3 : int").unwrap();
    p.exp_string("kiln> ").unwrap();
    // Fields of a record complete after `.`.
    p.send_line("const ORIGIN = { abscissa: 1, ordinate: 2 }").unwrap();
    p.exp_string("defined ORIGIN").unwrap();
    p.exp_string("kiln> ").unwrap();
    keys(&mut p, "ORIGIN.absc\t");
    p.send_line("").unwrap();
    p.exp_string("1 : int").unwrap();
    p.exp_string("kiln> ").unwrap();
    // Ctrl-C stops a long `:run` and keeps the session.
    p.send_line("stage endless = range(0, 1_000_000_000_000) |> filter(x => x < 0)").unwrap();
    p.exp_string("defined endless").unwrap();
    p.exp_string("kiln> ").unwrap();
    p.send_line(":run endless").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    p.send_control('c').unwrap();
    p.exp_string("interrupted").unwrap();
    p.exp_string("kiln> ").unwrap();
    p.send_line("square_it(4)").unwrap();
    p.exp_string("16 : int").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    // History is kept across sessions (newest first).
    let mut p = start(&history);
    p.send_line("fn square_it(x: int) -> int = x * x").unwrap();
    p.exp_string("defined square_it").unwrap();
    p.exp_string("kiln> ").unwrap();
    keys(&mut p, UP);
    p.exp_string("x * x").unwrap();
    keys(&mut p, UP);
    p.exp_string(":quit").unwrap();
    keys(&mut p, UP);
    p.exp_string("square_it(4)").unwrap();
    keys(&mut p, "\r");
    p.exp_string("16 : int").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}
