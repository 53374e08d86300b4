//! A REPL session: the accepted declarations, kept as text (each a byte range of the
//! input or file it came from), re-checked as one program on every input with
//! [`crate::compile::compile`]. Diagnostics are moved from the program text back into
//! the input or file each declaration came from, so they point into what the user typed.

use super::input::DeclText;
use crate::compile::{Compiled, Input, Options, Outcome};
use crate::diag::Diagnostic;
use crate::diag::render::{self, Format};
use crate::driver::CheckRun;
use crate::source::{FileId, SourceMap, Span};
use std::path::PathBuf;

/// `message` with "found `X`" (a token the REPL added after the input) worded as the end
/// of the input.
fn input_ended(message: &str) -> String {
    match message.find("found `") {
        Some(i) => match message[i + 7..].find('`') {
            Some(j) => {
                format!("{}found the end of the input{}", &message[..i], &message[i + 8 + j..])
            }
            None => message.to_string(),
        },
        None => message.to_string(),
    }
}

/// Warnings that make no sense while a program is being typed in: a stage that feeds no
/// sink yet, a fn, const or param not used yet.
fn noise(d: &Diagnostic) -> bool {
    use crate::diag::codes;
    [codes::W0001, codes::W0002, codes::W0003, codes::W0004].contains(&d.code)
}

/// Where declarations come from: one input, or one loaded file.
#[derive(Clone)]
pub struct Origin {
    /// As diagnostics show it (`<input 3>`, or the file's path).
    pub name: String,
    pub text: String,
    /// The file it was read from (`:load`), for `:reload`.
    pub file: Option<PathBuf>,
}

/// One accepted declaration.
#[derive(Clone, Debug)]
pub struct Decl {
    pub keyword: &'static str,
    pub name: Option<String>,
    pub origin: usize,
    pub start: usize,
    pub end: usize,
}

impl Decl {
    /// What a later declaration replaces: the same name (names share one namespace), the
    /// same `use` path, or the same sink text.
    pub fn key(&self, s: &Session) -> String {
        match (&self.name, self.keyword) {
            (Some(n), "use") => format!("use \"{n}\""),
            (Some(n), _) => n.clone(),
            (None, _) => s.text(self).to_string(),
        }
    }

    /// `fn sq`, `sink good -> stdout()`.
    pub fn describe(&self, s: &Session) -> String {
        match &self.name {
            Some(n) if self.keyword == "use" => format!("use \"{n}\""),
            Some(n) => format!("{} {n}", self.keyword),
            None => s.text(self).to_string(),
        }
    }
}

/// One piece of a program text.
#[derive(Clone, Copy)]
struct Piece {
    /// Where it starts in the text, and its length.
    at: usize,
    len: usize,
    /// The origin and the offset in it, or `None` for text the REPL added.
    from: Option<(usize, usize)>,
    /// What the caller tagged it with (the index of its declaration).
    tag: usize,
}

/// The program text of one check, and where each piece of it came from.
#[derive(Default)]
pub struct Built {
    pub text: String,
    pieces: Vec<Piece>,
}

impl Built {
    /// Appends `origin`'s bytes `start..end`, tagged `tag`.
    pub fn push(&mut self, s: &Session, origin: usize, start: usize, end: usize, tag: usize) {
        let at = self.text.len();
        self.text.push_str(&s.origins[origin].text[start..end]);
        self.pieces.push(Piece { at, len: end - start, from: Some((origin, start)), tag });
    }

    /// Appends text the REPL adds (a hidden declaration around an expression).
    pub fn push_hidden(&mut self, text: &str, tag: usize) {
        let at = self.text.len();
        self.text.push_str(text);
        self.pieces.push(Piece { at, len: text.len(), from: None, tag });
    }

    /// The piece holding byte `at`: its index.
    fn piece(&self, at: usize) -> Option<usize> {
        self.pieces.iter().rposition(|p| p.at <= at)
    }

    /// The tag of the piece a span of the program text starts in.
    pub fn tag(&self, span: Span) -> Option<usize> {
        self.piece(span.start as usize).map(|i| self.pieces[i].tag)
    }
}

pub struct Session {
    pub origins: Vec<Origin>,
    /// The declarations of the program, in the order they were given.
    pub decls: Vec<Decl>,
    /// Declarations that stopped checking after a redefinition, with what they need.
    pub aside: Vec<Decl>,
    /// The folder relative paths resolve against: the current folder, or the folder of
    /// the file loaded last.
    pub dir: PathBuf,
    pub color: bool,
    /// The names the program defines, with their types (for completion and hints).
    pub names: Vec<(String, String)>,
}

/// A check of the session's program (and maybe more).
pub struct Checked {
    pub built: Built,
    pub outcome: Result<Box<Compiled>, CheckRun>,
}

impl Checked {
    pub fn run(&self) -> &CheckRun {
        match &self.outcome {
            Ok(c) => &c.check,
            Err(r) => r,
        }
    }
}

impl Session {
    pub fn new(color: bool) -> Session {
        Session {
            origins: Vec::new(),
            decls: Vec::new(),
            aside: Vec::new(),
            dir: ".".into(),
            color,
            names: Vec::new(),
        }
    }

