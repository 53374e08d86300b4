//! Every code's long explanation (what `kiln explain CODE` prints) has a `## Wrong`
//! example that really produces the code and a `## Fixed` example that checks without
//! errors and without the code. Codes reported only while a pipeline runs are exempt
//! from the Wrong half (they cannot appear in `kiln check`).

use kiln::diag::codes::{ALL, Code};

/// Codes only `kiln run` reports.
const RUNTIME_ONLY: &[&str] = &[
    "E0307", "E0600", "E0601", "E0602", "E0603", "E0604", "E0605", "E0606", "E0607", "E0608",
    "E0609", "E0610", "E0611", "E0612", "E0613", "E0614",
];
/// Codes whose examples need another file next to them (an untrained `.af`); the UI inputs
/// under tests/ui/ cover them with real files.
/// E0706 (no kiln.toml) needs a pipeline file on disk: in-memory text looks for none.
const NEEDS_FILES: &[&str] = &["E0412", "E0612", "E0706"];

/// The first fenced block after `heading`: (fence language, body).
fn example<'a>(text: &'a str, heading: &str) -> Option<(&'a str, &'a str)> {
    let after = &text[text.find(heading)? + heading.len()..];
    let open = after.find("```")?;
    let rest = &after[open + 3..];
    let lang_end = rest.find('\n')?;
    let body = &rest[lang_end + 1..];
    let close = body.find("\n```")?;
    Some((rest[..lang_end].trim(), &body[..close + 1]))
}

fn codes_of(lang: &str, body: &str) -> Vec<(String, bool)> {
    let name = match lang {
        "prompt" => "example.prompt",
        "yaml" | "af" => "example.af",
        "toml" => "kiln.toml",
        _ => "example.kiln",
    };
    kiln::driver::check_source(name, body)
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.is_error()))
        .collect()
}

fn check(code: Code) -> Result<(), String> {
    let text = code.explanation();
    if !text.starts_with(&format!("# {}: ", code.as_str())) {
        return Err("does not start with `# CODE: title`".into());
    }
    let (wl, wrong) = example(text, "## Wrong").ok_or("no `## Wrong` example")?;
    let (fl, fixed) = example(text, "## Fixed").ok_or("no `## Fixed` example")?;
    if NEEDS_FILES.contains(&code.as_str()) {
        return Ok(());
    }
    let got = codes_of(fl, fixed);
    if let Some((c, _)) = got.iter().find(|(c, e)| *e || c == code.as_str()) {
        return Err(format!("the Fixed example still reports {c}"));
    }
    if RUNTIME_ONLY.contains(&code.as_str()) {
        return Ok(());
    }
    let got = codes_of(wl, wrong);
    if !got.iter().any(|(c, _)| c == code.as_str()) {
        return Err(format!("the Wrong example does not report it (got {got:?})"));
    }
    Ok(())
}

#[test]
fn every_explanation_has_a_working_wrong_and_fixed_example() {
    let failures: Vec<String> = ALL
        .iter()
        .filter_map(|&c| check(c).err().map(|e| format!("{}: {e}", c.as_str())))
        .collect();
    assert!(failures.is_empty(), "explanations to fix:\n{}", failures.join("\n"));
}
