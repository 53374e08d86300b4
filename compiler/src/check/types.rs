//! Kiln's types and the relations between them: assignability (with int → float widening
//! and `T` → `T?`), joins (the type of `if` branches and list elements) and comparability.

use std::fmt;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    /// The type of the `null` literal; assignable to every `T?`.
    Null,
    /// The element type of `[]`: assignable to everything, joins to the other side.
    Never,
    List(Rc<Ty>),
    /// `vec[N]`: N `f32` values.
    Vec(u32),
    Record(Rc<[Field]>),
    Optional(Rc<Ty>),
    Stream(Rc<Ty>),
    Fn(Rc<[Ty]>, Rc<Ty>),
    /// A type that failed to check. It is compatible with everything, so one mistake
    /// gives one diagnostic.
    #[default]
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Rc<str>,
    pub ty: Ty,
}

impl Ty {
    pub fn list(t: Ty) -> Ty {
        Ty::List(Rc::new(t))
    }
    pub fn stream(t: Ty) -> Ty {
        Ty::Stream(Rc::new(t))
    }
    /// `T?`; optional of optional collapses, and `null?` is just `null`.
    pub fn optional(t: Ty) -> Ty {
        match t {
            Ty::Optional(_) | Ty::Null | Ty::Error => t,
            t => Ty::Optional(Rc::new(t)),
        }
    }
    pub fn record(fields: Vec<(impl Into<Rc<str>>, Ty)>) -> Ty {
        Ty::Record(fields.into_iter().map(|(n, ty)| Field { name: n.into(), ty }).collect())
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_) | Ty::Null)
    }
    /// `T` for `T?`, otherwise the type itself.
    pub fn strip_optional(&self) -> &Ty {
        match self {
            Ty::Optional(t) => t,
            t => t,
        }
    }
    pub fn field(&self, name: &str) -> Option<(usize, &Ty)> {
        match self {
            Ty::Record(fs) => {
                fs.iter().enumerate().find(|(_, f)| &*f.name == name).map(|(i, f)| (i, &f.ty))
            }
            _ => None,
        }
    }
    /// The element type of a list or stream.
    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::List(t) | Ty::Stream(t) => Some(t),
            _ => None,
        }
    }
    /// True when the type contains `Error` anywhere (then no further diagnostics).
    pub fn has_error(&self) -> bool {
        match self {
            Ty::Error => true,
            Ty::List(t) | Ty::Optional(t) | Ty::Stream(t) => t.has_error(),
            Ty::Record(fs) => fs.iter().any(|f| f.ty.has_error()),
            Ty::Fn(ps, r) => ps.iter().any(Ty::has_error) || r.has_error(),
            _ => false,
        }
    }
    /// Scalars that a CSV cell or a param can hold.
    pub fn is_scalar(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Bool | Ty::Str)
    }
    /// Can values of this type be ordered (`<`, `sort_by`, `min`)? Strings by code point,
    /// numbers numerically, bools false < true, lists and records lexicographically, null first.
    pub fn is_ordered(&self) -> bool {
        match self {
            Ty::Int | Ty::Float | Ty::Bool | Ty::Str | Ty::Null | Ty::Never | Ty::Error => true,
            Ty::List(t) | Ty::Optional(t) => t.is_ordered(),
            Ty::Record(fs) => fs.iter().all(|f| f.ty.is_ordered()),
            Ty::Vec(_) | Ty::Stream(_) | Ty::Fn(..) => false,
        }
    }
    /// Can values of this type be compared with `==` and used as keys?
    pub fn is_equatable(&self) -> bool {
        match self {
            Ty::Stream(_) | Ty::Fn(..) => false,
            Ty::List(t) | Ty::Optional(t) => t.is_equatable(),
            Ty::Record(fs) => fs.iter().all(|f| f.ty.is_equatable()),
            _ => true,
        }
    }
}

/// Can a value of type `from` be used where `to` is expected (inserting a widening or an
/// optional wrap)? Records match by field names, in any order.
pub fn assignable(from: &Ty, to: &Ty) -> bool {
    match (from, to) {
        (Ty::Error, _) | (_, Ty::Error) | (Ty::Never, _) => true,
        (Ty::Int, Ty::Float) => true,
        (Ty::Null, Ty::Optional(_)) => true,
        (Ty::Optional(a), Ty::Optional(b)) => assignable(a, b),
        (a, Ty::Optional(b)) => assignable(a, b),
        (Ty::List(a), Ty::List(b)) => assignable(a, b),
        (Ty::Stream(a), Ty::Stream(b)) => assignable(a, b),
        (Ty::Record(a), Ty::Record(b)) => {
            a.len() == b.len()
                && b.iter()
                    .all(|fb| a.iter().any(|fa| fa.name == fb.name && assignable(&fa.ty, &fb.ty)))
        }
        (Ty::Fn(pa, ra), Ty::Fn(pb, rb)) => {
            pa.len() == pb.len()
                && pa.iter().zip(pb.iter()).all(|(a, b)| assignable(b, a))
                && assignable(ra, rb)
        }
        (a, b) => a == b,
    }
}

