//! Operators on values of any laid-out type (lists, records, vectors, optionals): `==`,
//! `!=`, `<`, `<=`, `>`, `>=` and `str`. The operands are spilled to the stack in the
//! runtime's layout and handed, with the address of their type description, to the
//! runtime's generic kernels (`runtime/src/valfn.rs`), whose semantics are the
//! interpreter's.

use super::super::layout::{desc, store};
use super::{Gen, Vals};
use crate::check::hir::{TExpr, TExprKind, visit};
use crate::check::types::Ty;
use crate::syntax::ast::BinOp;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_module::Module;
use kiln_runtime::exec::fail::FailKind;

/// Whether every value inside `e` has a run-time layout (`null` itself aside): a record
/// with a field of type `null` (`{ a: 1, b: null }` before its conversion) has none.
/// (Lambdas are not values; their parameters and bodies are checked.)
/// (Lambdas are not values; their parameters and bodies are checked. A record literal
/// bound by `let` may lack a layout: its fields are read one by one, see `Gen::split`.)
pub(super) fn laid_out(e: &TExpr) -> bool {
    let mut ok = matches!(e.ty, Ty::Fn(..)) || desc(&e.ty).is_some();
    let mut split = Vec::new();
    visit(e, &mut |x| {
        if let TExprKind::Let(_, v, _) = &x.kind
            && matches!(v.kind, TExprKind::Record(_))
        {
            split.push(v.span);
        }
    });
    visit(e, &mut |x| {
        let skip = matches!(x.kind, TExprKind::Record(_)) && split.contains(&x.span)
            || matches!(x.kind, TExprKind::Local(_));
        ok &= skip || matches!(x.ty, Ty::Null | Ty::Never | Ty::Fn(..)) || desc(&x.ty).is_some();
    });
    ok
}

impl<M: Module> Gen<'_, '_, '_, M> {
    /// The address of `ty`'s type description (read from the kept table).
    pub(super) fn desc_const(&mut self, ty: &Ty) -> Option<Value> {
        let d = desc(ty)?;
        let slot = self.sh.kept_slot(kiln_runtime::program::Kept::Desc(d));
        Some(self.kept_ptr(slot))
    }

    /// `vals` (of type `ty`) stored in a fresh stack slot in the runtime's layout.
    pub(super) fn spill(&mut self, ty: &Ty, vals: &[Value]) -> Option<Value> {
        let d = desc(ty)?;
        let at = self.slot(d.size());
        let cfg = self.sh.cfg();
        store(&mut self.b, cfg, ty, vals, at, 0);
        Some(at)
    }

    /// The common type two operands are compared at: the same type, or `T?` when one
    /// side is `T` (wrapped then).
    fn operands(&mut self, a: &TExpr, bx: &TExpr) -> Option<(Ty, Vals, Vals)> {
        if !laid_out(a) || !laid_out(bx) {
            return None;
        }
        let t = match (&a.ty, &bx.ty) {
            (x, y) if x == y => x.clone(),
            (Ty::Optional(x), y) | (y, Ty::Optional(x)) if **x == *y => Ty::Optional(x.clone()),
            _ => return None,
        };
        let x = self.expr(a);
        let x = if a.ty == t { x } else { self.wrap_if_optional(x, &t) };
        let y = self.expr(bx);
        let y = if bx.ty == t { y } else { self.wrap_if_optional(y, &t) };
        Some((t, x, y))
    }

    /// A comparison of two values whose types the natively compiled operators do not
    /// cover; `None` when their types cannot be laid out or differ beyond `T` / `T?`.
    pub(super) fn generic_compare(&mut self, op: BinOp, a: &TExpr, bx: &TExpr) -> Option<Vals> {
        if !matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
            return None;
        }
        let (t, x, y) = self.operands(a, bx)?;
        let d = self.desc_const(&t)?;
        let pa = self.spill(&t, &x)?;
        let pb = self.spill(&t, &y)?;
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            let eq = self.call("kiln_value_eq", &[d, pa, pb])[0];
            let cc = if op == BinOp::Eq { IntCC::NotEqual } else { IntCC::Equal };
            return Some(vec![self.b.ins().icmp_imm_s(cc, eq, 0)]);
        }
        // 0 less, 1 equal, 2 greater, 3 unordered (false for every operator).
        let o = self.call("kiln_value_ord", &[d, pa, pb])[0];
        let r = match op {
            BinOp::Lt => self.b.ins().icmp_imm_s(IntCC::Equal, o, 0),
            BinOp::Gt => self.b.ins().icmp_imm_s(IntCC::Equal, o, 2),
            BinOp::Le => self.b.ins().icmp_imm_s(IntCC::UnsignedLessThanOrEqual, o, 1),
            _ => {
                let ge = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, o, 1);
                let ordered = self.b.ins().icmp_imm_s(IntCC::NotEqual, o, 3);
                self.b.ins().band(ge, ordered)
            }
        };
        Some(vec![r])
    }

    /// `str(x)` of a value of any laid-out type.
    pub(super) fn generic_text(&mut self, x: &TExpr, e: &TExpr) -> Option<Vals> {
        if !laid_out(x) {
            return None;
        }
        let d = self.desc_const(&x.ty)?;
        let v = self.expr(x);
        let p = self.spill(&x.ty, &v)?;
        let out = self.slot(16);
        let arena = self.arena();
        let st = self.call("kiln_value_text", &[d, p, arena, out])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        self.fail_unless(ok, e, FailKind::OutOfMemory, &[]);
        let f = MemFlagsData::trusted();
        let ptr = self.b.ins().load(self.ptr, f, out, 0);
        let len = self.b.ins().load(types::I64, f, out, 8);
        Some(vec![ptr, len])
    }
}
