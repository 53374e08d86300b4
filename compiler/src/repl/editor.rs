//! The line editor (rustyline): history, completion of commands, names of the session,
//! builtins and keywords, and of record fields after `.` (typed by the checker), and a
//! hint that completes a unique name and shows its type.

use super::session::Session;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

pub struct KilnHelper {
    pub session: Rc<RefCell<Session>>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The start of the word that ends at `pos`.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos].rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1)
}

impl KilnHelper {
    /// Every name that may come next at `line[..pos]`: (replacement, what it is).
    fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<(String, String)>) {
        let start = word_start(line, pos);
        let prefix = &line[start..pos];
        let before = line[..pos].trim_start();
        if before.starts_with(':') && !before.contains(char::is_whitespace) {
            let at = pos - before.len();
            let cs = super::commands::COMMANDS.iter().filter(|c| c.starts_with(before));
            return (at, cs.map(|c| (c.to_string(), "command".into())).collect());
        }
        let s = self.session.borrow();
        if line[..start].ends_with('.') {
            let fields = super::complete::fields(&s, &line[..start - 1]);
            let cs = fields.into_iter().filter(|(f, _)| f.starts_with(prefix));
            return (start, cs.collect());
        }
        if prefix.is_empty() {
            return (start, Vec::new());
        }
        let mut out: Vec<(String, String)> =
            s.names.iter().filter(|(n, _)| n.starts_with(prefix)).cloned().collect();
        let builtins = crate::builtins::names().filter(|n| n.starts_with(prefix));
        out.extend(builtins.map(|n| (n.to_string(), "builtin".into())));
        let kws = super::input::DECL_KEYWORDS
            .iter()
            .chain(&["let", "if", "else", "and", "or", "not", "true", "false", "null"]);
        out.extend(
            kws.filter(|k| k.starts_with(prefix)).map(|k| (k.to_string(), "keyword".into())),
        );
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        (start, out)
    }
}

impl Completer for KilnHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, cs) = self.candidates(line, pos);
        let pairs = cs
            .into_iter()
            .map(|(n, what)| Pair { display: format!("{n}  {what}"), replacement: n })
            .collect();
        Ok((start, pairs))
    }
}

/// A hint: the rest of the only name that fits, and what it is.
pub struct NameHint {
    display: String,
    rest: String,
}

impl Hint for NameHint {
    fn display(&self) -> &str {
        &self.display
    }

    fn completion(&self) -> Option<&str> {
        Some(&self.rest)
    }
}

impl Hinter for KilnHelper {
    type Hint = NameHint;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<NameHint> {
        if pos < line.len() || line.starts_with(':') {
            return None;
        }
        let start = word_start(line, pos);
        if pos == start {
            return None;
        }
        let (_, cs) = self.candidates(line, pos);
        let [(name, what)] = cs.as_slice() else { return None };
        let rest = name[pos - start..].to_string();
        Some(NameHint { display: format!("{rest}  : {what}"), rest })
    }
}

impl Highlighter for KilnHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for KilnHelper {}

impl Helper for KilnHelper {}
