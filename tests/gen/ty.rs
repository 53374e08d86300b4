//! Types of generated programs and input data for them: JSONL lines and CSV rows, with
//! nulls, missing fields, Unicode, ints near the edges of `int`, and malformed lines.

use super::features::Features;
use super::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Opt(Box<Ty>),
    List(Box<Ty>),
    Rec(Vec<(String, Ty)>),
    /// `vec[N]`: N `f32` values.
    Vec(usize),
}

impl Ty {
    pub fn print(&self) -> String {
        match self {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "str".into(),
            Ty::Opt(t) => format!("{}?", t.print()),
            Ty::List(t) => format!("[{}]", t.print()),
            Ty::Vec(n) => format!("vec[{n}]"),
            Ty::Rec(fs) => {
                let fs: Vec<String> =
                    fs.iter().map(|(n, t)| format!("{n}: {}", t.print())).collect();
                format!("{{ {} }}", fs.join(", "))
            }
        }
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Bool | Ty::Str)
    }

    pub fn is_opt(&self) -> bool {
        matches!(self, Ty::Opt(_))
    }

    /// The type without its outer `?`.
    pub fn base(&self) -> &Ty {
        match self {
            Ty::Opt(t) => t,
            t => t,
        }
    }

    /// A record a CSV sink or source can hold: every field a scalar or an optional scalar.
    pub fn is_flat_record(&self) -> bool {
        matches!(self, Ty::Rec(fs) if !fs.is_empty() && fs.iter().all(|(_, t)| t.base().is_scalar()))
    }

    pub fn opt(self) -> Ty {
        if self.is_opt() { self } else { Ty::Opt(Box::new(self)) }
    }
}

const NAMES: &[&str] = &[
    "id", "a", "b", "c", "n", "s", "x", "y", "name", "tags", "kind", "score", "ok", "note", "k",
    "v", "w",
];

/// A random type; `depth` bounds nesting.
pub fn gen_ty(rng: &mut Rng, f: &Features, depth: u32) -> Ty {
    let t = match rng.below(if depth == 0 { 4 } else { 8 }) {
        7 if f.vecs => Ty::Vec(*rng.pick(&[2, 4])),
        7 => Ty::Float,
        0 => Ty::Int,
        1 => Ty::Float,
        2 => rng.pick(&[Ty::Bool, Ty::Str, Ty::Int]).clone(),
        3 => Ty::Str,
        4 | 5 => Ty::List(Box::new(gen_ty(rng, f, depth - 1))),
        _ => {
            let k = 1 + rng.below(3);
            gen_record(rng, f, depth - 1, k)
        }
    };
    if rng.chance(1, 5) { t.opt() } else { t }
}

/// A random scalar type, possibly optional.
pub fn gen_scalar(rng: &mut Rng, opt: bool) -> Ty {
    let t = rng.pick(&[Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::Int, Ty::Str]).clone();
    if opt && rng.chance(1, 4) { t.opt() } else { t }
}

/// A record of `n` fields with distinct names.
pub fn gen_record(rng: &mut Rng, f: &Features, depth: u32, n: usize) -> Ty {
    let mut names: Vec<&str> = NAMES.to_vec();
    let mut fs = Vec::new();
    for _ in 0..n.max(1) {
        let name = names.remove(rng.below(names.len()));
        fs.push((name.to_string(), gen_ty(rng, f, depth)));
    }
    fix_bool_records(Ty::Rec(fs), f)
}

/// A flat record (CSV-shaped).
pub fn gen_flat_record(rng: &mut Rng, f: &Features, n: usize) -> Ty {
    let mut names: Vec<&str> = NAMES.to_vec();
    let mut fs = Vec::new();
    for _ in 0..n.max(1) {
        let name = names.remove(rng.below(names.len()));
        fs.push((name.to_string(), gen_scalar(rng, true)));
    }
    fix_bool_records(Ty::Rec(fs), f)
}

/// Without `nested_bool_rec`, every record gets a field that is not `bool` (an all-`bool`
/// record nested in another one, or captured by a lambda inside a lambda, crashes the JIT).
pub fn fix_bool_records(t: Ty, f: &Features) -> Ty {
    if f.nested_bool_rec {
        return t;
    }
    match t {
        Ty::Opt(t) => Ty::Opt(Box::new(fix_bool_records(*t, f))),
        Ty::List(t) => Ty::List(Box::new(fix_bool_records(*t, f))),
        Ty::Rec(fs) => {
            let mut fs: Vec<(String, Ty)> =
                fs.into_iter().map(|(n, t)| (n, fix_bool_records(t, f))).collect();
            if fs.iter().all(|(_, t)| *t.base() == Ty::Bool) {
                fs[0].1 = Ty::Int;
            }
            Ty::Rec(fs)
        }
        t => t,
    }
}

