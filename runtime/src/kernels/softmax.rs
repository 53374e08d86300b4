//! `softmax(v)`: `exp(v[i] - max) / sum(exp(v - max))`, numerically stable.

use super::norm::max;
use super::{LANES, V, load, store};

/// Writes the softmax of `x` into `out`. Returns `false` when the lengths differ; an empty
/// input is a no-op.
pub fn softmax(x: &[f32], out: &mut [f32]) -> bool {
    if x.len() != out.len() {
        return false;
    }
    if x.is_empty() {
        return true;
    }
    let m = max(x);
    let mv = V::splat(m);
    let body = x.len() / LANES * LANES;
    let mut acc = V::ZERO;
    for i in (0..body).step_by(LANES) {
        let e = (load(x, i) - mv).exp();
        acc += e;
        store(e, out, i);
    }
    let mut sum = acc.reduce_add();
    for i in body..x.len() {
        let mut t = [m; LANES];
        t[0] = x[i];
        let e = (load(&t, 0) - mv).exp();
        let mut o = [0.0; LANES];
        store(e, &mut o, 0);
        out[i] = o[0];
        sum += o[0];
    }
    softmax_scale(out, sum);
    true
}

/// Softmax in place (used after a dense layer).
pub fn softmax_in_place(x: &mut [f32]) {
    if x.is_empty() {
        return;
    }
    let m = max(x);
    let mv = V::splat(m);
    let body = x.len() / LANES * LANES;
    let mut sum = 0.0;
    for i in (0..body).step_by(LANES) {
        let e = (load(x, i) - mv).exp();
        sum += e.reduce_add();
        store(e, x, i);
    }
    for i in body..x.len() {
        let mut t = [m; LANES];
        t[0] = x[i];
        let mut o = [0.0; LANES];
        store((load(&t, 0) - mv).exp(), &mut o, 0);
        x[i] = o[0];
        sum += o[0];
    }
    softmax_scale(x, sum);
}

fn softmax_scale(x: &mut [f32], sum: f32) {
    let inv = 1.0 / sum;
    let body = x.len() / LANES * LANES;
    for i in (0..body).step_by(LANES) {
        let v = load(x, i) * V::splat(inv);
        store(v, x, i);
    }
    for v in &mut x[body..] {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::rand_vec;

    #[test]
    fn matches_f64() {
        for n in [1, 5, 8, 10, 33] {
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
    }
}
