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
    /// Order of binding, for lexical scoping of inlined lambdas (set by `bind`).
    pub seq: u32,
}

/// What a value path starts at: a local, or a `param` or `const` (which never change).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Local(LocalId),
    Global(super::hir::Global),
}

/// A value path `x.a.b` proven non-null, as (root, field indices).
pub type Path = (Root, Vec<usize>);

#[derive(Default)]
pub struct Locals {
    frames: Vec<Vec<Binding>>,
    counter: u32,
    narrowed: Vec<Path>,
    seq: u32,
    /// Active lambda inlinings, innermost last: `(cutoff, start)`. Inside one, a binding is
    /// visible if it was made inside the inlining (`seq >= start`) or was visible where
    /// the lambda was defined (`seq < cutoff`, and visible in the enclosing inlining).
    windows: Vec<(u32, u32)>,
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
    pub fn bind(&mut self, mut b: Binding) {
        if self.frames.is_empty() {
            self.push_frame();
        }
        b.seq = self.seq;
        self.seq += 1;
        self.frames.last_mut().expect("a frame").push(b);
    }

    fn visible(&self, seq: u32) -> bool {
        for &(cutoff, start) in self.windows.iter().rev() {
            if seq >= start {
                return true;
            }
            if seq >= cutoff {
                return false;
            }
        }
        true
    }

    /// Starts inlining a lambda bound with sequence number `defined_at`: its body sees
    /// only what was visible at its definition (not itself: `let` is not recursive).
    pub fn enter_inline(&mut self, defined_at: u32) {
        self.windows.push((defined_at, self.seq));
    }

    pub fn exit_inline(&mut self) {
        self.windows.pop();
    }
    /// Finds a visible binding and marks it used.
    pub fn lookup(&mut self, name: &str) -> Option<&Binding> {
        let pos = self.frames.iter().enumerate().rev().find_map(|(f, frame)| {
            frame.iter().rposition(|b| b.name == name && self.visible(b.seq)).map(|i| (f, i))
        })?;
        let b = &mut self.frames[pos.0][pos.1];
        b.used = true;
        Some(b)
    }
    /// A binding of an enclosing frame with this name, for the shadowing lint.
    pub fn outer(&self, name: &str) -> Option<&Binding> {
        let n = self.frames.len();
        if n < 2 {
            return None;
        }
        self.frames[..n - 1].iter().rev().flat_map(|f| f.iter().rev()).find(|b| b.name == name)
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
    /// Is there a binding with this name that the current lambda inlining hides?
    pub fn is_hidden(&self, name: &str) -> Option<crate::source::Span> {
        self.frames
            .iter()
            .flatten()
            .rev()
            .find(|b| b.name == name && !self.visible(b.seq))
            .map(|b| b.span)
    }

    /// The names of the visible bindings.
    pub fn visible_names(&self) -> Vec<String> {
        self.frames
            .iter()
            .flatten()
            .filter(|b| self.visible(b.seq))
            .map(|b| b.name.clone())
            .collect()
    }

    /// Is a binding with this name visible? (Does not mark it used.)
    pub fn lookup_quiet_any(&self, name: &str) -> bool {
        self.frames.iter().flatten().any(|b| b.name == name && self.visible(b.seq))
    }

    /// A binding of the innermost frame with this name, without marking it used.
    pub fn lookup_quiet(&self, name: &str) -> Option<crate::source::Span> {
        self.frames.last()?.iter().rev().find(|b| b.name == name).map(|b| b.span)
    }
}
