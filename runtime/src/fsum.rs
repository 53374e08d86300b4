//! Exact sums (LANGUAGE.md §1.5), shared by compiled code and the interpreter.
//!
//! - [`FSum`]: a float sum that is correctly rounded — the exact sum of the values rounded
//!   once, as Python's `math.fsum` — so it depends neither on the order of the values nor on
//!   how they were split between chunks and threads ([`FSum::merge`] is exact). Shewchuk's
//!   non-overlapping partials (fsum's algorithm) while every value is below 2^970, where no
//!   partial can overflow; a value at or above 2^970 switches the sum to a fixed-point
//!   accumulator covering the whole float range ([`Wide`]). Non-finite values: a NaN, or
//!   both `inf` and `-inf`, give NaN (fsum raises ValueError for the latter); `inf` or
//!   `-inf` alone give it. A finite exact total beyond the float range rounds to `±inf`
//!   (fsum raises OverflowError).
//! - [`ratio`]: an exact `i128` total divided by a count, correctly rounded (an int `mean`).

/// Values at or above this magnitude go to the wide accumulator.
const BIG: f64 = 9.9792015476736e291; // 2^970

/// A correctly rounded float sum; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct FSum {
    partials: Vec<f64>,
    wide: Option<Box<Wide>>,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

impl FSum {
    pub fn new() -> FSum {
        FSum::default()
    }

    /// The exact sum of `xs`, rounded once.
    pub fn of(xs: impl IntoIterator<Item = f64>) -> f64 {
        let mut s = FSum::new();
        for x in xs {
            s.add(x);
        }
        s.value()
    }

    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            if x.is_nan() {
                self.nan = true;
            } else if x > 0.0 {
                self.pos_inf = true;
            } else {
                self.neg_inf = true;
            }
            return;
        }
        if let Some(w) = &mut self.wide {
            w.add(x);
            return;
        }
        if x.abs() >= BIG {
            let mut w = Box::new(Wide::new());
            for &p in &self.partials {
                w.add(p);
            }
            w.add(x);
            self.partials.clear();
            self.wide = Some(w);
            return;
        }
        // Shewchuk's algorithm (as CPython's `math_fsum`): keep `partials` non-overlapping
        // with `x` added exactly.
        let mut x = x;
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// Adds everything `other` holds (exactly: the result is the same as adding its values
    /// one by one).
    pub fn merge(&mut self, other: FSum) {
        self.nan |= other.nan;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
        match other.wide {
            Some(w) => {
                let mut mine = match self.wide.take() {
                    Some(m) => m,
                    None => {
                        let mut m = Box::new(Wide::new());
                        for &p in &self.partials {
                            m.add(p);
                        }
                        self.partials.clear();
                        m
                    }
                };
                mine.merge(&w);
                self.wide = Some(mine);
            }
            None => {
                for p in other.partials {
                    self.add(p);
                }
            }
        }
    }

    /// The sum, correctly rounded.
    pub fn value(&self) -> f64 {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return f64::NAN;
        }
        if self.pos_inf {
            return f64::INFINITY;
        }
        if self.neg_inf {
            return f64::NEG_INFINITY;
        }
        if let Some(w) = &self.wide {
            return w.value();
        }
        // CPython's final step: add the partials from the top until the sum is inexact,
        // then correct a half-way case.
        let p = &self.partials;
        let mut n = p.len();
        let mut hi = 0.0;
        if n > 0 {
            n -= 1;
            hi = p[n];
            let mut lo = 0.0;
            while n > 0 {
                let x = hi;
                n -= 1;
                let y = p[n];
                hi = x + y;
                let yr = hi - x;
                lo = y - yr;
                if lo != 0.0 {
                    break;
                }
            }
            if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
                let y = lo * 2.0;
                let x = hi + y;
                let yr = x - hi;
                if y == yr {
                    hi = x;
                }
            }
        }
        hi
    }
}

/// A fixed-point accumulator of finite floats: digit `i` weighs 2^(32·i − 1074), so every
/// float is an integer number of units; digits are signed `i64`s holding carries until
/// [`Wide::normalize`].
#[derive(Clone, Debug)]
pub struct Wide {
    digits: [i64; DIGITS],
    /// Additions since the last normalization (each adds less than 2^32 to a digit).
    pending: u32,
}

const DIGITS: usize = 70;

