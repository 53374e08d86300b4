//! Expressions: a tree of text and typed sub-expressions (so the minimizer can replace any
//! node by a literal or by a sub-expression of the same type), and a type-directed
//! generator of them from the operators and builtins of LANGUAGE.md §1.4 and §1.7.

use super::features::Features;
use super::rng::Rng;
use super::ty::{self, Ty};

#[derive(Clone, Debug)]
pub enum Part {
    T(String),
    E(Expr),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub ty: Ty,
    pub parts: Vec<Part>,
}

impl Expr {
    pub fn text(ty: Ty, s: impl Into<String>) -> Expr {
        Expr { ty, parts: vec![Part::T(s.into())] }
    }

    pub fn print(&self) -> String {
        let mut s = String::new();
        print_parts(&self.parts, &mut s);
        s
    }
}

pub fn print_parts(parts: &[Part], out: &mut String) {
    for p in parts {
        match p {
            Part::T(t) => out.push_str(t),
            Part::E(e) => print_parts(&e.parts, out),
        }
    }
}

/// Builds an expression from text pieces and sub-expressions: `ex(ty, ["(", a, " + ", b, ")"])`.
macro_rules! ex {
    ($ty:expr, [$($p:expr),* $(,)?]) => {
        Expr { ty: $ty, parts: vec![$(Part::from($p)),*] }
    };
}
pub(crate) use ex;

impl From<&str> for Part {
    fn from(s: &str) -> Part {
        Part::T(s.to_string())
    }
}
impl From<String> for Part {
    fn from(s: String) -> Part {
        Part::T(s)
    }
}
impl From<Expr> for Part {
    fn from(e: Expr) -> Part {
        Part::E(e)
    }
}

/// A user fn the generator may call.
#[derive(Clone, Debug)]
pub struct FnSig {
    pub name: String,
    pub params: Vec<Ty>,
    pub ret: Ty,
    /// Recursive fns take a first `int` argument, reduced modulo this before the call.
    pub fuel: Option<i64>,
}

pub fn str_lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !c.is_ascii() && c as u32 > 0xffff => {
                out.push_str(&format!("\\u{{{:X}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn int_lit(v: i64) -> String {
    if v == i64::MIN {
        "(-9223372036854775807 - 1)".into()
    } else if v < 0 {
        format!("(-{})", -v)
    } else if v > 1000 && v % 7 == 3 {
        // digit separators
        let s = v.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push('_');
            }
            out.push(c);
        }
        out
    } else {
        v.to_string()
    }
}

/// A literal of type `t` (the minimizer's replacement for any node).
pub fn literal(rng: &mut Rng, t: &Ty) -> Expr {
    let s = match t {
        Ty::Int => int_lit(ty::gen_int(rng)),
        Ty::Float => {
            let f = ty::gen_float(rng, true);
            if f.starts_with('-') { format!("({f})") } else { f }
        }
        Ty::Bool => rng.pick(&["true", "false"]).to_string(),
        Ty::Str => {
            let s = *rng.pick(ty::STRS);
            if !s.contains(['"', '\\']) && rng.chance(1, 8) {
                format!("\"\"\"{s}\"\"\"") // triple-quoted: no escapes
            } else {
                str_lit(s)
            }
        }
        Ty::Opt(inner) => {
            // typed as the optional wherever it stands (a bare `null` is not)
            let c = if rng.chance(1, 2) { "true" } else { "false" };
            return ex!(
                t.clone(),
                [format!("(if {c} {{ null }} else {{ "), literal(rng, inner), " })"]
            );
        }
        Ty::List(inner) => {
            let n = 1 + rng.below(3);
            let mut parts: Vec<Part> = vec!["[".into()];
            for i in 0..n {
                if i > 0 {
                    parts.push(", ".into());
                }
                parts.push(literal(rng, inner).into());
            }
            parts.push("]".into());
            return Expr { ty: t.clone(), parts };
        }
        Ty::Vec(n) => {
            let xs: Vec<String> = (0..*n).map(|_| ty::gen_float(rng, true)).collect();
            format!("vec[{n}]([{}])", xs.join(", "))
        }
        Ty::Rec(fs) => {
            let mut parts: Vec<Part> = vec!["{ ".into()];
            for (i, (n, ft)) in fs.iter().enumerate() {
                parts.push(format!("{}{n}: ", if i > 0 { ", " } else { "" }).into());
                parts.push(literal(rng, ft).into());
            }
            parts.push(" }".into());
            return Expr { ty: t.clone(), parts };
        }
    };
    Expr::text(t.clone(), s)
}

