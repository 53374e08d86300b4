//! `kiln.toml`: the language models a pipeline may call (LANGUAGE.md §4). This module reads
//! and checks the text the driver found; it does no I/O. Every problem is a diagnostic with
//! the span of the key or value at fault. A value that may be a secret is never copied into
//! a diagnostic, and [`Loaded::shown`] is the text with such values masked, which is what
//! the driver puts in the source map (so no renderer can show them in a snippet).

pub mod runtime;
mod values;

use crate::check::suggest;
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use toml::Spanned;
type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// The keys of a `[models.NAME]` table.
pub const MODEL_KEYS: &[&str] = &[
    "provider",
    "base_url",
    "model",
    "api_key_env",
    "max_concurrency",
    "timeout_s",
    "retries",
    "max_retry_wait_s",
    "fallback",
    "temperature",
    "max_tokens",
    "structured_output",
];
/// The keys of the `[budget]` table.
pub const BUDGET_KEYS: &[&str] = &["max_calls", "max_tokens"];
const TOP_KEYS: &[&str] = &["models", "budget"];

/// What the checker knows about the models a pipeline may call.
#[derive(Clone, Debug, Default)]
pub enum Models {
    /// Not looked for (a pipeline given as text, not read from a file).
    #[default]
    Unknown,
    /// No `kiln.toml` next to the pipeline or in a parent folder; `searched` is the first
    /// folder looked in, as the user sees it.
    Missing { searched: String },
    /// A `kiln.toml` that could not be read as TOML: model names are not checked.
    Broken,
    /// The models a `kiln.toml` defines, in file order, and its name as shown.
    Found { names: Vec<String>, path: String },
}

/// The result of reading one `kiln.toml`.
pub struct Loaded {
    /// `None` when the text is not valid TOML.
    pub names: Option<Vec<String>>,
    pub diagnostics: Vec<Diagnostic>,
    /// The text with every value that may be a secret replaced by `*`s (same byte length).
    pub shown: String,
}

/// Reads and checks the text of the `kiln.toml` that will be `file` in the source map.
pub fn load(file: FileId, text: &str) -> Loaded {
    let mut cx = Cx { file, text, diags: Vec::new(), secrets: Vec::new() };
    let names = match DeTable::parse(text) {
        Ok(doc) => Some(cx.document(doc.get_ref())),
        Err(e) => {
            let at = e.span().unwrap_or(0..0);
            let first = e.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
            cx.diags.push(
                Diagnostic::new(codes::E0700, cx.span(at), format!("invalid TOML: {first}"))
                    .label("here")
                    .help("kiln.toml is TOML: `[models.NAME]` tables of `key = value` lines"),
            );
            None
        }
    };
    let mut shown = text.as_bytes().to_vec();
    for r in &cx.secrets {
        shown[r.clone()].fill(b'*');
    }
    let shown = String::from_utf8(shown).unwrap_or_else(|_| "*".repeat(text.len()));
    cx.diags.sort_by_key(|d| d.primary.span.start);
    Loaded { names, diagnostics: cx.diags, shown }
}

type Entry<'i> = (&'i Key<'i>, &'i Spanned<DeValue<'i>>);

struct Cx<'t> {
    file: FileId,
    text: &'t str,
    diags: Vec<Diagnostic>,
    /// Byte ranges of values to mask.
    secrets: Vec<Range<usize>>,
}