impl Wide {
    fn new() -> Wide {
        Wide { digits: [0; DIGITS], pending: 0 }
    }

    fn add(&mut self, x: f64) {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        // x = ±m · 2^(e − 1074), e ≥ 0.
        let (m, e) = if exp == 0 { (frac, 0) } else { (frac | (1 << 52), exp - 1) };
        let (d, s) = ((e / 32) as usize, (e % 32) as u32);
        let v = u128::from(m) << s;
        let neg = x.is_sign_negative();
        for k in 0..3 {
            let part = ((v >> (32 * k)) & 0xffff_ffff) as i64;
            if let Some(slot) = self.digits.get_mut(d + k) {
                *slot += if neg { -part } else { part };
            }
        }
        self.pending += 1;
        if self.pending >= 1 << 30 {
            self.normalize();
        }
    }

    fn merge(&mut self, other: &Wide) {
        let mut o = other.clone();
        o.normalize();
        self.normalize();
        for (a, b) in self.digits.iter_mut().zip(o.digits) {
            *a += b;
        }
        self.normalize();
    }

    /// Carries: every digit but the last in `0..2^32`; the last holds the sign.
    fn normalize(&mut self) {
        let mut carry = 0i64;
        for d in self.digits.iter_mut() {
            let v = *d + carry;
            carry = v >> 32;
            *d = v & 0xffff_ffff;
        }
        if let Some(last) = self.digits.last_mut() {
            *last += carry << 32;
        }
        self.pending = 0;
    }

    fn value(&self) -> f64 {
        let mut w = self.clone();
        w.normalize();
        let neg = w.digits[DIGITS - 1] < 0;
        if neg {
            // Negate: the magnitude, digit by digit.
            let mut carry = 0i64;
            for d in w.digits.iter_mut() {
                let v = -*d + carry;
                carry = v >> 32;
                *d = v & 0xffff_ffff;
            }
        }
        let Some(top) = w.digits.iter().rposition(|&d| d != 0) else { return 0.0 };
        // The top 128 bits (four digits, or fewer at the bottom) and whether any bit below
        // them is set.
        let low = top.saturating_sub(3);
        let mut m: u128 = 0;
        for k in (low..=top).rev() {
            m = (m << 32) | w.digits[k] as u128;
        }
        let sticky = w.digits[..low].iter().any(|&d| d != 0);
        let r = round(m, 32 * low as i32 - 1074, sticky);
        if neg { -r } else { r }
    }
}

/// `x · 2^e`, exact when the result is a normal or exactly representable float.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    let pow = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while e > 1000 {
        x *= pow(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow(-1000);
        e += 1000;
    }
    x * pow(e)
}

/// `m · 2^e` (plus less than one unit of `m` when `sticky`), correctly rounded (to nearest,
/// ties to even). A result below the normal range must be exact (`m < 2^53`, no sticky).
fn round(m: u128, e: i32, sticky: bool) -> f64 {
    if m == 0 {
        return 0.0;
    }
    if m < 1 << 53 && !sticky {
        return ldexp(m as f64, e);
    }
    let lz = m.leading_zeros() as i32;
    let m = m << lz;
    let e = e - lz;
    let top = (m >> 64) as u64;
    let sticky = sticky || (m as u64) != 0;
    let mut mant = top >> 11;
    let rem = top & 0x7ff;
    if rem > 0x400 || (rem == 0x400 && (sticky || mant & 1 == 1)) {
        mant += 1;
    }
    ldexp(mant as f64, e + 64 + 11)
}