/// The simplest literal of a type, for the minimizer.
pub fn zero(t: &Ty) -> Expr {
    match t {
        Ty::Int => Expr::text(t.clone(), "0"),
        Ty::Float => Expr::text(t.clone(), "0.0"),
        Ty::Bool => Expr::text(t.clone(), "false"),
        Ty::Str => Expr::text(t.clone(), "\"\""),
        Ty::Opt(_) => Expr::text(t.clone(), "null"),
        Ty::List(inner) => ex!(t.clone(), ["[", zero(inner), "]"]),
        Ty::Vec(n) => Expr::text(t.clone(), format!("vec[{n}]([{}])", vec!["0.0"; *n].join(", "))),
        Ty::Rec(fs) => {
            let mut parts: Vec<Part> = vec!["{ ".into()];
            for (i, (n, ft)) in fs.iter().enumerate() {
                parts.push(format!("{}{n}: ", if i > 0 { ", " } else { "" }).into());
                parts.push(zero(ft).into());
            }
            parts.push(" }".into());
            Expr { ty: t.clone(), parts }
        }
    }
}

pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    pub f: &'a Features,
    /// Names in scope, innermost last.
    pub vars: Vec<(String, Ty)>,
    pub fns: Vec<FnSig>,
    /// Inside a recursive fn: its signature and the name of its fuel parameter.
    pub rec: Option<(FnSig, String)>,
    pub fresh: usize,
}