/// The least type both `a` and `b` are assignable to, if any.
pub fn join(a: &Ty, b: &Ty) -> Option<Ty> {
    Some(match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => Ty::Error,
        (Ty::Never, t) | (t, Ty::Never) => t.clone(),
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
        (Ty::Null, Ty::Null) => Ty::Null,
        (Ty::Null, t) | (t, Ty::Null) => Ty::optional(t.clone()),
        (Ty::Optional(x), Ty::Optional(y)) => Ty::optional(join(x, y)?),
        (Ty::Optional(x), t) | (t, Ty::Optional(x)) => Ty::optional(join(x, t)?),
        (Ty::List(x), Ty::List(y)) => Ty::list(join(x, y)?),
        (Ty::Record(x), Ty::Record(y)) => {
            if x.len() != y.len() {
                return None;
            }
            let mut fields = Vec::with_capacity(x.len());
            for fx in x.iter() {
                let fy = y.iter().find(|f| f.name == fx.name)?;
                fields.push(Field { name: fx.name.clone(), ty: join(&fx.ty, &fy.ty)? });
            }
            Ty::Record(fields.into())
        }
        (x, y) if x == y => x.clone(),
        _ => return None,
    })
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Str => f.write_str("str"),
            Ty::Null => f.write_str("null"),
            Ty::Never => f.write_str("_"),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::Vec(n) => write!(f, "vec[{n}]"),
            Ty::Record(fs) => {
                f.write_str("{ ")?;
                for (i, field) in fs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.ty)?;
                }
                f.write_str(if fs.is_empty() { "}" } else { " }" })
            }
            Ty::Optional(t) => match **t {
                Ty::Fn(..) => write!(f, "({t})?"),
                _ => write!(f, "{t}?"),
            },
            Ty::Stream(t) => write!(f, "stream<{t}>"),
            Ty::Fn(ps, r) => {
                f.write_str("(")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ") -> {r}")
            }
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

/// Does the written type name a declaration (a `type` alias, or a constant as a vector
/// size), which only a pipeline's scope can resolve?
pub fn names_a_declaration(t: &crate::syntax::ast::TypeExpr) -> bool {
    use crate::syntax::ast::{ExprKind, TypeExprKind};
    match &t.kind {
        TypeExprKind::Named(id) => !matches!(id.name.as_str(), "int" | "float" | "bool" | "str"),
        TypeExprKind::List(e) | TypeExprKind::Optional(e) | TypeExprKind::Stream(e) => {
            names_a_declaration(e)
        }
        TypeExprKind::Vec(size) => !matches!(size.kind, ExprKind::Int(_)),
        TypeExprKind::Record(fields) => fields.iter().any(|(_, t)| names_a_declaration(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_and_optionals() {
        assert!(assignable(&Ty::Int, &Ty::Float));
        assert!(!assignable(&Ty::Float, &Ty::Int));
        assert!(assignable(&Ty::Null, &Ty::optional(Ty::Str)));
        assert!(!assignable(&Ty::optional(Ty::Str), &Ty::Str));
        assert!(assignable(&Ty::list(Ty::Never), &Ty::list(Ty::Str)));
    }

    #[test]
    fn records_match_by_name() {
        let a = Ty::record(vec![("a", Ty::Int), ("b", Ty::Str)]);
        let b = Ty::record(vec![("b", Ty::Str), ("a", Ty::Float)]);
        assert!(assignable(&a, &b));
        assert!(!assignable(&b, &a));
        assert_eq!(a.to_string(), "{ a: int, b: str }");
    }

    #[test]
    fn joins() {
        assert_eq!(join(&Ty::Int, &Ty::Float), Some(Ty::Float));
        assert_eq!(join(&Ty::Null, &Ty::Int), Some(Ty::optional(Ty::Int)));
        assert_eq!(join(&Ty::list(Ty::Never), &Ty::list(Ty::Str)), Some(Ty::list(Ty::Str)));
        assert_eq!(join(&Ty::Str, &Ty::Int), None);
    }
}
