//! `softmax(v)`: `exp(v[i] - max) / sum(exp(v - max))`, numerically stable.
//!
//! Every `exp` is a vector operation: a tail shorter than a vector is padded (one vector
//! `exp` for the rows of 10 classes a classifier ends with, not ten).

use super::norm::max;
use super::partial::{load_n, store_n};
use super::{LANES, NV, V, load, store};

/// Writes the softmax of `x` into `out`. Returns `false` when the lengths differ; an empty
/// input is a no-op.
pub fn softmax(x: &[f32], out: &mut [f32]) -> bool {
    if x.len() != out.len() {
        return false;
    }
    out.copy_from_slice(x);
    softmax_in_place(out);
    true
}

/// Softmax in place (also used after a dense layer wider than one panel).
pub fn softmax_in_place(x: &mut [f32]) {
    if x.is_empty() {
        return;
    }
    let mv = V::splat(max(x));
    let (body, rest) = (x.len() / LANES * LANES, x.len() % LANES);
    let mut acc = V::ZERO;
    for i in (0..body).step_by(LANES) {
        let e = (load(x, i) - mv).exp();
        acc += e;
        store(e, x, i);
    }
    // Padding lanes are -inf, so their `exp` is 0.
    let tail = (load_n(x, body, rest, f32::NEG_INFINITY) - mv).exp();
    let inv = V::splat(1.0 / (acc + tail).reduce_add());
    for i in (0..body).step_by(LANES) {
        store(load(x, i) * inv, x, i);
    }
    store_n(tail * inv, x, body, rest);
}

/// The softmax of a row that fits one weight panel (`row.len() <= NR`), fused into the
/// dense layer's epilogue: the sums `acc` plus `bias` never leave the registers.
#[inline(always)]
pub fn softmax_panel(acc: &[V; NV], bias: &[f32], row: &mut [f32]) {
    let m = row.len();
    // Vectors wholly past the row are skipped; in the last one, lanes past the row are
    // -inf: they lose the max and their `exp` is 0.
    let used = m.div_ceil(LANES).min(NV);
    let mut v = [V::ZERO; NV];
    let mut mx = V::splat(f32::NEG_INFINITY);
    for j in 0..used {
        v[j] = acc[j] + load_n(bias, j * LANES, m - j * LANES, f32::NEG_INFINITY);
        mx = mx.fast_max(v[j]);
    }
    let top = V::splat(mx.to_array().iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b)));
    let mut sum = V::ZERO;
    for j in 0..used {
        v[j] = (v[j] - top).exp();
        sum += v[j];
    }
    let inv = V::splat(1.0 / sum.reduce_add());
    for j in 0..used {
        store_n(v[j] * inv, row, j * LANES, m - j * LANES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::rand_vec;

    #[test]
    fn matches_f64() {
        for n in [1, 5, 8, 10, 16, 17, 33] {
            let mut x = rand_vec(n, 9);
            x.iter_mut().for_each(|v| *v *= 30.0);
            let m = x.iter().cloned().fold(f64::MIN, |a, b| a.max(b as f64));
            let s: f64 = x.iter().map(|v| (*v as f64 - m).exp()).sum();
            let mut out = vec![0.0; n];
            assert!(softmax(&x, &mut out));
            let mut inplace = x.clone();
            softmax_in_place(&mut inplace);
            for i in 0..n {
                let want = (x[i] as f64 - m).exp() / s;
                assert!(
                    (out[i] as f64 - want).abs() <= 1e-6 * want.max(1e-3),
                    "{i}: {} vs {want}",
                    out[i]
                );
                assert!((inplace[i] - out[i]).abs() <= 1e-6);
            }
        }
        assert!(!softmax(&[1.0], &mut []));
    }
}
