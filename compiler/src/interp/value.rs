//! Run-time values of the reference interpreter, their structural equality and ordering,
//! hashable keys, and JSON / CSV text (through the runtime's number and string formatting,
//! so the interpreter prints exactly what compiled code prints).

use crate::check::types::Ty;
use kiln_runtime::io::{format_f32, format_f64, format_i64, write_json_str};
use std::cmp::Ordering;
use std::rc::Rc;

/// A value. Optionals are not wrapped: a `T?` is either `Null` or a value of `T`.
/// Records hold their fields in the record type's order.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Vec(Rc<[f32]>),
    Record(Rc<Vec<Value>>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
    pub fn list(xs: Vec<Value>) -> Value {
        Value::List(Rc::new(xs))
    }
    pub fn record(xs: Vec<Value>) -> Value {
        Value::Record(Rc::new(xs))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The number as a float (ints widen).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// Structural equality: floats as IEEE (`NaN != NaN`), an int equals the float of the
/// same value, lists, vectors and records element by element.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64() == b.as_f64()
        }
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) | (Value::Record(x), Value::Record(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (Value::Vec(x), Value::Vec(y)) => x == y,
        _ => false,
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::List(_) => 4,
        Value::Vec(_) => 5,
        Value::Record(_) => 6,
    }
}

fn cmp_f64(x: f64, y: f64) -> Ordering {
    // A total order for sorting: NaN after every number (and equal to itself).
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// The total order of sorting and `min`/`max`: null first, false < true, numbers by value
/// (NaN last), strings by code point, lists and records lexicographically.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            cmp_f64(a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0))
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        // UTF-8 byte order is code point order.
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::List(x), Value::List(y)) | (Value::Record(x), Value::Record(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Vec(x), Value::Vec(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = cmp_f64(f64::from(*p), f64::from(*q));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Appends a canonical encoding of `v` usable as a hash key: values that are [`equal`]
/// encode the same (an integral float encodes like the int; `-0.0` like `0.0`; every NaN
/// alike, so NaN keys form one group).
pub fn key_bytes(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0),
        Value::Bool(b) => out.extend_from_slice(&[1, u8::from(*b)]),
        Value::Int(n) => {
            out.push(2);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Float(f) => {
            let t = *f;
            if t.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t)
            {
                out.push(2);
                out.extend_from_slice(&(t as i64).to_le_bytes());
            } else {
                out.push(3);
                let bits = if t.is_nan() { f64::NAN.to_bits() } else { t.to_bits() };
                out.extend_from_slice(&bits.to_le_bytes());
            }
        }
        Value::Str(s) => {
            out.push(4);
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::List(xs) | Value::Record(xs) => {
            out.push(5);
            out.extend_from_slice(&(xs.len() as u64).to_le_bytes());
            xs.iter().for_each(|x| key_bytes(x, out));
        }
        Value::Vec(xs) => {
            out.push(6);
            out.extend_from_slice(&(xs.len() as u64).to_le_bytes());
            for x in xs.iter() {
                let x = if *x == 0.0 { 0.0f32 } else { *x };
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
    }
}

pub fn key_of(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    key_bytes(v, &mut out);
    out
}

/// Appends `v` as compact JSON; `ty` gives record field names (fields in declared order).
pub fn write_json(v: &Value, ty: &Ty, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(n) => format_i64(out, *n),
        Value::Float(f) => format_f64(out, *f),
        Value::Str(s) => write_json_str(out, s),
        Value::Vec(xs) => {
            out.push(b'[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                format_f32(out, *x);
            }
            out.push(b']');
        }
        Value::List(xs) => {
            let elem = match ty.strip_optional() {
                Ty::List(t) => (**t).clone(),
                _ => Ty::Error,
            };
            out.push(b'[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(x, &elem, out);
            }
            out.push(b']');
        }
        Value::Record(xs) => {
            let fields = match ty.strip_optional() {
                Ty::Record(fs) => Some(fs.clone()),
                _ => None,
            };
            out.push(b'{');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match fields.as_ref().and_then(|fs| fs.get(i)) {
                    Some(f) => {
                        write_json_str(out, &f.name);
                        out.push(b':');
                        write_json(x, &f.ty, out);
                    }
                    None => {
                        write_json_str(out, &format!("_{i}"));
                        out.push(b':');
                        write_json(x, &Ty::Error, out);
                    }
                }
            }
            out.push(b'}');
        }
    }
}

/// `str(x)`: a string as is, everything else as compact JSON.
pub fn to_text(v: &Value, ty: &Ty) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => {
            let mut out = Vec::new();
            write_json(v, ty, &mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// Appends one CSV cell: numbers as in JSON, null/NaN/infinities empty, strings quoted
/// only when needed (the runtime's CSV writer rules).
pub fn write_csv_cell(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(n) => format_i64(out, *n),
        Value::Float(f) if f.is_finite() => format_f64(out, *f),
        Value::Float(_) => {}
        Value::Str(s) => kiln_runtime::io::write::write_csv_cell(out, s.as_bytes()),
        other => {
            let text = to_text(other, &Ty::Error);
            kiln_runtime::io::write::write_csv_cell(out, text.as_bytes());
        }
    }
}
