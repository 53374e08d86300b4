//! Reductions on `vec[N]`: `norm(v)` (Euclidean), `sum(v)` and `max(v)`.

use super::{LANES, V, load};

/// The sum of all values.
pub fn sum(x: &[f32]) -> f32 {
    let body = x.len() / LANES * LANES;
    let mut acc = V::ZERO;
    for i in (0..body).step_by(LANES) {
        acc += load(x, i);
    }
    acc.reduce_add() + x[body..].iter().sum::<f32>()
}

/// The Euclidean norm `sqrt(sum(x[i]^2))`.
pub fn norm(x: &[f32]) -> f32 {
    let body = x.len() / LANES * LANES;
    let mut acc = V::ZERO;
    for i in (0..body).step_by(LANES) {
        let v = load(x, i);
        acc = v.mul_add(v, acc);
    }
    let s = acc.reduce_add() + x[body..].iter().map(|v| v * v).sum::<f32>();
    // sqrt through a vector: `f32::sqrt` is not in `core`.
    V::splat(s).sqrt().to_array()[0]
}

/// The largest value (`-inf` for an empty slice; NaN lanes are skipped).
pub fn max(x: &[f32]) -> f32 {
    let body = x.len() / LANES * LANES;
    let mut acc = V::splat(f32::NEG_INFINITY);
    for i in (0..body).step_by(LANES) {
        acc = acc.fast_max(load(x, i));
    }
    let lanes = acc.to_array();
    let m = lanes.iter().fold(f32::NEG_INFINITY, |m, v| if *v > m { *v } else { m });
    x[body..].iter().fold(m, |m, v| if *v > m { *v } else { m })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::rand_vec;

    #[test]
    fn reductions() {
        for n in [0, 1, 9, 16, 100] {
            let x = rand_vec(n, 4);
            let s: f64 = x.iter().map(|v| *v as f64).sum();
            let q: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
            assert!((sum(&x) as f64 - s).abs() < 1e-5 * (n as f64).max(1.0));
            assert!((norm(&x) as f64 - q).abs() <= 1e-6 * q.max(1.0));
            let m = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max(&x), m);
        }
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
    }
}