    pub fn add_origin(&mut self, name: String, text: String, file: Option<PathBuf>) -> usize {
        self.origins.push(Origin { name, text, file });
        self.origins.len() - 1
    }

    pub fn text(&self, d: &Decl) -> &str {
        &self.origins[d.origin].text[d.start..d.end]
    }

    pub fn decl(&self, origin: usize, d: &DeclText) -> Decl {
        Decl { keyword: d.keyword, name: d.name.clone(), origin, start: d.start, end: d.end }
    }

    /// The program text of `decls` (tag: index in `decls`), then what `more` adds.
    pub fn build(&self, decls: &[Decl], more: impl FnOnce(&mut Built)) -> Built {
        let mut b = Built::default();
        for (i, d) in decls.iter().enumerate() {
            b.push(self, d.origin, d.start, d.end, i);
            b.push_hidden("\n", i);
        }
        more(&mut b);
        b
    }

    /// The name the program text is checked under: in [`Session::dir`], so relative
    /// paths resolve against it.
    fn program_name(&self) -> String {
        self.dir.join("<repl>").display().to_string()
    }

    /// Checks (and lowers) `built`. `Err`: an internal error, already reported.
    pub fn check(&self, built: Built) -> Result<Checked, ()> {
        let name = self.program_name();
        match crate::compile::compile(
            Input::Text { name: &name, text: &built.text },
            Options::default(),
        ) {
            Ok(Outcome::Compiled(c)) => Ok(Checked { built, outcome: Ok(c) }),
            Ok(Outcome::Failed(run)) => Ok(Checked { built, outcome: Err(run) }),
            Err(e) => {
                super::error(&e);
                Err(())
            }
        }
    }

    /// The file of the program text in `run`'s map.
    fn main_file(&self, run: &CheckRun) -> Option<FileId> {
        run.map.find(&self.program_name())
    }

    /// Renders `diags` (of `checked`) on stderr as `kiln check` does, with every span in
    /// the program text moved to the input or file it came from.
    pub fn render(&self, checked: &Checked, diags: &[Diagnostic]) {
        let diags: Vec<Diagnostic> = diags.iter().filter(|d| !noise(d)).cloned().collect();
        if diags.is_empty() {
            return;
        }
        let diags = &diags[..];
        let run = checked.run();
        let (map, diags) = self.relocate(&checked.built, run, diags);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let mut err = std::io::stderr().lock();
        let _ = render::render(Format::Human { color: self.color }, &map, &diags, &mut err);
    }

    fn relocate(
        &self,
        built: &Built,
        run: &CheckRun,
        diags: &[Diagnostic],
    ) -> (SourceMap, Vec<Diagnostic>) {
        let mut map = SourceMap::new();
        for id in run.map.ids() {
            let f = run.map.get(id);
            map.add(f.name.clone(), f.text.clone());
        }
        let base = map.len() as u32;
        for o in &self.origins {
            map.add(o.name.clone(), o.text.clone());
        }
        let main = self.main_file(run);
        // `None`: the span lies in text the REPL added.
        let move_span = |sp: Span| -> Option<Span> {
            if Some(sp.file) != main {
                return Some(sp);
            }
            let mut i = built.piece(sp.start as usize)?;
            let mut start = sp.start as usize;
            if built.pieces[i].from.is_none() {
                // Starting in added text: from the user's text right after it, if the span
                // reaches it.
                let next = built
                    .pieces
                    .get(i + 1)
                    .filter(|p| p.from.is_some() && sp.end as usize > p.at)?;
                start = next.at;
                i += 1;
            }
            let Piece { at, len, from: Some((origin, off)), .. } = built.pieces[i] else {
                return None;
            };
            let file = FileId(base + origin as u32);
            let end = (sp.end as usize).clamp(start, at + len);
            Some(Span::new(file, off + start - at, off + end - at))
        };
        // Hidden text a primary span may point at: the end of the user's text before it.
        let fallback = |sp: Span| -> Span {
            let Some(i) = built.piece(sp.start as usize) else { return sp };
            match (0..=i).rev().find_map(|k| built.pieces[k].from.map(|o| (k, o))) {
                Some((k, (origin, off))) => {
                    let e = off + built.pieces[k].len;
                    Span::new(FileId(base + origin as u32), e, e)
                }
                None => sp,
            }
        };
        let diags = diags
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.primary.span = match move_span(d.primary.span) {
                    Some(sp) => sp,
                    None => {
                        // The parser met text the REPL added: for the user, the input ended.
                        d.message = input_ended(&d.message);
                        fallback(d.primary.span)
                    }
                };
                d.secondary.retain_mut(|l| match move_span(l.span) {
                    Some(sp) => {
                        l.span = sp;
                        true
                    }
                    None => false,
                });
                d
            })
            .collect();
        (map, diags)
    }

    /// The index in `decls` of the declaration a diagnostic is about (its primary span),
    /// when it lies in one.
    pub fn owner(&self, checked: &Checked, d: &Diagnostic) -> Option<usize> {
        let run = checked.run();
        (Some(d.primary.span.file) == self.main_file(run))
            .then(|| checked.built.tag(d.primary.span))
            .flatten()
    }
}
