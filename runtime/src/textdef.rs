//! Text functions with a precise definition: `tokens`, `hash_embed`, and the number
//! parsing of `parse_int` / `parse_float` (also used for params and CSV cells). They live
//! in the runtime so the interpreter (`kiln::interp::text` re-exports them) and the
//! kernels compiled code calls (`crate::strfn`) share one definition.

/// The maximal runs of Unicode alphanumeric characters (`char::is_alphanumeric`), each
/// lower-cased (`str::to_lowercase`).
pub fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// FNV-1a, 64 bits, over bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `hash_embed(s, n)`: for each token `t` of `tokens(s)`, `h = fnv1a64(utf8(t))` adds
/// `+1` (bit 63 of `h` clear) or `-1` (set) at index `h % n`; the counts (exact in f64)
/// are divided by their L2 norm (computed in f64) and rounded to f32. No tokens, or
/// counts that cancel out, give the zero vector. Identical on every platform.
pub fn hash_embed(s: &str, n: usize) -> Vec<f32> {
    let mut acc = vec![0.0f64; n];
    if n == 0 {
        return Vec::new();
    }
    for t in tokens(s) {
        let h = fnv1a64(t.as_bytes());
        let i = (h % n as u64) as usize;
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        if let Some(a) = acc.get_mut(i) {
            *a += sign;
        }
    }
    let norm = acc.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 {
        return vec![0.0; n];
    }
    acc.iter().map(|x| (x / norm) as f32).collect()
}

/// Why a text is not a number.
#[derive(Debug, PartialEq, Eq)]
pub enum NumErr {
    NotANumber,
    OutOfRange,
}

/// A decimal integer: optional sign, digits (no `_`), surrounding whitespace allowed.
pub fn parse_int(s: &str) -> Result<i64, NumErr> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumErr::NotANumber);
    }
    t.parse::<i64>().map_err(|_| NumErr::OutOfRange)
}

/// Whether `t` is a number as JSON writes it, with an optional leading `+`, and also
/// `.5` / `5.` forms: `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?`.
pub fn is_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i > int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits |= i > frac;
    }
    if !digits {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp {
            return false;
        }
    }
    i == b.len()
}

/// A decimal number (`3.5`, `-1e-3`, `7`), surrounding whitespace allowed; `inf`, `nan`
/// and numbers too large for a float are rejected.
pub fn parse_float(s: &str) -> Result<f64, NumErr> {
    let t = s.trim();
    if !is_number(t) {
        return Err(NumErr::NotANumber);
    }
    let v: f64 = t.parse().map_err(|_| NumErr::NotANumber)?;
    if v.is_finite() { Ok(v) } else { Err(NumErr::OutOfRange) }
}

/// Text shortened to about 40 characters for messages.
pub fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_hashes_are_defined() {
        assert_eq!(tokens("Hello, World! x2 ÀB"), ["hello", "world", "x2", "àb"]);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let v = hash_embed("a b a", 8);
        let n: f32 = v.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-6);
        assert_eq!(hash_embed("!!", 4), vec![0.0; 4]);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int(" 42 "), Ok(42));
        assert_eq!(parse_int("+7"), Ok(7));
        assert_eq!(parse_int("1_000"), Err(NumErr::NotANumber));
        assert_eq!(parse_int("99999999999999999999"), Err(NumErr::OutOfRange));
        assert_eq!(parse_float("1e3"), Ok(1000.0));
        assert_eq!(parse_float(".5"), Ok(0.5));
        assert_eq!(parse_float("inf"), Err(NumErr::NotANumber));
        assert_eq!(parse_float("1e999"), Err(NumErr::OutOfRange));
        assert_eq!(parse_float("1e"), Err(NumErr::NotANumber));
    }
}
