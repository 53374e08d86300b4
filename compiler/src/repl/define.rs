//! Declarations typed at the REPL (or loaded): each replaces the declaration of the same
//! name; the whole program is checked again. A mistake in the new declarations rejects
//! them (the session is unchanged). When they check but an older declaration that used
//! what they replaced no longer does, the older one is set aside (reported, left out of
//! the program) and restored as soon as it checks again.

use super::session::{Checked, Decl, Session};
use crate::check::hir::Program;
use crate::diag::Diagnostic;

/// Adds `new` to the session. Returns whether they were accepted.
pub fn define(s: &mut Session, new: Vec<Decl>, quiet: bool) -> bool {
    let keys: Vec<String> = new.iter().map(|d| d.key(s)).collect();
    let replaced: Vec<bool> =
        keys.iter().map(|k| s.decls.iter().chain(&s.aside).any(|d| d.key(s) == *k)).collect();
    let mut kept: Vec<Decl> =
        s.decls.iter().filter(|d| !keys.contains(&d.key(s))).cloned().collect();
    // Older declarations that broke, and the check (with their errors) that found them.
    let mut broke: Vec<Decl> = Vec::new();
    let mut found: Vec<(Checked, Vec<Diagnostic>)> = Vec::new();
    loop {
        let mut all = kept.clone();
        let first_new = all.len();
        all.extend(new.iter().cloned());
        let Ok(checked) = s.check(s.build(&all, |_| {})) else { return false };
        let errors: Vec<Diagnostic> =
            checked.run().diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        if errors.is_empty() {
            // The first round's errors say why; later rounds only find what used a
            // declaration set aside in an earlier one.
            if let Some((c, ds)) = found.first() {
                s.render(c, ds);
            }
            for d in &broke {
                println!(
                    "note: {} no longer checks; it is set aside until it does (redefine it or what it uses)",
                    d.describe(s)
                );
            }
            s.aside.append(&mut broke);
            accept(s, all, first_new, &new, if quiet { &[] } else { &replaced }, &checked);
            return true;
        }
        let owners: Vec<Option<usize>> = errors.iter().map(|d| s.owner(&checked, d)).collect();
        let theirs = |o: &Option<usize>| o.is_none_or(|i| i >= first_new);
        if owners.iter().any(theirs) {
            // The new declarations are wrong: show their errors; the session is unchanged.
            let mine: Vec<Diagnostic> = errors
                .iter()
                .zip(&owners)
                .filter(|(_, o)| theirs(o))
                .map(|(d, _)| d.clone())
                .collect();
            s.render(&checked, &mine);
            return false;
        }
        // Older declarations broke: set them aside and check again without them (each
        // round removes at least one, so this ends).
        let mut broken: Vec<usize> = owners.into_iter().flatten().collect();
        broken.sort_unstable();
        broken.dedup();
        for &b in broken.iter().rev() {
            broke.push(kept.remove(b));
        }
        found.push((checked, errors));
    }
}

/// Makes `decls` the session's program and says what the new ones define; then tries to
/// restore declarations set aside earlier.
fn accept(
    s: &mut Session,
    decls: Vec<Decl>,
    first_new: usize,
    new: &[Decl],
    replaced: &[bool],
    checked: &Checked,
) {
    let keys: Vec<String> = new.iter().map(|d| d.key(s)).collect();
    let aside = std::mem::take(&mut s.aside);
    s.aside = aside.into_iter().filter(|d| !keys.contains(&d.key(s))).collect();
    s.decls = decls;
    // Warnings about the new declarations.
    let mine: Vec<Diagnostic> = checked
        .run()
        .diagnostics
        .iter()
        .filter(|d| s.owner(checked, d).is_some_and(|i| i >= first_new))
        .cloned()
        .collect();
    if let Ok(c) = &checked.outcome {
        s.names = s
            .decls
            .iter()
            .filter(|d| d.name.is_some() && d.keyword != "use")
            .map(|d| {
                let w = what(s, &c.program, d);
                let name = d.name.clone().unwrap_or_default();
                let ty = w.split_once(" : ").map_or(d.keyword.to_string(), |(_, t)| t.to_string());
                (name, ty)
            })
            .collect();
        for (d, again) in new.iter().zip(replaced) {
            let verb = if *again { "redefined" } else { "defined" };
            match d.keyword {
                "use" => println!("{verb} {}", used(s, c, d)),
                _ => println!("{verb} {}", what(s, &c.program, d)),
            }
        }
    }
    if !mine.is_empty() {
        s.render(checked, &mine);
    }
    restore(s);
}

