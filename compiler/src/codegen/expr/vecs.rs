//! `vec[N]` builtins and operators.

use super::{Gen, Vals};
use crate::check::hir::TExpr;
use cranelift_module::Module;

impl<M: Module> Gen<'_, '_, '_, M> {
    pub(super) fn vec_builtin(&mut self, _name: &str, _a: &[TExpr], _e: &TExpr) -> Option<Vals> {
        None
    }
}
