//! Number scanning shared by the JSON and CSV decoders: one pass validates the JSON number
//! grammar and gathers the decimal mantissa and exponent, so integers never go through
//! floating point and most floats take an exact fast path (Clinger's: a mantissa and a
//! power of ten both exactly representable, combined by one correctly rounded operation).
//! Anything else falls back to the standard library's correctly rounded parser.

/// A number scanned at the start of a byte string: `(-1)^neg * mant * 10^exp10`, exact
/// unless `truncated` (more than 19 significant digits).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scanned {
    /// Bytes taken by the number.
    pub end: usize,
    pub neg: bool,
    pub mant: u64,
    pub exp10: i64,
    pub truncated: bool,
    /// No fraction and no exponent.
    pub integer: bool,
}

/// Scans a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) at the start of
/// `s`. `None` when `s` does not start with one.
pub(crate) fn scan(s: &[u8]) -> Option<Scanned> {
    let mut i = 0;
    let neg = s.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    let mut mant: u64 = 0;
    let mut sig = 0u32;
    let mut exp10: i64 = 0;
    let mut truncated = false;
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while let Some(&c @ b'0'..=b'9') = s.get(i) {
                if sig < 19 {
                    mant = mant * 10 + u64::from(c - b'0');
                    sig += 1;
                } else {
                    truncated |= c != b'0';
                    exp10 += 1;
                }
                i += 1;
            }
        }
        _ => return None,
    }
    let mut integer = true;
    if s.get(i) == Some(&b'.') {
        integer = false;
        i += 1;
        let start = i;
        while let Some(&c @ b'0'..=b'9') = s.get(i) {
            if sig < 19 {
                mant = mant * 10 + u64::from(c - b'0');
                if mant != 0 {
                    sig += 1;
                }
                exp10 -= 1;
            } else {
                truncated |= c != b'0';
            }
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if let Some(b'e' | b'E') = s.get(i) {
        integer = false;
        i += 1;
        let eneg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(&c @ b'0'..=b'9') = s.get(i) {
            e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if eneg { -e } else { e };
    }
    Some(Scanned { end: i, neg, mant, exp10, truncated, integer })
}

/// Why a number does not fit the wanted type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NumError {
    /// It has a fraction or an exponent (for `int`).
    NotInteger,
    /// It is out of range (beyond i64, or overflowing to infinity).
    Range,
}

impl Scanned {
    pub fn to_i64(self) -> Result<i64, NumError> {
        if !self.integer {
            return Err(NumError::NotInteger);
        }
        if self.truncated || self.exp10 != 0 {
            return Err(NumError::Range);
        }
        if self.neg {
            if self.mant <= 1 << 63 {
                Ok((self.mant as i64).wrapping_neg())
            } else {
                Err(NumError::Range)
            }
        } else {
            i64::try_from(self.mant).map_err(|_| NumError::Range)
        }
    }

    /// The closest f64. `text` is the scanned number's text (for the slow path).
    pub fn to_f64(self, text: &[u8]) -> Result<f64, NumError> {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let v = if !self.truncated && self.mant <= 1 << 53 && self.exp10.abs() <= 22 {
            let m = self.mant as f64;
            let p = POW10[self.exp10.unsigned_abs() as usize];
            if self.exp10 >= 0 { m * p } else { m / p }
        } else if self.mant == 0 && !self.truncated {
            0.0
        } else {
            let t = std::str::from_utf8(text).map_err(|_| NumError::Range)?;
            return match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(NumError::Range),
            };
        };
        Ok(if self.neg { -v } else { v })
    }

    /// The closest f32 (rounded once, from the decimal text, never through f64).
    pub fn to_f32(self, text: &[u8]) -> Result<f32, NumError> {
        const POW10: [f32; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];
        let v = if !self.truncated && self.mant <= 1 << 24 && self.exp10.abs() <= 10 {
            let m = self.mant as f32;
            let p = POW10[self.exp10.unsigned_abs() as usize];
            if self.exp10 >= 0 { m * p } else { m / p }
        } else if self.mant == 0 && !self.truncated {
            0.0
        } else {
            let t = std::str::from_utf8(text).map_err(|_| NumError::Range)?;
            return match t.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(NumError::Range),
            };
        };
        Ok(if self.neg { -v } else { v })
    }
}

