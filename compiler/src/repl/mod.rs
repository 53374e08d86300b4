//! `kiln repl` (LANGUAGE.md §5, "The REPL"; docs/repl.md). Each input is a command
//! (`:type`, `:ir`, `:run`, `:load`, `:reload`, `:help`, `:quit`), declarations (kept
//! in the session, [`session`], [`define`]) or an expression (checked against the session
//! and JIT-compiled, [`eval`]). On a terminal the input comes from a line editor
//! ([`editor`]: history, completion, hints); otherwise from standard input, line by line,
//! with the same output and no prompts.
//!
//! - [`input`]: what an input is, and whether it continues on the next line.
//! - [`commands`], [`ir`]: the commands; [`complete`]: field completion.

mod commands;
mod complete;
mod define;
mod editor;
mod eval;
mod input;
mod ir;
mod session;

use crate::cli::Status;
use commands::Next;
use input::Input;
use session::Session;
use std::io::{BufRead, IsTerminal};
use std::os::fd::AsFd;

/// Prints `error: message` on stderr (after what stdout holds).
pub(crate) fn error(message: impl std::fmt::Display) {
    let _ = std::io::Write::flush(&mut std::io::stdout());
    eprintln!("error: {message}");
}

/// Runs the REPL: interactive on a terminal, scripted otherwise. Scripted, the status is
/// a failure when any input failed.
pub fn run(color: bool) -> Status {
    crate::driver::with_big_stack(move || {
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            interactive(color)
        } else {
            scripted(color)
        }
    })
}

/// Handles one input (`name` is what diagnostics call it). `None`: `:quit`.
fn step(s: &mut Session, name: String, text: String) -> Option<bool> {
    let kind = match input::classify(&text) {
        Input::Empty => return Some(true),
        Input::Command(c, _) => {
            // Where the command's name ends in the text.
            let at = c.as_ptr() as usize - text.as_ptr() as usize + c.len();
            Some((c.to_string(), at))
        }
        Input::Decls | Input::Expr => None,
    };
    let decls = matches!(input::classify(&text), Input::Decls);
    if kind.is_none()
        && !decls
        && let Some(at) = input::top_level_let(&text)
    {
        let mut map = crate::source::SourceMap::new();
        let file = map.add(name, text);
        let span = crate::source::Span { file, start: at as u32, end: at as u32 + 3 };
        let d = crate::diag::Diagnostic::new(
            crate::diag::codes::E0001,
            span,
            "`let` binds a name inside a block, not in the session",
        )
        .label("not a declaration")
        .help("keep a value in the session with `const NAME = ...`, or write a block: `{ let x = 3  x * 2 }`");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let mut err = std::io::stderr().lock();
        let format = crate::diag::render::Format::Human { color: s.color };
        let _ = crate::diag::render::render(format, &map, &[d], &mut err);
        return Some(false);
    }
    let origin = s.add_origin(name, text, None);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind {
        Some((c, at)) => match commands::command(s, &c, origin, at) {
            Next::Go(ok) => Some(ok),
            Next::Quit => None,
        },
        None if decls => {
            let ds = input::declarations(&s.origins[origin].text);
            let ds = ds.iter().map(|d| s.decl(origin, d)).collect();
            Some(define::define(s, ds, false))
        }
        None => {
            let end = s.origins[origin].text.trim_end().len();
            Some(eval::expr(s, origin, 0, end, eval::Mode::Show))
        }
    }));
    let ok = ok.unwrap_or_else(|_| {
        error("internal compiler error (reported above); the session goes on");
        Some(false)
    });
    if ok == Some(false) {
        explain_aside(s, origin);
    }
    ok
}

/// After a failed input: names it uses that are set aside, and why they are missing.
fn explain_aside(s: &Session, origin: usize) {
    let text = &s.origins[origin].text;
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for d in &s.aside {
        if d.name.as_deref().is_some_and(|n| words.contains(&n)) {
            println!(
                "note: {} is set aside because it no longer checks; redefine it or what it uses",
                d.describe(s)
            );
        }
    }
}

fn scripted(color: bool) -> Status {
    let mut s = Session::new(color);
    // Looking at the next line before answering is only safe when it is already there: when
    // standard input is a file (`kiln repl < script`). A program talking to the REPL
    // through a pipe waits for each answer before it writes the next line.
    let look_ahead = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| std::fs::File::from(fd).metadata().ok())
        .is_some_and(|m| m.is_file());
    let stdin = std::io::stdin().lock();
    let mut lines = stdin.lines().map_while(Result::ok).enumerate().peekable();
    let mut failed = false;
    while let Some((at, first)) = lines.next() {
        let mut text = first;
        // An unclosed bracket or string continues; so does, when reading a file, a next
        // line that starts with `|>`.
        loop {
            let command = matches!(input::classify(&text), Input::Command(..));
            let pipe = look_ahead
                && !command
                && lines.peek().is_some_and(|(_, l)| l.trim_start().starts_with("|>"));
            if !(input::incomplete(&text) || pipe) {
                break;
            }
            let Some((_, more)) = lines.next() else { break };
            text.push('\n');
            text.push_str(&more);
        }
        match step(&mut s, format!("<line {}>", at + 1), text) {
            None => break,
            Some(ok) => failed |= !ok,
        }
    }
    if failed { Status::Failure } else { Status::Success }
}

/// Where history is kept: `KILN_HISTORY`, else `~/.kiln_history`.
fn history_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("KILN_HISTORY") {
        return Some(p.into());
    }
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".kiln_history"))
}

fn interactive(color: bool) -> Status {
    use rustyline::error::ReadlineError;
    let session = std::rc::Rc::new(std::cell::RefCell::new(Session::new(color)));
    // Tab lists every candidate (as a shell does) once what they share is typed.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| b.build())
        .unwrap_or_default();
    let mut ed = match rustyline::Editor::<editor::KilnHelper, _>::with_config(config) {
        Ok(ed) => ed,
        Err(e) => {
            error(format!("cannot start the line editor: {e}"));
            return Status::Failure;
        }
    };
    ed.set_helper(Some(editor::KilnHelper { session: session.clone() }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = ed.load_history(h);
    }
    // Ctrl-C while `:run` runs stops the run (the editor reads Ctrl-C as a key itself). A
    // compiled expression cannot be stopped: a second Ctrl-C before the input is done
    // leaves the REPL (history is already saved).
    let _ = ctrlc::set_handler(|| {
        use kiln_runtime::exec::interrupt;
        if interrupt::requested() {
            eprintln!("\ninterrupted twice: leaving kiln repl");
            std::process::exit(130);
        }
        interrupt::request();
    });
    println!("Kiln {}: `:help` lists the commands, `:quit` leaves", env!("CARGO_PKG_VERSION"));
    let mut n = 0;
    loop {
        let mut text = match ed.readline("kiln> ") {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                error(e);
                break;
            }
        };
        while input::incomplete(&text) {
            match ed.readline("  ... ") {
                Ok(l) => {
                    text.push('\n');
                    text.push_str(&l);
                }
                Err(ReadlineError::Interrupted) => {
                    text.clear();
                    break;
                }
                Err(_) => break,
            }
        }
        if text.trim().is_empty() {
            continue;
        }
        let _ = ed.add_history_entry(text.as_str());
        if let Some(h) = &history {
            let _ = ed.save_history(h);
        }
        n += 1;
        let quit = step(&mut session.borrow_mut(), format!("<input {n}>"), text).is_none();
        kiln_runtime::exec::interrupt::clear();
        if quit {
            break;
        }
    }
    Status::Success
}
