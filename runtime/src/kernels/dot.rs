//! `dot(a, b)`: the inner product of two `vec[N]`.

use super::{LANES, V, load};

/// `sum(a[i] * b[i])` over the common length, accumulated in four vector lanes groups with
/// fused multiply-add where the build has FMA.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [V::ZERO; 4];
    let body = n / (4 * LANES) * (4 * LANES);
    for i in (0..body).step_by(4 * LANES) {
        for (j, acc) in acc.iter_mut().enumerate() {
            let at = i + j * LANES;
            *acc = load(a, at).mul_add(load(b, at), *acc);
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])).reduce_add();
    for i in body..n {
        s += a[i] * b[i];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::{close, rand_vec};

    #[test]
    fn matches_f64() {
        for n in [0, 1, 7, 8, 31, 32, 33, 100, 1000] {
            let (a, b) = (rand_vec(n, 1), rand_vec(n, 2));
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let scale: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64 * *y as f64).abs()).sum();
            assert!((dot(&a, &b) as f64 - want).abs() <= 1e-6 * scale.max(1.0), "n={n}");
            assert!(close(dot(&a, &b), want, 1e-4));
        }
    }
}
