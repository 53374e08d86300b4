//! Integer arithmetic with Kiln's semantics: overflow is an error, never a wrap;
//! `//` and `%` floor like Python's. `None` means the operation fails at run time.

/// `a // b`, rounding toward negative infinity. `None` on division by zero or overflow.
pub fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    if a % b != 0 && ((a < 0) != (b < 0)) { q.checked_sub(1) } else { Some(q) }
}

/// `a % b` with the sign of `b`, so `a == b * (a // b) + a % b`. `None` on division by zero.
pub fn floor_mod(a: i64, b: i64) -> Option<i64> {
    let r = a.checked_rem(b)?;
    if r != 0 && ((r < 0) != (b < 0)) { Some(r + b) } else { Some(r) }
}

/// Float floor division and modulo, as Python defines them for floats.
pub fn floor_div_f64(a: f64, b: f64) -> f64 {
    (a / b).floor()
}

pub fn floor_mod_f64(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) { r + b } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_like_python() {
        assert_eq!(floor_div(7, 2), Some(3));
        assert_eq!(floor_div(-7, 2), Some(-4));
        assert_eq!(floor_div(7, -2), Some(-4));
        assert_eq!(floor_div(-7, -2), Some(3));
        assert_eq!(floor_mod(-7, 2), Some(1));
        assert_eq!(floor_mod(7, -2), Some(-1));
        assert_eq!(floor_mod(6, -3), Some(0));
        assert_eq!(floor_div(1, 0), None);
        assert_eq!(floor_mod(1, 0), None);
        assert_eq!(floor_div(i64::MIN, -1), None);
        assert_eq!(floor_mod(i64::MIN, -1), None);
        assert_eq!(floor_mod_f64(-7.5, 2.0), 0.5);
        assert_eq!(floor_div_f64(-7.5, 2.0), -4.0);
    }
}
