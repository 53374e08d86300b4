//! `.prompt` files: YAML front matter between `---` lines (`params` maps each parameter to
//! a Kiln type written as a string), then the template. This reads the signature and
//! parses the template; the types are resolved, and the template checked, by the checker.

use crate::check::PromptSig;
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use crate::syntax::{self, ast};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

const KEYS: &[&str] = &["params", "returns", "description", "model", "temperature", "max_tokens"];

/// A YAML mapping kept in document order.
struct Ordered<V>(Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

#[derive(serde::Deserialize)]
struct Front {
    params: Option<Ordered<Spanned<String>>>,
    model: Option<Spanned<String>>,
    returns: Option<Spanned<String>>,
    temperature: Option<Spanned<f64>>,
    max_tokens: Option<Spanned<i64>>,
}

/// Reads the front matter of the `.prompt` file `file` (whose text is `text`).
pub fn load(file: FileId, text: &str) -> (Option<PromptSig>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let bad = |msg: &str, span: Span, help: &str| {
        Diagnostic::new(codes::E0500, span, msg.to_string()).label("here").help(help.to_string())
    };
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "---" {
        diags.push(bad(
            "a prompt file must start with front matter",
            Span::new(file, 0, first_line_end),
            "start the file with a `---` line, the YAML keys (`params:` ...), and another `---` line",
        ));
        return (None, diags);
    }
    let body_start = first_line_end + 1;
    let Some((yaml_end, template_start)) = closing_fence(text, body_start) else {
        diags.push(bad(
            "the front matter is never closed",
            Span::new(file, 0, 3),
            "end the YAML front matter with a line holding only `---`",
        ));
        return (None, diags);
    };
    let yaml = &text[body_start.min(yaml_end)..yaml_end];
    // Clamped to the text and to character boundaries, whatever the YAML parser said (a
    // stray byte-order mark inside the front matter shifts its offsets).
    let at = |loc: &serde_saphyr::Location, len_hint: usize| {
        let off = loc.span().byte_offset().unwrap_or(0) as usize + body_start;
        let mut start = off.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (off + len_hint).clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        Span::new(file, start, end)
    };
    // The template's own syntax is read whatever the front matter says.
    let template = &text[template_start..];
    let offsets = syntax::template::Offsets { base: template_start, jumps: Vec::new() };
    let (body, template_diags) = syntax::parse_template(file, template, &offsets);
    diags.extend(template_diags);
    let sig = |params, model, returns, settings| PromptSig {
        params,
        template: template.to_string(),
        body,
        model,
        returns,
        settings,
    };
    if yaml.trim().is_empty() {
        return (Some(sig(Vec::new(), None, None, Default::default())), diags);
    }
    // Unknown keys are a warning; a malformed document is an error.
    match serde_saphyr::from_str::<Ordered<serde::de::IgnoredAny>>(yaml) {
        Ok(keys) => {
            for (k, _) in &keys.0 {
                if !KEYS.contains(&k.value.as_str()) {
                    diags.push(
                        Diagnostic::new(
                            codes::W0500,
                            at(&k.referenced, k.value.len()),
                            format!("unknown front matter key `{}`", k.value),
                        )
                        .label("ignored")
                        .help(format!("the keys are: {}", KEYS.join(", "))),
                    );
                }
            }
        }
        Err(e) => {
            let span =
                e.location().map(|l| at(&l, 1)).unwrap_or(Span::new(file, body_start, yaml_end));
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
            diags.push(bad(
                &format!("invalid front matter: {first}"),
                span,
                "the front matter is YAML: `key: value` lines",
            ));
            return (None, diags);
        }
    }
    let front: Front = match serde_saphyr::from_str(yaml) {
        Ok(f) => f,
        Err(e) => {
            let span =
                e.location().map(|l| at(&l, 1)).unwrap_or(Span::new(file, body_start, yaml_end));
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
            diags.push(bad(
                &format!("invalid front matter: {first}"),
                span,
                "`params` maps each parameter name to a Kiln type written as a string, e.g. `words: int`",
            ));
            return (None, diags);
        }
    };
    // The span of a scalar's text (a quoted scalar's span starts at its quote).
    let scalar = |v: &Spanned<String>| {
        let raw = v.referenced.span().byte_offset().unwrap_or(0) as usize + body_start;
        let quoted = matches!(text.as_bytes().get(raw), Some(b'"' | b'\''));
        let off = raw + usize::from(quoted);
        if text.get(off..off + v.value.len()) == Some(v.value.as_str()) {
            Span::new(file, off, off + v.value.len())
        } else {
            at(&v.referenced, v.value.len())
        }
    };
    let model = front.model.as_ref().map(|m| (m.value.clone(), scalar(m)));
    let mut params = Vec::new();
    let mut ok = true;
    for (name, ty) in front.params.map(|p| p.0).unwrap_or_default() {
        let raw_off = ty.referenced.span().byte_offset().unwrap_or(0) as usize + body_start;
        // A quoted scalar's span starts at its quote.
        let quoted = matches!(text.as_bytes().get(raw_off), Some(b'"' | b'\''));
        let mut off = raw_off + usize::from(quoted);
        if text.get(off..off + ty.value.len()) != Some(ty.value.as_str()) {
            // The parser's offset is off (a stray byte-order mark): find the text itself.
            off = text[body_start.min(yaml_end)..yaml_end]
                .find(ty.value.as_str())
                .map_or(body_start, |i| body_start + i);
        }
        let valid_name =
            name.value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            diags.push(bad(
                &format!("`{}` is not a valid parameter name", name.value),
                at(&name.referenced, name.value.len()),
                "parameter names are identifiers: letters, digits and `_`",
            ));
            ok = false;
            continue;
        }
        match syntax::parse_type(file, &ty.value, off) {
            Ok(t) => params.push((
                ast::Ident {
                    name: name.value.clone(),
                    span: at(&name.referenced, name.value.len()),
                },
                t,
            )),
            Err(d) => {
                diags.extend(d.into_iter().map(|d| on_chars(d, text)));
                ok = false;
            }
        }
    }
    let mut returns = None;
    if let Some(r) = &front.returns {
        match syntax::parse_type(file, &r.value, scalar(r).start as usize) {
            Ok(t) => returns = Some(t),
            Err(d) => {
                diags.extend(d.into_iter().map(|d| on_chars(d, text)));
                ok = false;
            }
        }
    }
    let mut settings = kiln_runtime::model::Settings::default();
    if let Some(t) = &front.temperature {
        if (0.0..=2.0).contains(&t.value) {
            settings.temperature = Some(t.value);
        } else {
            diags.push(bad(
                "`temperature` must be between 0.0 and 2.0",
                at(&t.referenced, 1),
                "0.0 gives the most repeatable answers",
            ));
            ok = false;
        }
    }
    if let Some(n) = &front.max_tokens {
        match u64::try_from(n.value) {
            Ok(v) if v >= 1 => settings.max_tokens = Some(v),
            _ => {
                diags.push(bad(
                    "`max_tokens` must be a positive integer",
                    at(&n.referenced, 1),
                    "write a whole number of at least 1",
                ));
                ok = false;
            }
        }
    }
    (ok.then(|| sig(params, model, returns, settings)), diags)
}

