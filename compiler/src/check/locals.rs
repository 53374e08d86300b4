//! Local scopes: function parameters, `let`s and lambda parameters, with what the lints
//! need (was it used? does it shadow?) and the optionals proven non-null by a condition.

use super::hir::LocalId;
use super::types::Ty;
use crate::source::Span;
use crate::syntax::ast;
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    FnParam,
    Let,
    LambdaParam,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub name: String,
    pub id: LocalId,
    pub ty: Ty,
    pub span: Span,
    pub kind: LocalKind,
    pub used: bool,
    /// A `let` bound to a lambda is inlined at each call: this is its syntax.
    pub lambda: Option<Rc<ast::Expr>>,
}

/// A value path `x.a.b` proven non-null, as (root local, field indices).
pub type Path = (LocalId, Vec<usize>);

#[derive(Default)]
pub struct Locals {
    frames: Vec<Vec<Binding>>,
    counter: u32,
    narrowed: Vec<Path>,
}

impl Locals {
    pub fn count(&self) -> u32 {
        self.counter
    }
    /// Keeps LocalIds unique across the whole program.
    pub fn inherit_counter(&mut self, other: &Locals) {
        self.counter = self.counter.max(other.counter);
    }
    pub fn fresh(&mut self) -> LocalId {
        self.counter += 1;
        LocalId(self.counter - 1)
    }
    pub fn push_frame(&mut self) {
        self.frames.push(Vec::new());
    }
    /// Pops a frame, returning its bindings (for the unused-variable lint).
    pub fn pop_frame(&mut self) -> Vec<Binding> {
        self.frames.pop().unwrap_or_default()
    }
    pub fn bind(&mut self, b: Binding) {
        if self.frames.is_empty() {
            self.push_frame();
        }
        self.frames.last_mut().expect("a frame").push(b);
    }
    /// Finds a visible binding and marks it used.
    pub fn lookup(&mut self, name: &str) -> Option<&Binding> {
        for frame in self.frames.iter_mut().rev() {
            if let Some(b) = frame.iter_mut().rev().find(|b| b.name == name) {
                b.used = true;
                return Some(b);
            }
        }
        None
    }
    /// A binding of an enclosing frame with this name, for the shadowing lint.
    pub fn outer(&self, name: &str) -> Option<&Binding> {
        let n = self.frames.len();
        if n < 2 {
            return None;
        }
        self.frames[..n - 1]
            .iter()
            .rev()
            .flat_map(|f| f.iter().rev())
            .find(|b| b.name == name)
    }
    pub fn is_narrowed(&self, path: &Path) -> bool {
        self.narrowed.contains(path)
    }
    /// Adds proven-non-null paths; returns how many to drop with [`Locals::unnarrow`].
    pub fn narrow(&mut self, paths: Vec<Path>) -> usize {
        let n = paths.len();
        self.narrowed.extend(paths);
        n
    }
    pub fn unnarrow(&mut self, n: usize) {
        let keep = self.narrowed.len() - n;
        self.narrowed.truncate(keep);
    }
}

impl Locals {
    /// A binding of the innermost frame with this name, without marking it used.
    pub fn lookup_quiet(&self, name: &str) -> Option<crate::source::Span> {
        self.frames
            .last()?
            .iter()
            .rev()
            .find(|b| b.name == name)
            .map(|b| b.span)
    }
}