pub const STRS: &[&str] = &[
    "",
    "a",
    "ab",
    "b",
    "Hello, World",
    "  padded  ",
    "straße",
    "ÀB x2",
    "日本語テキスト",
    "é",
    "😀 emoji",
    "42",
    " -17 ",
    "1.5e3",
    "0.25",
    "x,y",
    "say \"hi\"",
    "tab\there",
    "line\nbreak",
    "ǅ",
    "İ",
    "ß",
    "a b a c",
    "NaN",
    "-0",
    "9223372036854775807",
    "1e400",
    "\\",
    "Ǆemo",
    "  ",
    "A",
    "zz",
];

pub const INTS: &[i64] = &[
    0,
    1,
    2,
    3,
    -1,
    5,
    7,
    10,
    -7,
    42,
    100,
    1000,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    3_037_000_499,
    3_037_000_500,
    -3_037_000_500,
    1 << 62,
    -(1 << 62),
    4_294_967_296,
];

pub const FLOATS: &[&str] = &[
    "0.0",
    "1.0",
    "2.5",
    "-2.5",
    "0.1",
    "0.2",
    "0.5",
    "3.0",
    "1e308",
    "-1e308",
    "1e-300",
    "0.49999999999999994",
    "100.25",
    "7.0",
    "1.7976931348623157e308",
    "5e-324",
];

/// A small or a surprising int.
pub fn gen_int(rng: &mut Rng) -> i64 {
    if rng.chance(2, 3) { rng.range(-3, 12) } else { *rng.pick(INTS) }
}

pub fn gen_float(rng: &mut Rng, neg_zero: bool) -> String {
    if neg_zero && rng.chance(1, 12) {
        return "-0.0".into();
    }
    if rng.chance(1, 2) {
        format!("{}.{}", rng.range(-5, 20), rng.below(100))
    } else {
        rng.pick(FLOATS).to_string()
    }
}

pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value of type `t`.
pub fn json_value(rng: &mut Rng, f: &Features, t: &Ty) -> String {
    match t {
        Ty::Int => {
            if f.json_neg_zero && rng.chance(1, 30) {
                "-0".into()
            } else {
                gen_int(rng).to_string()
            }
        }
        Ty::Float => {
            if f.float_halfway && rng.chance(1, 20) {
                rng.pick(&[
                    "9007199254740993.0",
                    "2.00000000000000011102230246251565404236316680908203125",
                ])
                .to_string()
            } else if rng.chance(1, 6) {
                gen_int(rng).to_string() // an int where a float is wanted
            } else {
                gen_float(rng, f.json_neg_zero)
            }
        }
        Ty::Bool => rng.pick(&["true", "false"]).to_string(),
        Ty::Str => json_str(rng.pick::<&str>(STRS)),
        Ty::Opt(t) => {
            if rng.chance(1, 3) {
                "null".into()
            } else {
                json_value(rng, f, t)
            }
        }
        Ty::List(t) => {
            let n = rng.below(5);
            let xs: Vec<String> = (0..n).map(|_| json_value(rng, f, t)).collect();
            format!("[{}]", xs.join(", "))
        }
        Ty::Vec(n) => {
            // short decimals: docs/run.md notes that longer ones may round differently
            let xs: Vec<String> =
                (0..*n).map(|_| format!("{}.{}", rng.range(-4, 9), rng.below(100))).collect();
            format!("[{}]", xs.join(", "))
        }
        Ty::Rec(fs) => {
            let mut parts = Vec::new();
            for (n, ft) in fs {
                if ft.is_opt() && rng.chance(1, 6) {
                    continue; // a missing optional field is null
                }
                parts.push(format!("{}: {}", json_str(n), json_value(rng, f, ft)));
            }
            if rng.chance(1, 8) {
                parts.push("\"extra\": [1, {\"z\": null}]".into());
            }
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A value of some other type than `t`, for a malformed record.
fn wrong_value(rng: &mut Rng, f: &Features, t: &Ty) -> String {
    match t.base() {
        Ty::Int => rng.pick(&["\"7\"", "1.5", "true", "9223372036854775808", "[1]"]).to_string(),
        Ty::Float => rng.pick(&["\"1.0\"", "false", "{}"]).to_string(),
        Ty::Bool => rng.pick(&["1", "\"true\"", "null"]).to_string(),
        Ty::Str => rng.pick(&["1", "[\"a\"]", "false"]).to_string(),
        Ty::List(_) => rng.pick(&["\"[]\"", "{}", "[[[]]]", "3"]).to_string(),
        Ty::Vec(_) if f.vec_bad_element => rng.pick(&["[\"a\", 1]", "[1, null, 3, 4]"]).to_string(),
        Ty::Vec(_) => rng.pick(&["[1.0]", "[1, 2, 3, 4, 5]", "null", "{}"]).to_string(),
        _ => rng.pick(&["[]", "\"r\"", "0"]).to_string(),
    }
}

/// The lines of a JSONL file of `t` records.
pub fn jsonl_lines(rng: &mut Rng, f: &Features, t: &Ty, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..n {
        if f.malformed && rng.chance(1, 12) {
            let Ty::Rec(fs) = t else { unreachable!() };
            let (name, ft) = rng.pick(fs).clone();
            let line = match rng.below(5) {
                0 => "not json at all".to_string(),
                1 if f.multi_fault => "{\"id\": 1".to_string(),
                1 => {
                    // cut short after a valid record's last value
                    let v = json_value(rng, f, t);
                    v[..v.len() - 1].to_string()
                }
                2 if f.multi_fault => {
                    format!("{{{}: {}}}", json_str(&name), wrong_value(rng, f, &ft))
                }
                2 => {
                    // one required field missing
                    let parts: Vec<String> = fs
                        .iter()
                        .filter(|(n, _)| *n != name)
                        .map(|(n, t)| format!("{}: {}", json_str(n), json_value(rng, f, t)))
                        .collect();
                    format!("{{{}}}", parts.join(", "))
                }
                3 => "[1, 2]".to_string(),
                _ => {
                    let v = json_value(rng, f, t);
                    format!(
                        "{}, {}: {}}}",
                        &v[..v.len() - 1],
                        json_str(&name),
                        wrong_value(rng, f, &ft)
                    )
                    .replacen("{, ", "{", 1)
                }
            };
            lines.push(line);
        } else if rng.chance(1, 30) {
            lines.push(String::new());
        } else {
            lines.push(json_value(rng, f, t));
        }
    }
    lines
}

fn csv_quote(s: &str) -> String {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) || rng_free_needs_quote(s) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn rng_free_needs_quote(s: &str) -> bool {
    s.starts_with(' ') || s.ends_with(' ')
}

fn csv_cell(rng: &mut Rng, t: &Ty) -> String {
    match t {
        Ty::Opt(t) => {
            if rng.chance(1, 3) {
                String::new()
            } else {
                csv_cell(rng, t)
            }
        }
        Ty::Int => {
            let v = gen_int(rng).to_string();
            if rng.chance(1, 10) { format!(" {v}\t") } else { v }
        }
        Ty::Float => gen_float(rng, false),
        Ty::Bool => rng.pick(&["true", "false"]).to_string(),
        Ty::Str => csv_quote(rng.pick::<&str>(STRS)),
        _ => unreachable!("CSV cells are scalars"),
    }
}

/// The lines of a CSV file of the flat record `t` (header first); a line may hold a
/// quoted newline, so a "line" here is a record.
pub fn csv_lines(rng: &mut Rng, f: &Features, t: &Ty, n: usize) -> Vec<String> {
    let Ty::Rec(fs) = t else { unreachable!() };
    let mut cols: Vec<&(String, Ty)> = fs.iter().collect();
    if rng.chance(1, 3) {
        // columns in another order, and maybe a column the type does not name
        let i = rng.below(cols.len());
        let c = cols.remove(i);
        cols.push(c);
    }
    let extra = rng.chance(1, 5);
    let mut header: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
    if extra {
        header.push("zz_extra".into());
    }
    let mut lines = vec![header.join(",")];
    for _ in 0..n {
        let mut cells: Vec<String> = cols.iter().map(|(_, t)| csv_cell(rng, t)).collect();
        if extra {
            cells.push(csv_quote(rng.pick::<&str>(STRS)));
        }
        if f.malformed && rng.chance(1, 10) {
            match rng.below(3) {
                0 => {
                    let i = rng.below(cells.len());
                    cells[i] = rng.pick(&["x", "1.5", "tru", "\"\""]).to_string();
                }
                1 => {
                    cells.pop();
                }
                _ => {
                    if f.csv_extra_cells {
                        cells.push("9".into());
                    }
                }
            }
        }
        lines.push(cells.join(","));
    }
    lines
}