impl Gen<'_> {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// Every variable and field path (through records only) of type `t`.
    fn paths(&self, t: &Ty) -> Vec<Expr> {
        let mut out = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (name, vt) in self.vars.iter().rev() {
            if seen.contains(&name.as_str()) {
                continue;
            }
            seen.push(name);
            walk(name.clone(), vt, t, &mut out, 0);
        }
        fn walk(path: String, vt: &Ty, t: &Ty, out: &mut Vec<Expr>, depth: u32) {
            if vt == t {
                out.push(Expr::text(t.clone(), path.clone()));
            }
            if let (Ty::Rec(fs), true) = (vt, depth < 3) {
                for (n, ft) in fs {
                    walk(format!("{path}.{n}"), ft, t, out, depth + 1);
                }
            }
        }
        out
    }

    /// A variable, a field path or a literal. An optional is built so its inferred type is
    /// the optional one (a bare `null` or a non-optional value would infer another type).
    pub fn leaf(&mut self, t: &Ty) -> Expr {
        let paths = self.paths(t);
        if !paths.is_empty() && self.rng.chance(3, 4) {
            return self.rng.pick(&paths).clone();
        }
        if let Ty::Opt(inner) = t {
            let c = self.leaf(&Ty::Bool);
            let v = self.leaf(inner);
            return ex!(t.clone(), ["(if ", c, " { null } else { ", v, " })"]);
        }
        literal(self.rng, t)
    }

    fn lambda(&mut self, param: &Ty, body_ty: &Ty, d: u32) -> (String, Expr) {
        let v = self.name("v");
        self.vars.push((v.clone(), param.clone()));
        let body = self.expr(body_ty, d);
        self.vars.pop();
        (v, body)
    }

    /// `src |> op(v => body)` on lists.
    fn list_op(&mut self, t: &Ty, op: &str, src: Expr, param: &Ty, body_ty: &Ty, d: u32) -> Expr {
        let (v, body) = self.lambda(param, body_ty, d);
        ex!(t.clone(), ["(", src, format!(" |> {op}({v} => "), body, "))"])
    }

    fn small_int(&mut self, d: u32) -> Expr {
        if self.rng.chance(1, 2) {
            Expr::text(Ty::Int, self.rng.range(-1, 4).to_string().replace("-1", "(-1)"))
        } else {
            let e = self.expr(&Ty::Int, d);
            ex!(Ty::Int, ["(", e, format!(" % {})", 2 + self.rng.below(5))])
        }
    }

    /// The type of a path in scope (from the innermost variable, usually) that `keep`
    /// accepts, so lambdas use their parameter; else `other`.
    pub fn scope_ty(
        &mut self,
        keep: impl Fn(&Ty) -> bool,
        other: impl FnOnce(&mut Rng) -> Ty,
    ) -> Ty {
        fn walk(t: &Ty, out: &mut Vec<Ty>, depth: u32) {
            out.push(t.clone());
            if let (Ty::Rec(fs), true) = (t, depth < 3) {
                for (_, ft) in fs {
                    walk(ft, out, depth + 1);
                }
            }
        }
        let mut tys = Vec::new();
        let inner_only = self.rng.chance(2, 3);
        for (i, (_, t)) in self.vars.iter().enumerate().rev() {
            if inner_only && i + 1 != self.vars.len() {
                break;
            }
            walk(t, &mut tys, 0);
        }
        tys.retain(|t| keep(t));
        if !tys.is_empty() && self.rng.chance(3, 4) {
            return self.rng.pick(&tys).clone();
        }
        other(self.rng)
    }

    /// Some type, often one a variable in scope has.
    pub fn some_ty(&mut self) -> Ty {
        let f = self.f;
        self.scope_ty(|t| !matches!(t, Ty::Rec(_)), |rng| ty::gen_ty(rng, f, 1))
    }

    /// A key for `distinct` / `group_by` / joins: a scalar, maybe optional.
    pub fn key_ty(&mut self) -> Ty {
        self.scope_ty(|t| t.base().is_scalar(), |rng| ty::gen_scalar(rng, true))
    }

    /// A key for `sort_by` (ordered, never null).
    pub fn sort_key_ty(&mut self) -> Ty {
        self.scope_ty(|t| t.is_scalar(), |rng| ty::gen_scalar(rng, false))
    }

    fn call_fn(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let cands: Vec<FnSig> = self.fns.iter().filter(|s| s.ret == *t).cloned().collect();
        let sig = if cands.is_empty() { None } else { Some(self.rng.pick(&cands).clone()) };
        if let Some((rs, fuel)) = self.rec.clone()
            && rs.ret == *t
            && self.rng.chance(2, 3)
        {
            // the recursive call, with a smaller fuel argument
            let mut parts: Vec<Part> = vec![format!("{}(({fuel} - 1)", rs.name).into()];
            for p in &rs.params[1..] {
                parts.push(", ".into());
                parts.push(self.expr(p, d).into());
            }
            parts.push(")".into());
            return Some(Expr { ty: t.clone(), parts });
        }
        let sig = sig?;
        let mut parts: Vec<Part> = vec![format!("{}(", sig.name).into()];
        for (i, p) in sig.params.iter().enumerate() {
            if i > 0 {
                parts.push(", ".into());
            }
            let a = self.expr(p, d);
            match (i, sig.fuel) {
                (0, Some(m)) => parts.push(ex!(Ty::Int, ["(", a, format!(" % {m})")]).into()),
                _ => parts.push(a.into()),
            }
        }
        parts.push(")".into());
        Some(Expr { ty: t.clone(), parts })
    }

    /// An expression of type `t` at most `d` levels deep.
    pub fn expr(&mut self, t: &Ty, d: u32) -> Expr {
        if d == 0 || self.rng.chance(1, 5) {
            return self.leaf(t);
        }
        let d1 = d - 1;
        for _ in 0..4 {
            let e = match self.rng.below(8) {
                0 => self.gen_if(t, d1),
                1 => self.gen_block(t, d1),
                2 => self.call_fn(t, d1),
                3 => self.gen_coalesce(t, d1),
                4 => self.gen_narrow(t, d1),
                _ => match t {
                    Ty::Int => self.gen_int(d1),
                    Ty::Float => self.gen_float(d1),
                    Ty::Bool => self.gen_bool(d1),
                    Ty::Str => self.gen_str(d1),
                    Ty::List(inner) => self.gen_list(t, inner, d1),
                    Ty::Opt(inner) => self.gen_opt(t, inner, d1),
                    Ty::Rec(_) => self.gen_rec(t, d1),
                    Ty::Vec(n) => self.gen_vec(*n, d1),
                },
            };
            if let Some(e) = e {
                return e;
            }
        }
        self.leaf(t)
    }

    fn gen_if(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let c = self.expr(&Ty::Bool, d);
        let a = self.expr(t, d);
        let b = self.expr(t, d);
        if self.rng.chance(1, 4) {
            let c2 = self.expr(&Ty::Bool, d);
            let m = self.expr(t, d);
            return Some(ex!(
                t.clone(),
                ["(if ", c, " { ", a, " } else if ", c2, " { ", m, " } else { ", b, " })"]
            ));
        }
        Some(ex!(t.clone(), ["(if ", c, " { ", a, " } else { ", b, " })"]))
    }

    fn gen_block(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let lt = self.some_ty();
        let v = self.name("t");
        let init = self.expr(&lt, d);
        self.vars.push((v.clone(), lt));
        let body = self.expr(t, d);
        self.vars.pop();
        // (a newline alone would not do: `e\n[1]` reads as an index into `e`)
        let sep = if self.rng.chance(1, 2) { "; " } else { ";\n    " };
        Some(ex!(t.clone(), [format!("{{ let {v} = "), init, sep, body, " }"]))
    }

    fn gen_coalesce(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let o = self.expr(&t.clone().opt(), d);
        let b = self.expr(t, d);
        Some(ex!(t.clone(), ["(", o, " ?? ", b, ")"]))
    }

    /// `if v != null { ...v as T... } else { ... }` on an optional variable.
    fn gen_narrow(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let mut seen: Vec<&str> = Vec::new();
        let mut opts: Vec<(String, Ty)> = Vec::new();
        for (n, vt) in self.vars.iter().rev() {
            if !seen.contains(&n.as_str()) {
                seen.push(n);
                if vt.is_opt() {
                    opts.push((n.clone(), vt.clone()));
                }
            }
        }
        if opts.is_empty() {
            return None;
        }
        let (name, vt) = self.rng.pick(&opts).clone();
        self.vars.push((name.clone(), vt.base().clone()));
        let a = self.expr(t, d);
        self.vars.pop();
        let b = self.expr(t, d);
        Some(ex!(t.clone(), [format!("(if {name} != null {{ "), a, " } else { ", b, " })"]))
    }

    fn num(&mut self, d: u32) -> Expr {
        let t = if self.rng.chance(1, 2) { Ty::Int } else { Ty::Float };
        self.expr(&t, d)
    }

    fn any_list(&mut self, d: u32) -> Expr {
        let et = self.some_ty();
        self.expr(&Ty::List(Box::new(et)), d)
    }

    fn gen_int(&mut self, d: u32) -> Option<Expr> {
        let i = Ty::Int;
        Some(match self.rng.below(15) {
            0..=2 => {
                let op = *self.rng.pick(&["+", "-", "*", "//", "%", "+", "-"]);
                let (a, b) = (self.expr(&i, d), self.expr(&i, d));
                ex!(i, ["(", a, format!(" {op} "), b, ")"])
            }
            3 => {
                let a = self.expr(&i, d);
                let f = *self.rng.pick(&["-", "abs"]);
                ex!(i, [format!("{f}("), a, ")"])
            }
            4 => {
                let f = *self.rng.pick(&["min", "max"]);
                let (a, b) = (self.expr(&i, d), self.expr(&i, d));
                ex!(i, [format!("{f}("), a, ", ", b, ")"])
            }
            5 => {
                let (a, b, c) = (self.expr(&i, d), self.expr(&i, d), self.expr(&i, d));
                ex!(i, ["clamp(", a, ", ", b, ", ", c, ")"])
            }
            6 => {
                let x =
                    if self.rng.chance(1, 2) { self.expr(&Ty::Str, d) } else { self.any_list(d) };
                ex!(i, ["len(", x, ")"])
            }
            7 => {
                let x = if self.rng.chance(2, 3) {
                    self.expr(&Ty::Float, d)
                } else {
                    self.expr(&Ty::Bool, d)
                };
                ex!(i, ["int(", x, ")"])
            }
            8 => {
                let s = self.expr(&Ty::Str, d);
                ex!(i, ["parse_int(", s, ")"])
            }
            9 => {
                let f = *self.rng.pick(&["sum", "min", "max"]);
                let xs = self.expr(&Ty::List(Box::new(Ty::Int)), d);
                ex!(i, [format!("{f}("), xs, ")"])
            }
            13 => {
                // min / max of a list of strings or floats, through len / int
                let et = self.rng.pick(&[Ty::Str, Ty::Float]).clone();
                let f = *self.rng.pick(&["min", "max"]);
                let xs = self.expr(&Ty::List(Box::new(et.clone())), d);
                let conv = if et == Ty::Str { "len" } else { "int" };
                ex!(i, [format!("{conv}({f}("), xs, "))"])
            }
            10 => return self.gen_index(&i, d),
            11 => {
                let s = self.expr(&Ty::Str, d);
                ex!(i, ["(", s, " |> len)"])
            }
            12 if self.f.vecs => {
                let n = *self.rng.pick(&[2, 4]);
                let v = self.expr(&Ty::Vec(n), d);
                let f = if self.f.vec_len && self.rng.chance(1, 2) { "len" } else { "argmax" };
                ex!(i, [format!("{f}("), v, ")"])
            }
            _ => {
                let (a, b) = (self.expr(&i, d), self.expr(&i, d));
                ex!(i, ["(", a, " * ", b, " + 1)"])
            }
        })
    }

    fn gen_index(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let xs = self.expr(&Ty::List(Box::new(t.clone())), d);
        if self.rng.chance(1, 2) {
            let i = self.small_int(d);
            return Some(ex!(t.clone(), ["(", xs, ")[", i, "]"]));
        }
        // guarded
        let v = self.name("t");
        let alt = self.expr(t, d);
        Some(ex!(
            t.clone(),
            [
                format!("{{ let {v} = "),
                xs,
                format!("; if len({v}) > 0 {{ {v}[len({v}) - 1] }} else {{ "),
                alt,
                " } }"
            ]
        ))
    }

    fn gen_float(&mut self, d: u32) -> Option<Expr> {
        let fl = Ty::Float;
        Some(match self.rng.below(12) {
            0..=2 => {
                let op = *self.rng.pick(&["+", "-", "*", "/", "//", "%", "/"]);
                let (a, b) = (self.num(d), self.num(d));
                ex!(fl, ["(", a, format!(" {op} "), b, ")"])
            }
            3 => {
                let x = if self.rng.chance(2, 3) {
                    self.expr(&Ty::Int, d)
                } else {
                    self.expr(&Ty::Bool, d)
                };
                ex!(fl, ["float(", x, ")"])
            }
            4 | 5 => {
                let f = *self.rng.pick(&[
                    "floor", "ceil", "round", "sqrt", "exp", "log", "abs", "tanh", "sigmoid",
                    "relu", "-",
                ]);
                let x = self.expr(&fl, d);
                ex!(fl, [format!("{f}("), x, ")"])
            }
            6 => {
                let (a, b) = (self.num(d), self.num(d));
                ex!(fl, ["pow(", a, ", ", b, ")"])
            }
            7 => {
                if !self.f.float_sum {
                    let xs = self.expr(&Ty::List(Box::new(Ty::Int)), d);
                    return Some(ex!(fl, ["mean(", xs, ")"]));
                }
                let f = *self.rng.pick(&["sum", "mean", "mean"]);
                let et = if f == "sum" || self.rng.chance(1, 2) { Ty::Float } else { Ty::Int };
                let xs = self.expr(&Ty::List(Box::new(et)), d);
                ex!(fl, [format!("{f}("), xs, ")"])
            }
            8 => {
                let s = self.expr(&Ty::Str, d);
                ex!(fl, ["parse_float(", s, ")"])
            }
            9 => {
                let f = *self.rng.pick(&["min", "max"]);
                let (a, b) = (self.expr(&fl, d), self.num(d));
                ex!(fl, [format!("{f}("), a, ", ", b, ")"])
            }
            10 => {
                let (a, b, c) = (self.expr(&fl, d), self.num(d), self.num(d));
                ex!(fl, ["clamp(", a, ", ", b, ", ", c, ")"])
            }
            11 if self.f.vecs && self.rng.chance(1, 2) => {
                let n = *self.rng.pick(&[2, 4]);
                let v = self.expr(&Ty::Vec(n), d);
                if self.rng.chance(1, 3) {
                    let w = self.expr(&Ty::Vec(n), d);
                    return Some(ex!(fl, ["dot(", v, ", ", w, ")"]));
                }
                if self.rng.chance(1, 4) {
                    let i = self.small_int(d);
                    return Some(ex!(fl, ["(", v, ")[", i, "]"]));
                }
                let f = *self.rng.pick(&["sum", "norm", "max", "min", "mean"]);
                ex!(fl, [format!("{f}("), v, ")"])
            }
            _ => return self.gen_index(&fl, d),
        })
    }

    fn gen_vec(&mut self, n: usize, d: u32) -> Option<Expr> {
        let t = Ty::Vec(n);
        Some(match self.rng.below(6) {
            0 => {
                let op = *self.rng.pick(&["+", "-", "*", "/"]);
                let a = self.expr(&t, d);
                let b = if self.rng.chance(1, 2) { self.expr(&t, d) } else { self.num(d) };
                ex!(t, ["(", a, format!(" {op} "), b, ")"])
            }
            1 => {
                let f = *self.rng.pick(&["relu", "sigmoid", "tanh", "softmax", "abs", "-"]);
                let a = self.expr(&t, d);
                ex!(t, [format!("{f}("), a, ")"])
            }
            2 => {
                let s = self.expr(&Ty::Str, d);
                ex!(t, ["hash_embed(", s, format!(", {n})")])
            }
            3 => {
                // a list of the right length, or of another one (a run-time error)
                let m = if self.rng.chance(1, 6) { n + 1 } else { n };
                let mut parts: Vec<Part> = vec![format!("vec[{n}]([").into()];
                for i in 0..m {
                    if i > 0 {
                        parts.push(", ".into());
                    }
                    parts.push(self.num(d).into());
                }
                parts.push("])".into());
                Expr { ty: t, parts }
            }
            4 => {
                let xs = self.expr(&Ty::List(Box::new(Ty::Float)), d);
                ex!(t, [format!("vec[{n}]("), xs, ")"])
            }
            _ => return None,
        })
    }

    fn cmp_operand(&mut self, t: &Ty, d: u32) -> Expr {
        if *t == Ty::Bool && !self.f.cmp_of_cmp { self.leaf(t) } else { self.expr(t, d) }
    }

    fn gen_bool(&mut self, d: u32) -> Option<Expr> {
        let b = Ty::Bool;
        Some(match self.rng.below(12) {
            0..=2 => {
                let op = *self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                let t = self.scope_ty(
                    |t| matches!(t, Ty::Int | Ty::Float | Ty::Str),
                    |rng| rng.pick(&[Ty::Int, Ty::Float, Ty::Str, Ty::Int]).clone(),
                );
                let a = self.expr(&t, d);
                let c = if t == Ty::Str { self.expr(&t, d) } else { self.num(d) };
                ex!(b, ["(", a, format!(" {op} "), c, ")"])
            }
            3 => {
                let op = *self.rng.pick(&["==", "!="]);
                let t = self.some_ty();
                let (x, y) = (self.cmp_operand(&t, d), self.cmp_operand(&t, d));
                ex!(b, ["(", x, format!(" {op} "), y, ")"])
            }
            4 => {
                let op = *self.rng.pick(&["and", "or"]);
                let (x, y) = (self.expr(&b, d), self.expr(&b, d));
                ex!(b, ["(", x, format!(" {op} "), y, ")"])
            }
            5 => {
                let x = self.expr(&b, d);
                ex!(b, ["(not ", x, ")"])
            }
            6 => {
                let f = *self.rng.pick(&["contains", "starts_with", "ends_with"]);
                let (s, p) = (self.expr(&Ty::Str, d), self.expr(&Ty::Str, d));
                ex!(b, [format!("{f}("), s, ", ", p, ")"])
            }
            7 => {
                let et = self.sort_key_ty();
                let xs = self.expr(&Ty::List(Box::new(et.clone())), d);
                let x = self.expr(&et, d);
                ex!(b, ["contains(", xs, ", ", x, ")"])
            }
            8 => {
                let f = self.f;
                let t = self.scope_ty(Ty::is_opt, |rng| ty::gen_ty(rng, f, 1).opt());
                let o = self.expr(&t, d);
                let op = *self.rng.pick(&["==", "!="]);
                // bound by a `let`: a bare test would narrow the path in the code after it
                // (in an `if` branch or after `and`), which the generator does not track
                let v = self.name("t");
                ex!(b, [format!("{{ let {v} = ("), o, format!(" {op} null); {v} }}")])
            }
            10 => {
                let x = self.expr(&Ty::Int, d);
                ex!(b, ["(", x, format!(" % 2 == {})", self.rng.below(2))])
            }
            _ => return None,
        })
    }

    fn gen_str(&mut self, d: u32) -> Option<Expr> {
        let s = Ty::Str;
        Some(match self.rng.below(12) {
            0 | 1 => {
                let (a, c) = (self.expr(&s, d), self.expr(&s, d));
                ex!(s, ["(", a, " + ", c, ")"])
            }
            2 => {
                let f = *self.rng.pick(&["lower", "upper", "trim", "reverse"]);
                let a = self.expr(&s, d);
                if self.rng.chance(1, 2) {
                    ex!(s, [format!("{f}("), a, ")"])
                } else {
                    ex!(s, ["(", a, format!(" |> {f})")])
                }
            }
            3 => {
                let (a, b, c) = (self.expr(&s, d), self.expr(&s, d), self.expr(&s, d));
                ex!(s, ["replace(", a, ", ", b, ", ", c, ")"])
            }
            4 => {
                let a = self.expr(&s, d);
                let (i, n) = (self.small_int(d), self.small_int(d));
                ex!(s, ["substr(", a, ", ", i, ", ", n, ")"])
            }
            5 => {
                let a = self.expr(&s, d);
                let n = self.small_int(d);
                ex!(s, ["truncate(", a, ", ", n, ")"])
            }
            6 | 7 => {
                let t = if self.rng.chance(1, 4) {
                    ty::gen_ty(self.rng, self.f, 1)
                } else {
                    self.some_ty()
                };
                let x = self.expr(&t, d);
                ex!(s, ["str(", x, ")"])
            }
            8 => {
                let xs = self.expr(&Ty::List(Box::new(Ty::Str)), d);
                let sep = self.expr(&s, d);
                ex!(s, ["join(", xs, ", ", sep, ")"])
            }
            9 => return self.gen_index(&s, d),
            _ => return None,
        })
    }

    fn gen_list(&mut self, t: &Ty, inner: &Ty, d: u32) -> Option<Expr> {
        Some(match self.rng.below(14) {
            0 | 1 => {
                let n = 1 + self.rng.below(3);
                let mut parts: Vec<Part> = vec!["[".into()];
                for i in 0..n {
                    if i > 0 {
                        parts.push(", ".into());
                    }
                    parts.push(self.expr(inner, d).into());
                }
                parts.push("]".into());
                Expr { ty: t.clone(), parts }
            }
            2 => {
                let (a, b) = (self.expr(t, d), self.expr(t, d));
                ex!(t.clone(), ["(", a, " + ", b, ")"])
            }
            3 => {
                let a = self.expr(t, d);
                if inner.is_scalar() && self.rng.chance(1, 2) {
                    ex!(t.clone(), ["sort(", a, ")"])
                } else {
                    ex!(t.clone(), ["reverse(", a, ")"])
                }
            }
            4 => {
                let f = *self.rng.pick(&["take", "skip"]);
                let a = self.expr(t, d);
                // a negative literal count is a check error (E0222); computed ones reach run time
                let n = match self.small_int(d) {
                    n if n.print() == "(-1)" => Expr::text(Ty::Int, "0"),
                    n => n,
                };
                ex!(t.clone(), [format!("{f}("), a, ", ", n, ")"])
            }
            5 | 6 => {
                let st = self.some_ty();
                let src = self.expr(&Ty::List(Box::new(st.clone())), d);
                self.list_op(t, "map", src, &st, inner, d)
            }
            7 => {
                let src = self.expr(t, d);
                self.list_op(t, "filter", src, inner, &Ty::Bool, d)
            }
            8 => {
                let st = self.some_ty();
                let src = self.expr(&Ty::List(Box::new(st.clone())), d);
                self.list_op(t, "flat_map", src, &st, t, d)
            }
            12 if *inner == Ty::Float && self.f.vecs => {
                let n = *self.rng.pick(&[2, 4]);
                let v = self.expr(&Ty::Vec(n), d);
                ex!(t.clone(), ["to_list(", v, ")"])
            }
            9 if *inner == Ty::Str => {
                let a = self.expr(&Ty::Str, d);
                if self.rng.chance(1, 2) {
                    ex!(t.clone(), ["tokens(", a, ")"])
                } else {
                    let sep = self.expr(&Ty::Str, d);
                    ex!(t.clone(), ["split(", a, ", ", sep, ")"])
                }
            }
            10 if *inner == Ty::Int => {
                let (a, b) = (self.small_int(d), self.expr(&Ty::Int, d));
                ex!(t.clone(), ["range(", a, ", clamp(", b, ", 0, 6))"])
            }
            11 if self.f.list_stream_ops => {
                let src = self.expr(t, d);
                let op = *self.rng.pick(&["sort_by", "distinct"]);
                let kt = if op == "sort_by" { self.sort_key_ty() } else { self.key_ty() };
                self.list_op(t, op, src, inner, &kt, d)
            }
            13 if self.f.list_stream_ops => {
                // the list forms of enumerate, batch and union
                let st = self.some_ty();
                let xs = self.expr(&Ty::List(Box::new(st.clone())), d);
                match self.rng.below(3) {
                    0 => {
                        let et = Ty::Rec(vec![("index".into(), Ty::Int), ("item".into(), st)]);
                        let src = ex!(Ty::List(Box::new(et.clone())), ["enumerate(", xs, ")"]);
                        self.list_op(t, "map", src, &et, inner, d)
                    }
                    1 => {
                        let n = 1 + self.rng.below(3);
                        let bt = Ty::List(Box::new(st));
                        let src =
                            ex!(Ty::List(Box::new(bt.clone())), ["batch(", xs, format!(", {n})")]);
                        self.list_op(t, "map", src, &bt, inner, d)
                    }
                    _ => {
                        let (a, b) = (self.expr(t, d), self.expr(t, d));
                        ex!(t.clone(), ["union(", a, ", ", b, ")"])
                    }
                }
            }
            _ => return None,
        })
    }

    fn gen_opt(&mut self, t: &Ty, inner: &Ty, d: u32) -> Option<Expr> {
        Some(match self.rng.below(4) {
            0 => {
                let c = self.expr(&Ty::Bool, d);
                let a = self.expr(inner, d);
                if self.rng.chance(1, 2) {
                    ex!(t.clone(), ["(if ", c, " { null } else { ", a, " })"])
                } else {
                    ex!(t.clone(), ["(if ", c, " { ", a, " } else { null })"])
                }
            }
            1 => {
                let (a, b) = (self.expr(t, d), self.expr(t, d));
                ex!(t.clone(), ["(", a, " ?? ", b, ")"])
            }
            _ => {
                let c = self.expr(&Ty::Bool, d);
                let a = self.expr(inner, d);
                ex!(t.clone(), ["(if ", c, " { ", a, " } else { null })"])
            }
        })
    }

    fn gen_rec(&mut self, t: &Ty, d: u32) -> Option<Expr> {
        let Ty::Rec(fs) = t else { unreachable!() };
        let same = self.paths(t);
        if !same.is_empty() && self.rng.chance(1, 2) {
            let base = self.rng.pick(&same).clone();
            let (n, ft) = self.rng.pick(fs).clone();
            let v = self.expr(&ft, d);
            return Some(ex!(t.clone(), ["{ ..", base, format!(", {n}: "), v, " }"]));
        }
        let mut parts: Vec<Part> = vec!["{ ".into()];
        for (i, (n, ft)) in fs.iter().enumerate() {
            parts.push(format!("{}{n}: ", if i > 0 { ", " } else { "" }).into());
            parts.push(self.expr(ft, d).into());
        }
        parts.push(" }".into());
        Some(Expr { ty: t.clone(), parts })
    }
}
