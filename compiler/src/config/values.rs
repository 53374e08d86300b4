//! The values of a `[models.NAME]` and `[budget]` table: types and ranges.

use super::Cx;
use crate::diag::{Diagnostic, codes};
use toml::Spanned;
use toml::de::DeValue;

const PROVIDERS: &[&str] = &["openai"];
const STRUCTURED: &[&str] = &["json_schema", "json_object", "prompt"];

/// A valid environment variable name: a letter or `_`, then letters, digits and `_`.
pub fn env_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of an integer, whatever its radix.
fn int(v: &DeValue<'_>) -> Option<Option<i64>> {
    match v {
        DeValue::Integer(i) => Some(i64::from_str_radix(i.as_str(), i.radix()).ok()),
        _ => None,
    }
}

impl Cx<'_> {
    fn bad_value(&mut self, v: &Spanned<DeValue<'_>>, msg: String, label: &str, help: String) {
        let d = Diagnostic::new(codes::E0702, self.span(v.span()), msg).label(label.to_string());
        self.push(if help.is_empty() { d } else { d.help(help) });
    }

    /// An integer key that must be at least `min`.
    pub(super) fn int_at_least(&mut self, key: &str, v: &Spanned<DeValue<'_>>, min: i64) {
        let want = if min > 0 { "a positive integer" } else { "an integer, 0 or more" };
        match int(v.get_ref()) {
            Some(Some(n)) if n >= min => {}
            Some(_) => self.bad_value(
                v,
                format!("`{key}` must be {want}"),
                "out of range",
                format!("write a whole number of at least {min}"),
            ),
            None => self.wrong_type(v.span(), key, want, v.get_ref()),
        }
    }

    fn string<'v>(&mut self, key: &str, v: &'v Spanned<DeValue<'_>>) -> Option<&'v str> {
        let s = v.get_ref().as_str();
        if s.is_none() {
            self.wrong_type(v.span(), key, "a string", v.get_ref());
        }
        s
    }

    fn one_of(&mut self, key: &str, v: &Spanned<DeValue<'_>>, allowed: &[&str]) {
        let Some(s) = self.string(key, v) else { return };
        if !allowed.contains(&s) {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            self.bad_value(
                v,
                format!("`{key}` must be one of {}", list.join(", ")),
                "not a known value",
                match crate::check::suggest::closest(s, allowed.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => String::new(),
                },
            );
        }
    }

    fn model_name(&mut self, v: &Spanned<DeValue<'_>>) {
        if self.string("model", v).is_some_and(|s| s.trim().is_empty()) {
            self.bad_value(
                v,
                "`model` must not be empty".into(),
                "empty",
                "name the model the endpoint serves, e.g. `model = \"gpt-4o-mini\"`".into(),
            );
        }
    }

    /// Checks the value of the known model key `key`.
    pub(super) fn model_value(&mut self, key: &str, v: &Spanned<DeValue<'_>>) {
        match key {
            "provider" => self.one_of(key, v, PROVIDERS),
            "structured_output" => self.one_of(key, v, STRUCTURED),
            "model" => self.model_name(v),
            "base_url" => {
                let Some(s) = self.string(key, v) else { return };
                let rest = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
                let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
                if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
                    self.bad_value(
                        v,
                        "`base_url` must be an http:// or https:// URL".into(),
                        "not an http(s) URL",
                        "e.g. `base_url = \"http://127.0.0.1:8080/v1\"`".into(),
                    );
                }
            }
            "api_key_env" => {
                let Some(s) = self.string(key, v) else { return };
                if super::looks_secret(s) {
                    self.push(
                        Diagnostic::new(
                            codes::E0703,
                            self.span(v.span()),
                            "`api_key_env` holds what looks like an API key, not a variable name",
                        )
                        .label("the value is not shown")
                        .help("put the key in an environment variable (`export OPENAI_API_KEY=...`) and write its name here: `api_key_env = \"OPENAI_API_KEY\"`"),
                    );
                } else if !env_name(s) {
                    self.bad_value(
                        v,
                        "`api_key_env` must be the name of an environment variable".into(),
                        "not a variable name (the value is not shown)",
                        "a name is letters, digits and `_`, not starting with a digit: `OPENAI_API_KEY`"
                            .into(),
                    );
                }
            }
            "max_concurrency" | "timeout_s" | "max_tokens" => self.int_at_least(key, v, 1),
            "retries" | "max_retry_wait_s" => self.int_at_least(key, v, 0),
            "temperature" => {
                let x = match v.get_ref() {
                    DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                    DeValue::Integer(_) => int(v.get_ref()).flatten().map(|n| n as f64),
                    other => {
                        self.wrong_type(v.span(), key, "a number", other);
                        return;
                    }
                };
                if !x.is_some_and(|x| (0.0..=2.0).contains(&x)) {
                    self.bad_value(
                        v,
                        "`temperature` must be between 0.0 and 2.0".into(),
                        "out of range",
                        "0.0 gives the most repeatable answers".into(),
                    );
                }
            }
            _ => {}
        }
    }
}
