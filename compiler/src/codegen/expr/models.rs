//! `complete(prompt, model: "name")` in compiled code: a call of the runtime's model
//! client (`kiln_model_complete`), which waits for the answer on the worker running the
//! row; a failed call is the row's failure (E0614), with the message the interpreter gives.

use super::Gen;
use crate::check::hir::TExpr;
use crate::check::types::Ty;
use crate::codegen::context::FailSite;
use crate::codegen::layout::{desc, load};
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
        let name = crate::builtins::complete::model_name(named).to_string();
        let name = self.str_const(name.as_bytes());
        let site = self.model_site(e);
        // A prompt file's front matter settings (NaN and 0: none).
        let set = crate::builtins::complete::settings(&self.sh.pipeline().prompts, Some(prompt));
        let temp = self.b.ins().f64const(set.temperature.unwrap_or(f64::NAN));
        let max = self.b.ins().iconst(types::I64, set.max_tokens.unwrap_or(0) as i64);
        let out = self.slot(16);
        let args = [self.ctx, site, temp, max, name[0], name[1], p[0], p[1], out];
        let st = self.call("kiln_model_complete", &args)[0];
        self.fail_on_status(st);
        load(&mut self.b, &Ty::Str, self.ptr, out, 0)
    }

    /// A typed prompt's answer (LANGUAGE.md §4.1) to its rendered `text`: decoded into a
    /// value of `ty` in the row's arena by `kiln_model_typed`.
    pub(super) fn typed_answer(
        &mut self,
        prompt: &str,
        settings: kiln_runtime::model::Settings,
        ty: &Ty,
        model: &str,
        text: super::Vals,
        e: &TExpr,
    ) -> super::Vals {
        let Some(d) = desc(ty) else { return self.unsupported(e) };
        let schema = crate::check::schema::schema(ty).to_string();
        let size = d.size();
        let typed = kiln_runtime::program::Kept::Typed {
            name: prompt.to_string(),
            schema,
            settings,
            ty: d,
            shown: ty.to_string(),
        };
        let slot = self.sh.kept_slot(typed);
        let name = self.str_const(model.as_bytes());
        let site = self.model_site(e);
        let id = self.kept_ptr(slot);
        let out = self.alloc(size, 16);
        let st = self.call(
            "kiln_model_typed",
            &[self.ctx, site, id, name[0], name[1], text[0], text[1], out],
        )[0];
        self.fail_on_status(st);
        load(&mut self.b, ty, self.ptr, out, 0)
    }

    /// The failure site of a model call at `e` (E0614; the runtime writes the message).
    fn model_site(&mut self, e: &TExpr) -> cranelift_codegen::ir::Value {
        let site = self.sh.cx.site(FailSite {
            code: crate::diag::codes::E0614,
            span: e.span,
            message: String::new(),
            located: true,
        });
        self.b.ins().iconst(types::I32, i64::from(site))
    }

    /// Goes on when a model kernel's status `st` is 0; otherwise the row fails (the kernel
    /// recorded the failure).
    fn fail_on_status(&mut self, st: cranelift_codegen::ir::Value) {
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, 0);
        let good = self.b.create_block();
        let bad = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(ok, good, &[], bad, &[]);
        self.switch(bad);
        self.b.ins().jump(self.fail, &[]);
        self.switch(good);
    }
}
