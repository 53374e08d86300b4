//! `argmax(v)`: the index of the first largest value.

/// The index of the first largest value, or `None` for an empty slice. NaN values are
/// never chosen unless every value is NaN (then 0).
pub fn argmax(x: &[f32]) -> Option<usize> {
    if x.is_empty() {
        return None;
    }
    let mut best = 0;
    let mut bv = f32::NAN;
    for (i, v) in x.iter().enumerate() {
        if *v > bv || (bv.is_nan() && !v.is_nan()) {
            best = i;
            bv = *v;
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_largest() {
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, -1.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, -5.0, -2.0]), Some(2));
        assert_eq!(argmax(&[f32::NAN]), Some(0));
    }
}