/// The end of the YAML and the start of the template: the next line holding only `---`.
fn closing_fence(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut pos = from;
    while pos <= text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |n| pos + n);
        if text[pos..end].trim_end() == "---" {
            return Some((pos, (end + 1).min(text.len())));
        }
        if end >= text.len() {
            return None;
        }
        pos = end + 1;
    }
    None
}

/// `d` with every span moved onto character boundaries of `text` (start down, end up).
fn on_chars(mut d: Diagnostic, text: &str) -> Diagnostic {
    let fix = |sp: &mut Span| {
        let mut a = (sp.start as usize).min(text.len());
        while !text.is_char_boundary(a) {
            a -= 1;
        }
        let mut b = (sp.end as usize).clamp(a, text.len());
        while !text.is_char_boundary(b) {
            b += 1;
        }
        *sp = Span::new(sp.file, a, b);
    };
    fix(&mut d.primary.span);
    d.secondary.iter_mut().for_each(|l| fix(&mut l.span));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer: a byte-order mark inside the front matter made a span end
    /// inside it.
    #[test]
    fn spans_stay_on_char_boundaries() {
        let texts = [
            "---\n\u{feff}0500: the front matter is not valid YAML (bad indentati\u{7f}n)\nparm:K\ras\0\0\0\0\0\0 str\n   words: 2nt\n  - oops\n---\n{{ text }}\n",
            "---\nparams:\n  \u{feff}x: \"in\u{e9}t\"\n---\n{{ x }}\n",
            "---\n\u{feff}params:\n  x: list of \u{e9}\n---\n{{ x }}\n",
        ];
        for text in texts {
            let (_, diags) = load(FileId(0), text);
            assert!(!diags.is_empty(), "{text:?} has problems");
            for d in &diags {
                for sp in
                    std::iter::once(&d.primary.span).chain(d.secondary.iter().map(|l| &l.span))
                {
                    assert!(sp.start <= sp.end && sp.end as usize <= text.len(), "{d:?}");
                    assert!(text.is_char_boundary(sp.start as usize), "{d:?}");
                    assert!(text.is_char_boundary(sp.end as usize), "{d:?}");
                }
            }
        }
    }
}