impl Cx<'_> {
    /// A span of the text, moved onto character boundaries.
    fn span(&self, r: Range<usize>) -> Span {
        let mut a = r.start.min(self.text.len());
        while !self.text.is_char_boundary(a) {
            a -= 1;
        }
        let mut b = r.end.clamp(a, self.text.len());
        while !self.text.is_char_boundary(b) {
            b += 1;
        }
        Span::new(self.file, a, b)
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Masks the string value at `r` (its quotes stay).
    fn hide(&mut self, r: Range<usize>) {
        let t = &self.text.as_bytes()[r.clone()];
        let q = usize::from(matches!(t.first(), Some(b'"' | b'\'')));
        let q = q.min(r.len() / 2);
        self.secrets.push(r.start + q..r.end - q);
    }

    fn unknown_key(&mut self, key: &Key<'_>, keys: &[&str], what: &str) {
        let mut d = Diagnostic::new(
            codes::E0701,
            self.span(key.span()),
            format!("unknown key `{}` in {what}", key.get_ref()),
        )
        .label("not a known key");
        d = match suggest::closest(key.get_ref(), keys.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("the keys are: {}", keys.join(", "))),
        };
        self.push(d);
    }

    fn document(&mut self, doc: &DeTable<'_>) -> Vec<String> {
        let mut names = Vec::new();
        let mut models: Vec<Entry<'_>> = Vec::new();
        for (k, v) in doc.iter() {
            // Secrets are hidden wherever they are, known table or not.
            self.hide_secrets(k.get_ref(), v);
            match k.get_ref().as_ref() {
                "models" => match v.get_ref() {
                    DeValue::Table(t) => {
                        for (name, m) in t.iter() {
                            names.push(name.get_ref().to_string());
                            models.push((name, m));
                        }
                    }
                    other => self.wrong_type(v.span(), "models", "a table", other),
                },
                "budget" => match v.get_ref() {
                    DeValue::Table(t) => self.budget(t),
                    other => self.wrong_type(v.span(), "budget", "a table", other),
                },
                other if secret_name(other) => self.secret_key(k),
                _ => {
                    let mut d = Diagnostic::new(
                        codes::E0701,
                        self.span(k.span()),
                        format!("unknown table or key `{}` in kiln.toml", k.get_ref()),
                    )
                    .label("not known");
                    d = match suggest::closest(k.get_ref(), TOP_KEYS.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("kiln.toml holds `[models.NAME]` tables and `[budget]`"),
                    };
                    self.push(d);
                }
            }
        }
        let mut fallbacks = Vec::new();
        for (name, m) in &models {
            match m.get_ref() {
                DeValue::Table(t) => {
                    if let Some(f) = self.model(t, &names) {
                        fallbacks.push((name.get_ref().to_string(), f));
                    }
                }
                other => {
                    let what = format!("models.{}", name.get_ref());
                    self.wrong_type(m.span(), &what, "a table of settings", other)
                }
            }
        }
        self.cycles(&fallbacks);
        names
    }

    fn hide_secrets(&mut self, key: &str, v: &Spanned<DeValue<'_>>) {
        match v.get_ref() {
            DeValue::String(s) if secret_name(key) || looks_secret(s) => self.hide(v.span()),
            DeValue::String(s) if key == "api_key_env" && !values::env_name(s) => {
                self.hide(v.span())
            }
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    self.hide_secrets(k.get_ref(), v);
                }
            }
            DeValue::Array(a) => {
                for v in a.iter() {
                    self.hide_secrets(key, v);
                }
            }
            _ => {}
        }
    }

    fn secret_key(&mut self, k: &Key<'_>) {
        self.push(
            Diagnostic::new(
                codes::E0703,
                self.span(k.span()),
                format!("`{}` looks like an API key written into kiln.toml", k.get_ref()),
            )
            .label("a secret does not belong in this file (its value is not shown)")
            .help("put the key in an environment variable and name the variable instead: `api_key_env = \"OPENAI_API_KEY\"`"),
        );
    }

    fn wrong_type(&mut self, at: Range<usize>, key: &str, want: &str, got: &DeValue<'_>) {
        self.push(
            Diagnostic::new(
                codes::E0702,
                self.span(at),
                format!("`{key}` must be {want}, not {}", kind(got)),
            )
            .label(format!("expected {want}")),
        );
    }

    fn budget(&mut self, t: &DeTable<'_>) {
        for (k, v) in t.iter() {
            if BUDGET_KEYS.contains(&k.get_ref().as_ref()) {
                self.int_at_least(k.get_ref(), v, 1);
            } else if secret_name(k.get_ref()) {
                self.secret_key(k);
            } else {
                self.unknown_key(k, BUDGET_KEYS, "[budget]");
            }
        }
    }

    /// Checks one `[models.NAME]` table; returns its `fallback` (name, value span).
    fn model(&mut self, t: &DeTable<'_>, names: &[String]) -> Option<(String, Range<usize>)> {
        let mut fallback = None;
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            if !MODEL_KEYS.contains(&key) {
                if secret_name(key) {
                    self.secret_key(k);
                } else {
                    self.unknown_key(k, MODEL_KEYS, "a `[models.NAME]` table");
                }
                continue;
            }
            if key == "fallback" {
                fallback = self.fallback(v, names);
            } else {
                self.model_value(key, v);
            }
        }
        fallback
    }

    fn fallback(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        names: &[String],
    ) -> Option<(String, Range<usize>)> {
        let Some(name) = v.get_ref().as_str() else {
            self.wrong_type(v.span(), "fallback", "the name of a model (a string)", v.get_ref());
            return None;
        };
        if names.iter().any(|n| n == name) {
            return Some((name.to_string(), v.span()));
        }
        let mut d = Diagnostic::new(
            codes::E0704,
            self.span(v.span()),
            format!("unknown model {}", shown_name(name)),
        )
        .label("no `[models.NAME]` table has this name");
        d = match suggest::closest(name, names.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(known_models(names)),
        };
        self.push(d);
        None
    }

    /// Reports each fallback cycle once, at the first model of the cycle in file order.
    fn cycles(&mut self, fallbacks: &[(String, (String, Range<usize>))]) {
        let next = |n: &str| fallbacks.iter().find(|(m, _)| m == n).map(|(_, f)| f);
        let mut reported: Vec<&str> = Vec::new();
        for (start, _) in fallbacks {
            let mut path = vec![start.as_str()];
            let mut cur = start.as_str();
            while let Some((to, _)) = next(cur) {
                if to == start {
                    break;
                }
                if path.contains(&to.as_str()) || path.len() > fallbacks.len() {
                    path.clear();
                    break;
                }
                path.push(to);
                cur = to;
            }
            if path.is_empty() || next(cur).is_none_or(|(to, _)| to != start) {
                continue;
            }
            if path.iter().any(|p| reported.contains(p)) {
                continue;
            }
            reported.extend(path.iter().copied());
            let shown = format!("{} -> {start}", path.join(" -> "));
            let at = next(start).map(|(_, s)| s.clone()).unwrap_or(0..0);
            let mut d =
                Diagnostic::new(codes::E0705, self.span(at), format!("fallback cycle: {shown}"))
                    .label("this fallback leads back here")
                    .help("a fallback chain must end at a model without `fallback`");
            for p in path.iter().skip(1) {
                if let Some((_, s)) = next(p) {
                    d = d.secondary(self.span(s.clone()), "the cycle continues here");
                }
            }
            self.push(d);
        }
    }
}

