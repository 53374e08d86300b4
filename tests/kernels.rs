//! Every runtime function generated code imports (`codegen::module::IMPORTS`) is declared
//! with the signature the runtime defines it with: the parameter and return types of its
//! `extern "C" fn` in `runtime/src`, read from the source, map to the import's letters
//! (`P` pointer, `L` 64-bit integer, `W` 32-bit integer, `B` byte, `F` f64, `S` f32). A
//! mismatch would make generated code pass arguments the kernel reads as something else.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// The letter of a Rust parameter or return type.
fn letter(ty: &str) -> Option<char> {
    let ty = ty.trim();
    Some(match ty {
        t if t.starts_with('*') || t.starts_with("Option<") || t.contains("fn(") => 'P',
        "i64" | "u64" | "usize" | "isize" => 'L',
        "i32" | "u32" => 'W',
        "u8" | "i8" | "bool" => 'B',
        "f64" => 'F',
        "f32" => 'S',
        _ => return None,
    })
}

/// Splits at commas outside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The letter signatures of every `extern "C" fn NAME` definition in `text`, and of every
/// `pub fn NAME` of an `extern "C"` block (kernels the freestanding objects define).
fn definitions(text: &str, name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let defined = format!("extern \"C\" fn {name}(");
    let declared = format!("    pub fn {name}(");
    let found = text
        .match_indices(&defined)
        .map(|(at, _)| (at, defined.len()))
        .chain(text.match_indices(&declared).map(|(at, _)| (at, declared.len())));
    for (at, len) in found.collect::<Vec<_>>() {
        let needle_len = len;
        let rest = &text[at + needle_len..];
        // The parameter list ends at the parenthesis that closes the one opened above.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let params: String = split_top(&rest[..end])
            .iter()
            .map(|p| {
                let ty = p.split_once(':').map_or(*p, |(_, t)| t);
                letter(ty).unwrap_or_else(|| panic!("`{name}`: a parameter of type `{ty}`"))
            })
            .collect();
        let after = &rest[end + 1..];
        let body = after.find(['{', ';']).unwrap_or(after.len());
        let ret = match after[..body].trim().strip_prefix("->") {
            Some(t) => {
                letter(t).map(String::from).unwrap_or_else(|| panic!("`{name}` returns `{t}`"))
            }
            None => String::new(),
        };
        out.push((params, ret));
    }
    out
}

#[test]
fn every_import_matches_the_runtime_definition() {
    let mut texts = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src"), &mut texts);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for &(name, params, rets) in kiln::codegen::module::imports() {
        let defs: Vec<(String, String)> = texts.iter().flat_map(|t| definitions(t, name)).collect();
        if defs.is_empty() {
            wrong.push(format!("the runtime defines no `extern \"C\" fn {name}`"));
        }
        for (p, r) in defs {
            if (p.as_str(), r.as_str()) != (params, rets) {
                wrong.push(format!(
                    "`{name}`: the import says ({params}) -> {rets:?}, the runtime ({p}) -> {r:?}"
                ));
            }
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked > 50, "only {checked} imports");
}
