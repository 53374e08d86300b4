//! Prompt templates (LANGUAGE.md §3) compiled natively. Each prompt a pipeline calls
//! becomes its own function, as user fns do ([`super::calls`]):
//!
//! ```text
//! prompt<i>_<name>(ctx, depth, <param shapes>, out) -> status
//! ```
//!
//! whose body renders the checked template (whitespace rules already applied by the
//! parser) into a growing text in the chunk arena (`kiln_text_push`): text pieces as they
//! are, inserted values as `str(x)` gives them, branches and loops inline. The interpreter
//! (`interp/render.rs`) is the reference for the result.

use super::super::layout::desc;
use super::super::module::Shared;
use super::calls::{define_function, signature};
use super::generic::laid_out;
use super::{Gen, Vals};
use crate::check::hir::{LocalId, Piece, TExpr, visit_pieces};
use crate::check::types::{Field, Ty};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_module::{FuncId, Linkage, Module};
use kiln_runtime::exec::fail::FailKind;

/// The type of a template loop's `loop`.
fn loop_ty() -> Ty {
    Ty::Record(
        [("index", Ty::Int), ("first", Ty::Bool), ("last", Ty::Bool)]
            .into_iter()
            .map(|(n, t)| Field { name: n.into(), ty: t })
            .collect(),
    )
}

/// Whether every value the template inserts, tests or loops over has a layout.
fn compilable(pieces: &[Piece]) -> bool {
    let mut ok = true;
    visit_pieces(pieces, &mut |x| ok &= laid_out(x));
    ok
}

/// The compiled function of prompt `i`, declared (and queued for definition) on first
/// use; `None` when it cannot be compiled.
fn prompt_fn<M: Module>(sh: &mut Shared<'_, '_, M>, i: usize) -> Option<FuncId> {
    if let Some(id) = sh.prompts.get(&i) {
        return *id;
    }
    let p = sh.pipeline();
    let def = p.prompts.get(i)?;
    let ok = def.params.iter().all(|(_, t)| desc(t).is_some())
        && def.locals.len() == def.params.len()
        && compilable(&def.body);
    let id = if ok {
        let params: Vec<Ty> = def.params.iter().map(|(_, t)| t.clone()).collect();
        let sig = signature(sh, &params);
        sh.m.declare_function(&format!("prompt{i}_{}", def.name), Linkage::Local, &sig).ok()
    } else {
        None
    };
    sh.prompts.insert(i, id);
    if id.is_some() {
        sh.pending_prompts.push(i);
    }
    id
}