/// Puts back every set-aside declaration that checks again.
pub fn restore(s: &mut Session) {
    let mut i = 0;
    while i < s.aside.len() {
        let mut with = s.decls.clone();
        with.push(s.aside[i].clone());
        let Ok(c) = s.check(s.build(&with, |_| {})) else { return };
        if c.outcome.is_ok() {
            let d = s.aside.remove(i);
            println!("note: {} checks again and is back", d.describe(s));
            s.decls = with;
            i = 0;
        } else {
            i += 1;
        }
    }
}

/// `use "P": a, b, C`: what the module brings into scope (its fns, consts and params).
fn used(s: &Session, c: &crate::compile::Compiled, d: &Decl) -> String {
    let path = d.name.clone().unwrap_or_default();
    let shown = if path.starts_with("std/") {
        format!("<{path}>")
    } else {
        crate::driver::normalize(&s.dir.join(&path))
    };
    let map = &c.check.map;
    let Some(file) = map.find(&shown) else { return format!("use \"{path}\"") };
    let p = &c.program;
    let mut names: Vec<&str> = Vec::new();
    names.extend(p.fns.iter().filter(|f| f.span.file == file).map(|f| &*f.name));
    names.extend(p.consts.iter().filter(|f| f.span.file == file).map(|f| &*f.name));
    names.extend(p.params.iter().filter(|f| f.span.file == file).map(|f| &*f.name));
    if names.is_empty() {
        return format!("use \"{path}\"");
    }
    format!("use \"{path}\": {}", names.join(", "))
}

/// What declaration `d` defines, with its type: `sq : (int) -> int`.
pub fn what(s: &Session, p: &Program, d: &Decl) -> String {
    let Some(name) = d.name.as_deref() else { return s.text(d).to_string() };
    let list = |ts: Vec<String>| ts.join(", ");
    let ty = match d.keyword {
        "fn" => p.fns.iter().find(|f| &*f.name == name).map(|f| {
            format!(
                "({}) -> {}",
                list(f.params.iter().map(|(_, _, t)| t.to_string()).collect()),
                f.ret
            )
        }),
        "const" => p.consts.iter().find(|c| &*c.name == name).map(|c| c.ty.to_string()),
        "param" => p.params.iter().find(|c| &*c.name == name).map(|c| c.ty.to_string()),
        "source" => {
            p.sources.iter().find(|c| &*c.name == name).map(|c| format!("stream<{}>", c.elem))
        }
        "stage" => p.stages.iter().find(|c| &*c.name == name).map(|c| c.expr.ty.to_string()),
        "agent" => p
            .agents
            .iter()
            .find(|a| &*a.name == name)
            .map(|a| format!("(vec[{}]) -> vec[{}]", a.input, a.output)),
        "prompt" => p.prompts.iter().find(|a| &*a.name == name).map(|a| {
            format!("({}) -> str", list(a.params.iter().map(|(_, t)| t.to_string()).collect()))
        }),
        "use" => return format!("use \"{name}\""),
        kw => return format!("{kw} {name}"),
    };
    match ty {
        Some(t) => format!("{name} : {t}"),
        None => format!("{} {name}", d.keyword),
    }
}
