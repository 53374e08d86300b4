//! Builtin calls (LANGUAGE.md §1.7) compiled natively; the rest are bridged.

use super::super::layout::load;
use super::{Gen, Vals};
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_module::Module;

impl<M: Module> Gen<'_, '_, '_, M> {
    pub(super) fn builtin(&mut self, name: &str, a: &[TExpr], e: &TExpr) -> Vals {
        match (name, a) {
            ("len", [s]) if s.ty == Ty::Str => {
                let v = self.expr(s);
                vec![self.call("kiln_str_chars", &v)[0]]
            }
            ("len", [xs]) if matches!(xs.ty, Ty::List(_)) => vec![self.expr(xs)[1]],
            ("upper" | "lower", [s]) if s.ty == Ty::Str => {
                let v = self.expr(s);
                let out = self.slot(16);
                let arena = self.arena();
                let f = if name == "upper" { "kiln_str_upper" } else { "kiln_str_lower" };
                self.call(f, &[arena, v[0], v[1], out]);
                load(&mut self.b, &Ty::Str, self.ptr, out, 0)
            }
            ("abs", [x]) if x.ty == Ty::Float => {
                let v = self.expr(x)[0];
                vec![self.b.ins().fabs(v)]
            }
            ("abs", [x]) if x.ty == Ty::Int => {
                let v = self.expr(x)[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, i64::MIN);
                self.check(ok, e);
                vec![self.b.ins().iabs(v)]
            }
            ("sqrt", [x]) if x.ty == Ty::Float => {
                let v = self.expr(x)[0];
                vec![self.b.ins().sqrt(v)]
            }
            _ => self.bridge(e),
        }
    }
}