/// Defines the rendering function of prompt `i`.
pub(super) fn define_prompt<M: Module>(sh: &mut Shared<'_, '_, M>, i: usize) -> Result<(), String> {
    let p = sh.pipeline();
    let Some(def) = p.prompts.get(i).cloned() else { return Err("no such prompt".into()) };
    let Some(Some(id)) = sh.prompts.get(&i).copied() else {
        return Err("prompt not declared".into());
    };
    let params: Vec<(LocalId, Ty)> =
        def.locals.iter().copied().zip(def.params.iter().map(|(_, t)| t.clone())).collect();
    define_function(sh, id, &params, |g| {
        // A `KBuf` { ptr, len, cap }, empty.
        let buf = g.slot(24);
        let zero = g.b.ins().iconst(types::I64, 0);
        for off in [0, 8, 16] {
            g.b.ins().store(MemFlagsData::trusted(), zero, buf, off);
        }
        g.render(&def.body, buf, def.span);
        let f = MemFlagsData::trusted();
        let ptr = g.b.ins().load(g.ptr, f, buf, 0);
        let len = g.b.ins().load(types::I64, f, buf, 8);
        vec![ptr, len]
    })
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// `name(args)` of prompt `i` (a prompt without a result type: its rendered text).
    pub(super) fn call_prompt(&mut self, i: usize, a: &[TExpr], e: &TExpr) -> Vals {
        let p = self.sh.pipeline();
        let Some(def) = p.prompts.get(i) else { return self.unsupported(e) };
        let typed = def.typed.clone();
        let fits = e.ty == typed.as_ref().map_or(Ty::Str, |t| t.0.clone())
            && a.len() == def.params.len()
            && a.iter().zip(&def.params).all(|(x, (_, t))| x.ty == *t || x.ty == Ty::Never);
        if !fits {
            return self.unsupported(e);
        }
        let Some(id) = prompt_fn(self.sh, i) else { return self.unsupported(e) };
        let params: Vec<Ty> = def.params.iter().map(|(_, t)| t.clone()).collect();
        let text = self.call_compiled(id, &params, &Ty::Str, a, e);
        match typed {
            None => text,
            // A typed prompt: the rendered text goes to its model (see `models`).
            Some((ty, model)) => self.typed_answer(&def.name, def.settings, &ty, &model, text, e),
        }
    }

    /// Appends the string `s` (pointer, length) to the text at `buf`.
    fn push_text(&mut self, buf: Value, s: &[Value], at: crate::source::Span) {
        let arena = self.arena();
        let st = self.call("kiln_text_push", &[arena, buf, s[0], s[1]])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.fail_unless_at(ok, at, FailKind::OutOfMemory, &[]);
    }

    /// Renders a run of text pieces and inserts onto the text at `buf`: the inserted
    /// values first, then every piece appended by one call (`kiln_text_push_all`, which
    /// makes room for all of them at once: the exact size when the run is the whole
    /// template).
    fn render_run(&mut self, run: &[Piece], buf: Value, at: crate::source::Span) {
        let mut parts = Vec::with_capacity(run.len());
        for piece in run {
            match piece {
                Piece::Text(t) => parts.push((self.str_const(t.as_bytes()), at)),
                // An `int` is written straight into the text by the runtime (see
                // `kiln_runtime::strfn::INT_PIECE`), not formatted into a string first.
                Piece::Insert(x) if x.ty == Ty::Int && run.len() > 1 => {
                    let v = self.expr(x)[0];
                    let tag = self.b.ins().iconst(self.ptr, kiln_runtime::strfn::INT_PIECE as i64);
                    parts.push((vec![tag, v], x.span));
                }
                Piece::Insert(x) => {
                    let s = match self.str_of(x, &x.ty, x) {
                        Some(s) => s,
                        None => self.unsupported(x),
                    };
                    parts.push((s, x.span));
                }
                _ => {}
            }
        }
        if let [(s, span)] = parts.as_slice() {
            let (s, span) = (s.clone(), *span);
            self.push_text(buf, &s, span);
            return;
        }
        // The pieces as `KStr`s { ptr, len } in a stack slot.
        let list = self.slot(16 * parts.len());
        let f = MemFlagsData::trusted();
        for (k, (s, _)) in parts.iter().enumerate() {
            self.b.ins().store(f, s[0], list, (16 * k) as i32);
            self.b.ins().store(f, s[1], list, (16 * k + 8) as i32);
        }
        let arena = self.arena();
        let n = self.b.ins().iconst(types::I64, parts.len() as i64);
        let st = self.call("kiln_text_push_all", &[arena, buf, list, n])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.fail_unless_at(ok, at, FailKind::OutOfMemory, &[]);
    }

    /// Renders `pieces` onto the text at `buf` (`at`: the template, for failures of the
    /// text itself).
    fn render(&mut self, pieces: &[Piece], buf: Value, at: crate::source::Span) {
        let flat = |p: &Piece| matches!(p, Piece::Text(_) | Piece::Insert(_));
        let mut i = 0;
        while i < pieces.len() {
            let n = pieces[i..].iter().take_while(|p| flat(p)).count();
            if n > 0 {
                self.render_run(&pieces[i..i + n], buf, at);
                i += n;
                continue;
            }
            let piece = &pieces[i];
            i += 1;
            match piece {
                Piece::Text(_) | Piece::Insert(_) => {}
                Piece::If(branches, otherwise) => {
                    let done = self.b.create_block();
                    for (c, body) in branches {
                        let cv = self.expr(c)[0];
                        let then = self.b.create_block();
                        let next = self.b.create_block();
                        self.b.ins().brif(cv, then, &[], next, &[]);
                        self.switch(then);
                        self.render(body, buf, at);
                        self.b.ins().jump(done, &[]);
                        self.switch(next);
                    }
                    self.render(otherwise, buf, at);
                    self.b.ins().jump(done, &[]);
                    self.switch(done);
                }
                Piece::For { item, info, list, body } => {
                    let Ty::List(elem) = &list.ty else {
                        self.unsupported(list);
                        continue;
                    };
                    let elem = (**elem).clone();
                    let l = self.expr(list);
                    let from = self.b.ins().iconst(types::I64, 0);
                    let lt = loop_ty();
                    let Some(d) = desc(&lt) else { continue };
                    let offs = d.field_offsets();
                    let (item, info) = (*item, *info);
                    self.each(&l, &elem, from, Vec::new(), |g, x, i, _| {
                        // `loop`: { index, first, last } in the arena.
                        let rec = g.alloc(d.size(), d.align());
                        let ok = g.b.ins().icmp_imm_s(IntCC::NotEqual, rec, 0);
                        g.fail_unless_at(ok, at, FailKind::OutOfMemory, &[]);
                        let f = MemFlagsData::trusted();
                        g.b.ins().store(f, i, rec, offs[0] as i32);
                        let first = g.b.ins().icmp_imm_s(IntCC::Equal, i, 0);
                        g.b.ins().store(f, first, rec, offs[1] as i32);
                        let next = g.b.ins().iadd_imm_s(i, 1);
                        let last = g.b.ins().icmp(IntCC::Equal, next, l[1]);
                        g.b.ins().store(f, last, rec, offs[2] as i32);
                        let old_item = g.locals.insert(item, (elem.clone(), x));
                        let old_info = g.locals.insert(info, (lt.clone(), vec![rec]));
                        g.render(body, buf, at);
                        for (id, old) in [(info, old_info), (item, old_item)] {
                            match old {
                                Some(o) => g.locals.insert(id, o),
                                None => g.locals.remove(&id),
                            };
                        }
                        Vec::new()
                    });
                }
            }
        }
    }
}