/// Scans a whole byte string as one number (CSV cells). `None` when it is not exactly a
/// number in JSON syntax (a leading `+` is also accepted).
pub(crate) fn scan_all(s: &[u8]) -> Option<(Scanned, &[u8])> {
    let t = match s.strip_prefix(b"+") {
        Some(rest) if rest.first() != Some(&b'-') => rest,
        Some(_) => return None,
        None => s,
    };
    let n = scan(t)?;
    (n.end == t.len()).then_some((n, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_of(s: &str) -> Result<f64, NumError> {
        let (n, t) = scan_all(s.as_bytes()).expect("a number");
        n.to_f64(t)
    }

    fn i64_of(s: &str) -> Result<i64, NumError> {
        scan_all(s.as_bytes()).expect("a number").0.to_i64()
    }

    #[test]
    fn integers_are_exact_and_checked() {
        assert_eq!(i64_of("0"), Ok(0));
        assert_eq!(i64_of("-0"), Ok(0));
        assert_eq!(i64_of("+7"), Ok(7));
        assert_eq!(i64_of("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(i64_of("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(i64_of("9223372036854775808"), Err(NumError::Range));
        assert_eq!(i64_of("-9223372036854775809"), Err(NumError::Range));
        assert_eq!(i64_of("100000000000000000000"), Err(NumError::Range));
        assert_eq!(i64_of("1.5"), Err(NumError::NotInteger));
        assert_eq!(i64_of("1e3"), Err(NumError::NotInteger));
        assert_eq!(i64_of("1.0"), Err(NumError::NotInteger));
    }

    #[test]
    fn grammar_is_jsons() {
        for bad in
            ["", "-", "01", "1.", ".5", "1e", "1e+", "--1", "+-1", "0x10", "1 ", "NaN", "inf"]
        {
            assert!(scan_all(bad.as_bytes()).is_none(), "{bad:?} accepted");
        }
        assert_eq!(scan(b"12,").map(|n| n.end), Some(2));
        assert_eq!(scan(b"-0.5e-3]").map(|n| n.end), Some(7));
    }

    #[test]
    fn floats_round_correctly() {
        for s in [
            "0.1",
            "0.2",
            "0.30000000000000004",
            "2.0",
            "1e300",
            "-1e-300",
            "5e-324",
            "1.7976931348623157e308",
            "123456789012345678901234567890",
            "0.000000000000000000000000000001",
            "3.141592653589793238462643383279",
            "9007199254740993",
            "2.2250738585072011e-308",
            "1e22",
            "1e23",
            "-0.0",
            "4.35",
            "0e0",
            "0.00",
        ] {
            assert_eq!(f64_of(s).map(f64::to_bits), Ok(s.parse::<f64>().unwrap().to_bits()), "{s}");
            let (n, t) = scan_all(s.as_bytes()).unwrap();
            if let Ok(want) = s.parse::<f32>()
                && want.is_finite()
            {
                assert_eq!(n.to_f32(t).map(f32::to_bits), Ok(want.to_bits()), "f32 {s}");
            }
        }
        assert_eq!(f64_of("1e400"), Err(NumError::Range));
        assert_eq!(f64_of("1e-400"), Ok(0.0));
        let (n, t) = scan_all(b"1e39").unwrap();
        assert_eq!(n.to_f32(t), Err(NumError::Range));
        let (n, t) = scan_all(b"16777217").unwrap();
        assert_eq!(n.to_f32(t), Ok(16777216.0));
    }
}
