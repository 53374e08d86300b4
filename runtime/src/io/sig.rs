//! A text form of [`TypeDesc`] in Kiln's own type syntax, so generated code (JIT or AOT) can
//! hand a type to the C ABI as a string constant: `int`, `float`, `bool`, `str`, `vec[N]`,
//! `[T]`, `{ name: T, ... }`, `T?`. Field names are identifiers, or JSON strings for any
//! other name (`{ "a b": int }`).

use crate::layout::TypeDesc;

/// Parses a type. The error says what was expected where.
pub fn parse_type(text: &str) -> Result<TypeDesc, String> {
    let mut p = P { s: text.as_bytes(), i: 0 };
    let t = p.ty(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("end of the type"));
    }
    Ok(t)
}

/// Prints a type so that [`parse_type`] reads it back.
pub fn type_to_string(t: &TypeDesc) -> String {
    let mut s = String::new();
    print(t, &mut s);
    s
}

fn print(t: &TypeDesc, s: &mut String) {
    match t {
        TypeDesc::Int => s.push_str("int"),
        TypeDesc::Float => s.push_str("float"),
        TypeDesc::Bool => s.push_str("bool"),
        TypeDesc::Str => s.push_str("str"),
        TypeDesc::Vec(n) => s.push_str(&format!("vec[{n}]")),
        TypeDesc::List(e) => {
            s.push('[');
            print(e, s);
            s.push(']');
        }
        TypeDesc::Optional(e) => {
            print(e, s);
            s.push('?');
        }
        TypeDesc::Record(fields) => {
            s.push('{');
            for (i, (name, ft)) in fields.iter().enumerate() {
                s.push_str(if i == 0 { " " } else { ", " });
                if is_ident(name) {
                    s.push_str(name);
                } else {
                    let mut q = Vec::new();
                    super::write::write_json_str(&mut q, name);
                    s.push_str(&String::from_utf8_lossy(&q));
                }
                s.push_str(": ");
                print(ft, s);
            }
            s.push_str(if fields.is_empty() { "}" } else { " }" });
        }
    }
}

fn is_ident(name: &str) -> bool {
    let mut b = name.bytes();
    matches!(b.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_'))
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("type text: expected {what} at byte {}", self.i + 1)
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        let word = std::str::from_utf8(self.s.get(start..self.i)?).ok()?;
        is_ident(word).then(|| word.to_string())
    }

    fn ty(&mut self, depth: u32) -> Result<TypeDesc, String> {
        if depth > 64 {
            return Err(self.err("a less deeply nested type"));
        }
        let mut t = if self.eat(b'[') {
            let e = self.ty(depth + 1)?;
            if !self.eat(b']') {
                return Err(self.err("`]`"));
            }
            TypeDesc::List(Box::new(e))
        } else if self.eat(b'{') {
            let mut fields = Vec::new();
            while !self.eat(b'}') {
                let name = if self.s.get(self.i) == Some(&b'"') {
                    self.quoted()?
                } else {
                    self.field_name()?
                };
                if !self.eat(b':') {
                    return Err(self.err("`:`"));
                }
                fields.push((name, self.ty(depth + 1)?));
                if !self.eat(b',') {
                    if !self.eat(b'}') {
                        return Err(self.err("`,` or `}`"));
                    }
                    break;
                }
            }
            TypeDesc::Record(fields)
        } else {
            let start = self.i;
            match self.ident().as_deref() {
                Some("int") => TypeDesc::Int,
                Some("float") => TypeDesc::Float,
                Some("bool") => TypeDesc::Bool,
                Some("str") => TypeDesc::Str,
                Some("vec") => {
                    if !self.eat(b'[') {
                        return Err(self.err("`[` after vec"));
                    }
                    self.ws();
                    let ds = self.i;
                    while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                        self.i += 1;
                    }
                    let n = std::str::from_utf8(self.s.get(ds..self.i).unwrap_or(&[]))
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .ok_or_else(|| self.err("a vector length"))?;
                    if !self.eat(b']') {
                        return Err(self.err("`]`"));
                    }
                    TypeDesc::Vec(n)
                }
                _ => {
                    self.i = start;
                    return Err(self.err("a type"));
                }
            }
        };
        while self.eat(b'?') {
            t = TypeDesc::Optional(Box::new(t));
        }
        Ok(t)
    }

    fn field_name(&mut self) -> Result<String, String> {
        self.ident().ok_or_else(|| self.err("a field name"))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let rest = self.s.get(self.i..).unwrap_or(&[]);
        let mut de = serde_json::Deserializer::from_slice(rest).into_iter::<String>();
        match de.next() {
            Some(Ok(name)) => {
                self.i += de.byte_offset();
                Ok(name)
            }
            _ => Err(self.err("a field name")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "int",
            "{ id: int, text: str, stars: int, tags: [str]? }",
            "[{ a: vec[4], b: { c: bool?, d: float }? }]",
            "{}",
            "{ \"a b\": int, \"\\\"\": str }",
            "int??",
        ] {
            let t = parse_type(text).unwrap();
            assert_eq!(type_to_string(&t), text);
            assert_eq!(parse_type(&type_to_string(&t)).unwrap(), t);
        }
        assert_eq!(
            parse_type(" { a : int , } ").unwrap(),
            TypeDesc::Record(vec![("a".into(), TypeDesc::Int)])
        );
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(parse_type("{ a: in }").unwrap_err(), "type text: expected a type at byte 6");
        assert!(parse_type("vec[x]").is_err());
        assert!(parse_type("[int").is_err());
        assert!(parse_type("int int").is_err());
        assert!(parse_type(&"[".repeat(100)).is_err());
        assert!(parse_type("{ 1a: int }").is_err());
    }
}