fn known_models(names: &[String]) -> String {
    if names.is_empty() {
        "kiln.toml defines no model: add a `[models.NAME]` table".into()
    } else {
        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("kiln.toml defines: {}", list.join(", "))
    }
}

/// The kind of a TOML value, as a message names it.
fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A key name that suggests its value is a credential (`api_key`, `token`, `password`).
fn secret_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if MODEL_KEYS.contains(&k.as_str()) || BUDGET_KEYS.contains(&k.as_str()) {
        return false;
    }
    ["key", "token", "secret", "password", "passwd", "auth", "credential", "bearer"]
        .iter()
        .any(|w| k.contains(w))
}

/// A model name as a message shows it: quoted, or withheld when it looks like a secret
/// (a key pasted where a name belongs must not be echoed).
pub fn shown_name(name: &str) -> String {
    if looks_secret(name) {
        "(a name that looks like a secret, not shown)".to_string()
    } else {
        format!("`{name}`")
    }
}

/// A string that looks like a credential rather than a name: a known key prefix, or a long
/// run of mixed letters and digits.
pub fn looks_secret(s: &str) -> bool {
    let t = s.trim();
    let prefixes = ["sk-", "sk_", "pk-", "rk-", "ghp_", "gho_", "xox", "AIza", "Bearer ", "hf_"];
    if prefixes.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    t.len() >= 24
        && !t.contains(char::is_whitespace)
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().any(|c| c.is_ascii_lowercase())
        && !t.contains("://")
}

#[cfg(test)]
mod tests;
