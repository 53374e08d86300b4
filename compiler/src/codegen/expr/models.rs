//! `complete(prompt, model: "name")` in compiled code: a call of the runtime's model
//! client (`kiln_model_complete`), which waits for the answer on the worker running the
//! row; a failed call is the row's failure (E0614), with the message the interpreter gives.

use super::Gen;
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::codegen::context::FailSite;
use crate::codegen::layout::load;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, types};
use cranelift_module::Module;
use std::rc::Rc;

impl<M: Module> Gen<'_, '_, '_, M> {
    pub(super) fn complete(
        &mut self,
        args: &[TExpr],
        named: &[(Rc<str>, TExpr)],
        e: &TExpr,
    ) -> super::Vals {
        let Some(prompt) = args.first() else { return self.unsupported(e) };
        let p = self.expr(prompt);
        let name = crate::interp::models::model_name(named).to_string();
        let name = self.str_const(name.as_bytes());
        let site = self.sh.cx.site(FailSite {
            code: crate::diag::codes::E0614,
            span: e.span,
            message: String::new(),
            located: true,
        });
        let site = self.b.ins().iconst(types::I32, i64::from(site));
        let out = self.slot(16);
        let st = self
            .call("kiln_model_complete", &[self.ctx, site, name[0], name[1], p[0], p[1], out])[0];
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        let good = self.b.create_block();
        let bad = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(ok, good, &[], bad, &[]);
        self.switch(bad);
        self.b.ins().jump(self.fail, &[]);
        self.switch(good);
        load(&mut self.b, &Ty::Str, self.ptr, out, 0)
    }
}
