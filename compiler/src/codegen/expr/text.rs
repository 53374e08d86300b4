//! Text builtins: `len upper lower trim contains starts_with ends_with replace split join
//! str parse_int parse_float substr truncate tokens reverse`, through the runtime's
//! `kiln_str_*` kernels (`runtime/src/text.rs`, `runtime/src/strfn.rs`). Kernels that
//! allocate return a status; a failed allocation or parse takes the usual failure path
//! (the interpreter re-evaluates the call and reports its error).

use super::super::layout::{load, strip};
use super::{Gen, Vals, args};
use crate::builtins::BuiltinId as B;
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;

impl<M: Module> Gen<'_, '_, '_, M> {
    /// Calls a kernel `f(.., out)` writing a value of type `ty` (a `KStr` or a `KList`)
    /// and returning a status (not 0 only when memory ran out).
    fn kernel_out(&mut self, f: &'static str, a: &[Value], ty: &Ty, e: &TExpr) -> Vals {
        let out = self.slot(16);
        let mut argv = a.to_vec();
        argv.push(out);
        let st = self.call(f, &argv)[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.oom_unless(ok, e);
        load(&mut self.b, ty, self.ptr, out, 0)
    }

    /// A kernel returning a 0/1 `u32` as a `bool`.
    fn kernel_bool(&mut self, f: &'static str, a: &[Value]) -> Vals {
        let r = self.call(f, a)[0];
        vec![self.b.ins().ireduce(types::I8, r)]
    }

    pub(super) fn text_builtin(&mut self, id: B, a: &[TExpr], e: &TExpr) -> Option<Vals> {
        let tys: Vec<&Ty> = a.iter().map(|x| &x.ty).collect();
        let str_list = Ty::list(Ty::Str);
        Some(match (id, tys.as_slice()) {
            (B::Len, [Ty::Str]) => {
                let v = self.expr(&a[0]);
                vec![self.call("kiln_str_chars", &v)[0]]
            }
            (B::Upper | B::Lower, [Ty::Str]) => {
                let v = self.expr(&a[0]);
                let out = self.slot(16);
                let arena = self.arena();
                let f = if id == B::Upper { "kiln_str_upper" } else { "kiln_str_lower" };
                self.call(f, &[arena, v[0], v[1], out]);
                load(&mut self.b, &Ty::Str, self.ptr, out, 0)
            }
            (B::Trim, [Ty::Str]) => {
                let v = self.expr(&a[0]);
                let out = self.slot(16);
                self.call("kiln_str_trim", &[v[0], v[1], out]);
                load(&mut self.b, &Ty::Str, self.ptr, out, 0)
            }
            (B::Substr, [Ty::Str, Ty::Int, Ty::Int]) | (B::Truncate, [Ty::Str, Ty::Int]) => {
                let v = self.expr(&a[0]);
                let (start, n) = if id == B::Substr {
                    let s = self.expr(&a[1])[0];
                    (s, self.expr(&a[2])[0])
                } else {
                    (self.b.ins().iconst(types::I64, 0), self.expr(&a[1])[0])
                };
                let out = self.slot(16);
                self.call("kiln_str_substr", &[v[0], v[1], start, n, out]);
                load(&mut self.b, &Ty::Str, self.ptr, out, 0)
            }
            (B::Contains | B::StartsWith | B::EndsWith, [Ty::Str, Ty::Str]) => {
                let (x, y) = (self.expr(&a[0]), self.expr(&a[1]));
                let f = match id {
                    B::Contains => "kiln_str_contains",
                    B::StartsWith => "kiln_str_starts_with",
                    _ => "kiln_str_ends_with",
                };
                self.kernel_bool(f, &[x[0], x[1], y[0], y[1]])
            }
            (B::Replace, [Ty::Str, Ty::Str, Ty::Str]) => {
                let (s, from, to) = (self.expr(&a[0]), self.expr(&a[1]), self.expr(&a[2]));
                let arena = self.arena();
                let argv = [arena, s[0], s[1], from[0], from[1], to[0], to[1]];
                self.kernel_out("kiln_str_replace", &argv, &Ty::Str, e)
            }
            (B::Reverse, [Ty::Str]) => {
                let s = self.expr(&a[0]);
                let arena = self.arena();
                self.kernel_out("kiln_str_reverse", &[arena, s[0], s[1]], &Ty::Str, e)
            }
            (B::Split, [Ty::Str, Ty::Str]) => {
                let (s, sep) = (self.expr(&a[0]), self.expr(&a[1]));
                let arena = self.arena();
                self.kernel_out("kiln_str_split", &[arena, s[0], s[1], sep[0], sep[1]], &e.ty, e)
            }
            (B::Join, [xs, Ty::Str]) if **xs == str_list => {
                let (xs, sep) = (self.expr(&a[0]), self.expr(&a[1]));
                let arena = self.arena();
                self.kernel_out(
                    "kiln_str_join",
                    &[arena, xs[0], xs[1], sep[0], sep[1]],
                    &Ty::Str,
                    e,
                )
            }
            (B::Tokens, [Ty::Str]) => {
                let s = self.expr(&a[0]);
                let arena = self.arena();
                self.kernel_out("kiln_str_tokens", &[arena, s[0], s[1]], &e.ty, e)
            }
            (B::ParseInt | B::ParseFloat, [Ty::Str]) => {
                let s = self.expr(&a[0]);
                let out = self.slot(8);
                let (f, t) = if id == B::ParseInt {
                    ("kiln_parse_int", types::I64)
                } else {
                    ("kiln_parse_float", types::F64)
                };
                let st = self.call(f, &[s[0], s[1], out])[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
                let kind =
                    if id == B::ParseInt { FailKind::ParseInt } else { FailKind::ParseFloat };
                self.fail_unless(ok, e, kind, &[s[0], s[1]]);
                vec![self.b.ins().load(t, MemFlagsData::trusted(), out, 0)]
            }
            (B::Str, [t]) => return self.str_of(&a[0], t, e),
            _ => return None,
        })
    }

    /// `str(x)`: strings, numbers and bools, and optionals of them (null is `null`) inline;
    /// other types through the runtime's `kiln_value_text`.
    pub(super) fn str_of(&mut self, x: &TExpr, t: &Ty, e: &TExpr) -> Option<Vals> {
        if !matches!(strip(t), Ty::Str | Ty::Int | Ty::Float | Ty::Bool) {
            return self.generic_text(x, e);
        }
        let v = self.expr(x);
        if !matches!(t, Ty::Optional(_)) {
            return Some(self.scalar_text(v, t, e));
        }
        let done = self.block_with(&[self.ptr, types::I64]);
        let some = self.b.create_block();
        let none = self.b.create_block();
        self.b.ins().brif(v[0], some, &[], none, &[]);
        self.switch(none);
        let null = self.str_const(b"null");
        self.b.ins().jump(done, &args(&null));
        self.switch(some);
        let s = self.scalar_text(v[1..].to_vec(), strip(t), e);
        self.b.ins().jump(done, &args(&s));
        self.switch(done);
        Some(self.b.block_params(done).to_vec())
    }

    fn scalar_text(&mut self, v: Vals, t: &Ty, e: &TExpr) -> Vals {
        match t {
            Ty::Int | Ty::Float => {
                let arena = self.arena();
                let f = if *t == Ty::Int { "kiln_fmt_int" } else { "kiln_fmt_float" };
                self.kernel_out(f, &[arena, v[0]], &Ty::Str, e)
            }
            Ty::Bool => {
                let yes = self.str_const(b"true");
                let no = self.str_const(b"false");
                let p = self.b.ins().select(v[0], yes[0], no[0]);
                let n = self.b.ins().select(v[0], yes[1], no[1]);
                vec![p, n]
            }
            _ => v,
        }
    }
}