/// `sum / n` correctly rounded (`n > 0`): the exact quotient rounded once.
pub fn ratio(sum: i128, n: i64) -> f64 {
    if n <= 0 {
        return f64::NAN;
    }
    let neg = sum < 0;
    let s = sum.unsigned_abs();
    let n = n as u128;
    let (mut q, mut r) = (s / n, s % n);
    if q == 0 && r == 0 {
        return 0.0;
    }
    // Long division until the quotient has 65 bits (53 significant ones, a rounding bit
    // and more); what remains is the sticky bit. `r < n < 2^63`, so `2r` fits.
    let mut e = 0;
    while q < 1 << 64 {
        r *= 2;
        q *= 2;
        if r >= n {
            q += 1;
            r -= n;
        }
        e -= 1;
    }
    let v = round(q, e, r != 0);
    if neg { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsum_known_values() {
        assert_eq!(FSum::of([1e100, 1.0, -1e100, 1e-100]), 1.0);
        assert_eq!(FSum::of([0.1; 10]), 1.0);
        assert_eq!(FSum::of([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]), 1e-100);
        assert_eq!(FSum::of([2.0f64.powi(53), -0.5, -2.0f64.powi(-54)]), 2.0f64.powi(53) - 1.0);
        assert_eq!(FSum::of([1.0, 1e-16, 1e-16]), 1.0000000000000002);
        assert_eq!(FSum::of([]), 0.0);
        assert_eq!(FSum::of([0.1, 0.2, 0.3]), 0.6);
        assert_eq!(FSum::of([1e308, 1e308, -1e308]), 1e308);
        assert_eq!(FSum::of([1.7976931348623157e308, 1e292]), f64::INFINITY);
        assert_eq!(FSum::of([-1e308, -1e308]), f64::NEG_INFINITY);
        assert_eq!(FSum::of([5e-324, 5e-324, -5e-324]), 5e-324);
        assert!(FSum::of([f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert!(FSum::of([1.0, f64::NAN]).is_nan());
        assert_eq!(FSum::of([1.0, f64::INFINITY, 1e308, 1e308]), f64::INFINITY);
    }

    #[test]
    fn wide_matches_partials() {
        // The same values through the partials and (with one huge value added and taken
        // away) through the wide accumulator.
        let xs: Vec<f64> = (0..500)
            .map(|i| {
                let i = i as f64;
                (i * 0.37).sin() * 10f64.powi((i as i32 % 40) - 20) + 1e-300 * i
            })
            .collect();
        let a = FSum::of(xs.iter().copied());
        let mut w = FSum::new();
        w.add(1e300);
        for &x in &xs {
            w.add(x);
        }
        w.add(-1e300);
        assert!(w.wide.is_some());
        assert_eq!(w.value(), a);
    }

    #[test]
    fn merge_is_exact_for_any_split() {
        let xs: Vec<f64> =
            (1..300).map(|i| 1.0 / i as f64 * if i % 3 == 0 { -1e10 } else { 1.0 }).collect();
        let whole = FSum::of(xs.iter().copied());
        for cut in [0, 1, 7, 150, 298] {
            let mut a = FSum::new();
            let mut b = FSum::new();
            xs[..cut].iter().for_each(|&x| a.add(x));
            xs[cut..].iter().rev().for_each(|&x| b.add(x));
            a.merge(b);
            assert_eq!(a.value(), whole, "cut {cut}");
        }
        let mut a = FSum::new();
        a.add(3.0);
        let mut b = FSum::new();
        b.add(1e300);
        b.add(-1e300);
        b.add(0.5);
        a.merge(b);
        assert_eq!(a.value(), 3.5);
    }

    #[test]
    fn ratio_is_correctly_rounded() {
        assert_eq!(ratio(1, 3), 1.0 / 3.0);
        assert_eq!(ratio(-7, 2), -3.5);
        assert_eq!(ratio(0, 5), 0.0);
        assert_eq!(ratio(10, 1), 10.0);
        // Near 1e15 the f64 running sum of the values is off; the exact one is not.
        let s: i128 = 999_999_999_999_999 + 999_999_999_999_998 + 3;
        assert_eq!(ratio(s, 3), 2e15 / 3.0);
        assert_ne!(
            ratio(s, 3),
            (999_999_999_999_999.0 + 999_999_999_999_998.0 + 3.0) / 3.0 + 0.125
        );
        // A total beyond i64 and beyond 2^64.
        let big = i128::from(i64::MAX) * 4 + 1;
        assert_eq!(ratio(big, 4), 9223372036854775807.25);
        assert_eq!(ratio(i128::from(i64::MAX) * 3, 3), i64::MAX as f64);
        // A tie: (2^54 + 2) / 2 = 2^53 + 1 rounds to even (2^53); + 6 / 2 to 2^53 + 4.
        assert_eq!(ratio((1 << 54) + 2, 2), 2f64.powi(53));
        assert_eq!(ratio((1 << 54) + 6, 2), 2f64.powi(53) + 4.0);
        assert_eq!(ratio(1, i64::MAX), 1.0 / i64::MAX as f64);
    }
}
