//! `softmax(v)`: `exp(v[i] - max) / sum(exp(v - max))`, numerically stable.
//!
//! Every `exp` is a vector operation: a tail shorter than a vector is padded (one vector
//! `exp` for the rows of 10 classes a classifier ends with, not ten). The `exp` is
//! [`exp_le0`], for the arguments a softmax has (`x - max <= 0`, `-inf` or NaN).

use super::norm::max;
use super::partial::{load_n, store_n};
use super::{LANES, NV, V, load, store};
use wide::bytemuck::cast;

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
        let e = exp_le0(load(x, i) - mv);
        acc += e;
        store(e, x, i);
    }
    // Padding lanes are -inf, so their `exp` is 0.
    let tail = exp_le0(load_n(x, body, rest, f32::NEG_INFINITY) - mv);
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
    let top = V::splat(super::lanes::max_lane(mx));
    let mut sum = V::ZERO;
    for j in 0..used {
        v[j] = exp_le0(v[j] - top);
        sum += v[j];
    }
    let inv = V::splat(1.0 / sum.reduce_add());
    for j in 0..used {
        store_n(v[j] * inv, row, j * LANES, m - j * LANES);
    }
}

/// The integer vector of [`V`]'s width.
#[cfg(kiln_level = "v4")]
type VI = wide::i32x16;
/// The integer vector of [`V`]'s width.
#[cfg(not(kiln_level = "v4"))]
type VI = wide::i32x8;

/// `e^d` on each lane for `d <= 0`, `-inf` (0) or NaN (NaN): the reduction and polynomial
/// of `wide`'s `exp` (within an ulp or two of `f64`), without its branches and fix-ups for
/// the other arguments. Results below `f32::MIN_POSITIVE` (`d < -87.33`) are 0; in a
/// softmax they are divided by a sum of at least 1, so the difference is below 1.2e-38.
/// About half the latency of `wide`'s, which had a quarter of a 10-class classifier's last
/// layer to itself (the `-inf` padding lanes also sent it down its subnormal path).
#[inline(always)]
pub fn exp_le0(d: V) -> V {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let underflow = d.simd_lt(V::splat(-87.33));
    let r = (d * V::LOG2_E).round_ties_even();
    let f = r.mul_neg_add(V::splat(LN2_HI), d);
    let f = r.mul_neg_add(V::splat(LN2_LO), f);
    let (f2, c) = (f * f, |v: f32| V::splat(v));
    let f4 = f2 * f2;
    let p = c(1.0 / 120.0).mul_add(f, c(1.0 / 24.0)).mul_add(
        f2,
        c(1.0 / 5040.0).mul_add(f, c(1.0 / 720.0)).mul_add(f4, c(1.0 / 6.0).mul_add(f, c(0.5))),
    );
    let z = p.mul_add(f2, f) + V::ONE;
    // 2^r for r in [-126, 0]: r + 127 as the exponent bits (the sum below puts r + 127 in
    // the low mantissa bits, and the shift moves it into the exponent).
    let bits = cast::<V, VI>(r + V::splat(127.0 + 8_388_608.0)) << 23;
    underflow.select(V::ZERO, z * cast::<VI, V>(bits))
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

    #[test]
    fn exp_le0_matches_f64() {
        let mut d: Vec<f32> = (0..=4000).map(|i| -(i as f32) * 0.0219).collect();
        d.extend([0.0, -0.0, -1e-30, -0.5, -0.34657, -0.34658, -87.3, -87.34, -100.0, -1e6]);
        for &x in &d {
            let got = exp_le0(V::splat(x)).to_array()[0];
            let want = (x as f64).exp();
            let want = if want < f32::MIN_POSITIVE as f64 { 0.0 } else { want };
            assert!((got as f64 - want).abs() <= 2.5e-7 * want, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp_le0(V::splat(f32::NEG_INFINITY)).to_array()[0], 0.0);
        assert!(exp_le0(V::splat(f32::NAN)).to_array()[0].is_nan());
    }
}
