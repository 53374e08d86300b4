//! The REPL's commands: `:type`, `:ir`, `:run`, `:load`, `:reload`, `:help`, `:quit`.

use super::define::define;
use super::eval::{self, Mode};
use super::input;
use super::session::Session;
use std::path::{Path, PathBuf};

pub const HELP: &str = "\
Type an expression to see its value and type (`1 + 2` prints `3 : int`), or a declaration
(`fn`, `type`, `const`, `param`, `source`, `stage`, `sink`, `agent`, `prompt`, `use`) to
add it to the session; a declaration replaces an earlier one of the same name. An unclosed
bracket or string continues the input on the next line.

  :type EXPR        the type of EXPR
  :ir NAME          Kiln's IR and the Cranelift IR of a fn, const, param, source or stage
  :run STAGE [N]    run a stage (or any stream expression) and print its first N elements
                    (10 by default); Ctrl-C stops it
  :load FILE        add the declarations of a .kiln file
  :reload           read the loaded files again
  :help             this text
  :quit             leave (also Ctrl-D)";

/// The commands, for completion.
pub const COMMANDS: &[&str] = &[":type", ":ir", ":run", ":load", ":reload", ":help", ":quit"];

/// What the loop does after a command.
pub enum Next {
    Go(bool),
    Quit,
}

/// Runs command `name` with argument text `rest` (which is `origin`'s text from byte
/// `at`).
pub fn command(s: &mut Session, name: &str, origin: usize, at: usize) -> Next {
    let after = s.origins[origin].text[at..].to_string();
    let rest = after.trim_end();
    let rest_start = at + (after.len() - after.trim_start().len());
    Next::Go(match name {
        "q" | "quit" | "exit" => return Next::Quit,
        "h" | "help" | "?" => {
            println!("{HELP}");
            true
        }
        "t" | "type" if !rest.trim().is_empty() => {
            let end = s.origins[origin].text.trim_end().len();
            eval::expr(s, origin, rest_start, end, Mode::Type)
        }
        "r" | "run" if !rest.trim().is_empty() => {
            let (e, n) = input::run_args(rest);
            let n = match n.map(|n| n.replace('_', "").parse::<u64>()) {
                None => 10,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    super::error("the count of `:run` must be a whole number");
                    return Next::Go(false);
                }
            };
            eval::run(s, origin, rest_start, rest_start + e.len(), n)
        }
        "ir" if !rest.trim().is_empty() => ir(s, rest.trim()),
        "l" | "load" if !rest.trim().is_empty() => {
            // A path may be quoted (it may hold spaces).
            let path = rest.trim();
            let path = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')).unwrap_or(path);
            load(s, Path::new(path), None)
        }
        "reload" => reload(s),
        "type" | "t" | "run" | "r" | "ir" | "load" | "l" => {
            super::error(format!("`:{name}` needs an argument; `:help` lists the commands"));
            false
        }
        _ => {
            super::error(format!("unknown command `:{name}`; `:help` lists the commands"));
            false
        }
    })
}

/// `:load FILE`: checks the file on its own first (its diagnostics are shown as `kiln
/// check` shows them), then adds its declarations.
pub fn load(s: &mut Session, path: &Path, replacing: Option<usize>) -> bool {
    if let Err(e) = crate::driver::pipeline_file(path) {
        super::error(e);
        return false;
    }
    let compiled = crate::compile::compile(crate::compile::Input::File(path), Default::default());
    let text = match compiled {
        Err(e) => {
            super::error(e);
            return false;
        }
        Ok(crate::compile::Outcome::Failed(run)) => {
            let errors: Vec<_> = run.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
            let mut err = std::io::stderr().lock();
            let fmt = crate::diag::render::Format::Human { color: s.color };
            let _ = crate::diag::render::render(fmt, &run.map, &errors, &mut err);
            return false;
        }
        Ok(crate::compile::Outcome::Compiled(c)) => {
            let name = crate::driver::normalize(path);
            match c.check.map.find(&name) {
                Some(f) => c.check.map.get(f).text.clone(),
                None => match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) => {
                        super::error(format!("{}: {e}", path.display()));
                        return false;
                    }
                },
            }
        }
    };
    let shown = crate::driver::normalize(path);
    let origin = match replacing {
        Some(o) => {
            s.origins[o].text = text;
            o
        }
        None => s.add_origin(shown.clone(), text, Some(path.to_path_buf())),
    };
    let decls: Vec<_> =
        input::declarations(&s.origins[origin].text).iter().map(|d| s.decl(origin, d)).collect();
    let old_dir = std::mem::replace(&mut s.dir, folder(path));
    let n = decls.len();
    if !define(s, decls, true) {
        s.dir = old_dir;
        return false;
    }
    println!("loaded {shown} ({n} declaration{})", if n == 1 { "" } else { "s" });
    true
}

fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `:reload`: each loaded file again, its declarations replacing those it gave before
/// (a declaration the file no longer has is dropped).
fn reload(s: &mut Session) -> bool {
    let files: Vec<(usize, PathBuf)> =
        s.origins.iter().enumerate().filter_map(|(i, o)| o.file.clone().map(|f| (i, f))).collect();
    if files.is_empty() {
        println!("no file is loaded");
        return true;
    }
    let mut ok = true;
    for (o, f) in files {
        let before = (s.decls.clone(), s.aside.clone());
        s.decls.retain(|d| d.origin != o);
        s.aside.retain(|d| d.origin != o);
        if !load(s, &f, Some(o)) {
            (s.decls, s.aside) = before;
            ok = false;
        }
    }
    ok
}

/// `:ir NAME`: Kiln's IR of a definition, then the Cranelift IR compiled from it.
fn ir(s: &Session, name: &str) -> bool {
    let Some(d) = s.decls.iter().find(|d| d.name.as_deref() == Some(name)) else {
        let aside = s.aside.iter().any(|d| d.name.as_deref() == Some(name));
        let why = if aside { "is set aside (it does not check)" } else { "is not defined" };
        super::error(format!("`{name}` {why}"));
        return false;
    };
    match d.keyword {
        "fn" => super::ir::fn_ir(s, name),
        "const" | "param" => super::ir::value_ir(s, name),
        "source" | "stage" => super::ir::stage_ir(s, name),
        kw => {
            super::error(format!(
                "`:ir` shows fns, consts, params, sources and stages; `{name}` is a {kw}"
            ));
            false
        }
    }
}
