//! Completion of record fields after `.`: the text before the dot is typed by the checker
//! against the session, as `:type` would type it. A name bound by a lambda (`r =>`) is
//! typed as the element of the stream or list piped into the call that holds the lambda
//! (`reviews |> filter(r => r.` completes `Review`'s fields).

use super::session::Session;
use crate::check::types::Ty;

/// The fields (name, type) of the value `before` ends with.
pub fn fields(s: &Session, before: &str) -> Vec<(String, String)> {
    let chain_start =
        before.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
    let chain = &before[chain_start..];
    let mut parts = chain.split('.');
    let Some(root) = parts.next().filter(|r| !r.is_empty()) else { return Vec::new() };
    let rest: Vec<&str> = parts.collect();
    let ty = match lambda_input(before, root) {
        Some(input) => type_of(s, input).and_then(|t| match t {
            Ty::Stream(e) | Ty::List(e) => Some((*e).clone()),
            _ => None,
        }),
        None => type_of(s, root),
    };
    let Some(mut ty) = ty else { return Vec::new() };
    for f in rest {
        match field_types(&ty).into_iter().find(|(n, _)| n == f) {
            Some((_, t)) => ty = t,
            None => return Vec::new(),
        }
    }
    field_types(&ty).into_iter().map(|(n, t)| (n, t.to_string())).collect()
}

fn field_types(ty: &Ty) -> Vec<(String, Ty)> {
    match ty {
        Ty::Optional(t) => field_types(t),
        Ty::Record(fs) => fs.iter().map(|f| (f.name.to_string(), f.ty.clone())).collect(),
        _ => Vec::new(),
    }
}

/// When `root` is bound by the last `root =>` of `before`: the text piped into the call
/// holding that lambda (from the start of the expression to the last `|>` before it).
fn lambda_input<'a>(before: &'a str, root: &str) -> Option<&'a str> {
    let at = before
        .rmatch_indices(&format!("{root} =>"))
        .map(|(i, _)| i)
        .find(|&i| i == 0 || !before[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))?;
    let pipe = before[..at].rfind("|>")?;
    let text = &before[..pipe];
    // The expression starts after a declaration's `=` or a command's name.
    let start = if text.trim_start().starts_with(':') {
        text.find(char::is_whitespace).unwrap_or(text.len())
    } else if super::input::classify(text) == super::input::Input::Decls {
        text.find('=').map_or(0, |i| i + 1)
    } else {
        0
    };
    Some(text[start..].trim())
}

/// The type of expression `text` in the session, or `None` when it does not check.
fn type_of(s: &Session, text: &str) -> Option<Ty> {
    let mut tmp = Session::new(false);
    tmp.origins = s.origins.clone();
    tmp.decls = s.decls.clone();
    tmp.dir = s.dir.clone();
    let o = tmp.add_origin("<completion>".into(), text.to_string(), None);
    let checked = super::eval::check_expr(&tmp, o, 0, text.len())?;
    if let Ok(c) = &checked.outcome {
        return super::eval::typed(c).map(|e| e.ty.clone());
    }
    // A stream: checked as `:run` checks it.
    let checked = super::eval::check_stream(&tmp, o, 0, text.len())?;
    let c = checked.outcome.as_ref().ok()?;
    super::eval::stream_type(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(text: &str) -> Session {
        let mut s = Session::new(false);
        let o = s.add_origin("<test>".into(), text.into(), None);
        let ds = super::super::input::declarations(text).iter().map(|d| s.decl(o, d)).collect();
        assert!(super::super::define::define(&mut s, ds, true));
        s
    }

    fn names(fs: Vec<(String, String)>) -> Vec<String> {
        fs.into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn completes_fields_of_names_and_of_lambda_parameters() {
        let s = session(
            "type R = { id: int, who: { name: str, age: int? } }\n\
             const ORIGIN = { x: 1, y: 2 }\n\
             source rs: R = jsonl(\"r.jsonl\")\n",
        );
        assert_eq!(names(fields(&s, "ORIGIN")), ["x", "y"]);
        assert_eq!(names(fields(&s, "1 + ORIGIN")), ["x", "y"]);
        assert_eq!(names(fields(&s, "rs |> filter(r => r")), ["id", "who"]);
        assert_eq!(names(fields(&s, "stage s = rs |> map(r => r.who")), ["name", "age"]);
        assert_eq!(names(fields(&s, "[ORIGIN] |> map(p => p")), ["x", "y"]);
        assert!(fields(&s, "nothing").is_empty());
        assert!(fields(&s, "rs |> map(r => r.id").is_empty());
    }
}
