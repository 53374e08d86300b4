//! `:ir NAME`: Kiln's IR of a definition (as `kiln view` prints it) and the Cranelift IR
//! code generation makes of it.

use super::eval;
use super::session::Session;
use crate::codegen::eval::Clif;

fn print_clif(clif: &Clif) {
    println!("-- Cranelift IR");
    for (name, text) in clif {
        println!("; {name}");
        print!("{text}");
    }
}

/// A user fn: its line of the IR text, and its compiled function (with the fns it calls).
pub fn fn_ir(s: &Session, name: &str) -> bool {
    let Some(checked) = s.check(s.build(&s.decls, |_| {})).ok() else { return false };
    let Ok(c) = &checked.outcome else { return false };
    let p = &c.reference;
    let Some(i) = p.fns.iter().position(|f| &*f.name == name) else {
        super::error(format!("`{name}` is not in the program"));
        return false;
    };
    println!("-- Kiln IR");
    let text = crate::ir::print::text(p);
    let head = format!("fn {name}(");
    text.lines().filter(|l| l.starts_with(&head)).for_each(|l| println!("{l}"));
    let agents = match crate::driver::agents::prepare(p, &c.check.map) {
        Ok(a) => a,
        Err(d) => {
            s.render(&checked, &[*d]);
            return false;
        }
    };
    match crate::codegen::eval::fn_clif(p, agents, i) {
        Ok(Some(clif)) => {
            print_clif(&clif);
            true
        }
        Ok(None) => {
            super::error(format!("the JIT cannot compile `{name}` yet"));
            false
        }
        Err(e) => {
            super::error(e);
            false
        }
    }
}

/// A const or param: its value's IR, and the function that computes it.
pub fn value_ir(s: &Session, name: &str) -> bool {
    let origin_text = name.to_string();
    let mut tmp = Session::new(s.color);
    tmp.origins = s.origins.clone();
    tmp.decls = s.decls.clone();
    tmp.dir = s.dir.clone();
    let o = tmp.add_origin("<ir>".into(), origin_text, None);
    let Some(checked) = eval::check_expr(&tmp, o, 0, name.len()) else { return false };
    let Ok(c) = &checked.outcome else {
        tmp.render(&checked, &checked.run().diagnostics);
        return false;
    };
    println!("-- Kiln IR");
    let pr = crate::ir::print::Printer { p: &c.reference };
    if let Some(k) = c.reference.consts.iter().find(|k| &*k.name == name) {
        println!("const {name}: {} = {}", k.ty, pr.expr(&k.value));
    }
    if let Some(k) = c.reference.params.iter().find(|k| &*k.name == name) {
        let d = k.default.as_ref().map(|e| format!(" = {}", pr.expr(e))).unwrap_or_default();
        println!("param {name}: {}{d}", k.ty);
    }
    let Some(e) = eval::typed(c) else { return false };
    let mut clif = Clif::new();
    let ok = eval::value(&tmp, &checked, c, e, Some(&mut clif)).is_some();
    print_clif(&clif);
    ok
}

/// A source or stage: the graph that computes it (the session's pipeline with one
/// `discard()` sink on it, after the optimizer), and the functions of its plan.
pub fn stage_ir(s: &Session, name: &str) -> bool {
    let mut tmp = Session::new(s.color);
    tmp.origins = s.origins.clone();
    tmp.decls = s.decls.iter().filter(|d| d.keyword != "sink").cloned().collect();
    tmp.dir = s.dir.clone();
    let sink = format!("sink {name} -> discard()");
    let o = tmp.add_origin("<ir>".into(), sink.clone(), None);
    let t = tmp.decls.len();
    let built = tmp.build(&tmp.decls, |b| b.push(&tmp, o, 0, sink.len(), t));
    let Some(checked) = tmp.check(built).ok() else { return false };
    let Ok(c) = &checked.outcome else {
        tmp.render(&checked, &checked.run().diagnostics);
        return false;
    };
    println!("-- Kiln IR");
    print!("{}", crate::ir::print::text(&c.optimized));
    let agents = match crate::driver::agents::prepare(&c.optimized, &c.check.map) {
        Ok(a) => a,
        Err(d) => {
            tmp.render(&checked, &[*d]);
            return false;
        }
    };
    match crate::codegen::eval::pipeline_clif(&c.optimized, &c.check.map, agents) {
        Ok(clif) => {
            print_clif(&clif);
            true
        }
        Err(d) => {
            tmp.render(&checked, &[*d]);
            false
        }
    }
}
