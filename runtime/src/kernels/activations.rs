//! Elementwise activations on `vec[N]`: `relu`, `sigmoid`, `tanh` (and `linear`).

use super::partial::{load_n, store_n};
use super::{Act, LANES, V, activate, load, store};

/// `1 / (1 + e^-x)` on each lane.
#[inline(always)]
pub fn sigmoid_v(v: V) -> V {
    V::ONE / (V::ONE + (-v).exp())
}

/// `tanh` on each lane, as `expm1(2x) / (expm1(2x) + 2)`, which keeps full relative
/// precision near zero; inputs are clamped to ±9 where `tanh` is ±1 in `f32`.
#[inline(always)]
pub fn tanh_v(v: V) -> V {
    let x = v.max(V::splat(-9.0)).min(V::splat(9.0));
    let e = (x + x).exp_m1();
    e / (e + V::splat(2.0))
}

/// `out[i] = act(x[i])` for an elementwise activation (`Softmax` is rejected: use
/// [`super::softmax::softmax`]).
///
/// Returns `false` (and writes nothing) when the lengths differ or `act` is `Softmax`.
pub fn map(act: Act, x: &[f32], out: &mut [f32]) -> bool {
    if x.len() != out.len() || act == Act::Softmax {
        return false;
    }
    let body = x.len() / LANES * LANES;
    for i in (0..body).step_by(LANES) {
        store(activate(load(x, i), act), out, i);
    }
    if body < x.len() {
        store_n(activate(load_n(x, body, x.len() - body, 0.0), act), out, body, x.len() - body);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::{close, rand_vec};

    #[test]
    fn matches_f64() {
        let mut x = rand_vec(37, 3);
        x.iter_mut().for_each(|v| *v *= 12.0);
        x.extend([0.0, 1e-6, -1e-6, 80.0, -80.0, 200.0, -200.0]);
        let mut out = vec![0.0; x.len()];
        for (act, f) in [
            (Act::Relu, (|v: f64| v.max(0.0)) as fn(f64) -> f64),
            (Act::Sigmoid, |v: f64| 1.0 / (1.0 + (-v).exp())),
            (Act::Tanh, f64::tanh),
            (Act::Linear, |v: f64| v),
        ] {
            assert!(map(act, &x, &mut out));
            for (a, b) in out.iter().zip(&x) {
                let want = f(*b as f64);
                let tol = if want.abs() < 1e-30 { 0.0 } else { 2e-6 * want.abs() };
                assert!(
                    (*a as f64 - want).abs() <= tol.max(1e-37),
                    "{act:?}({b}) = {a}, want {want}"
                );
                assert!(close(*a, want, 2e-6));
            }
        }
        assert!(!map(Act::Softmax, &x, &mut out));
        assert!(!map(Act::Relu, &x, &mut out[1..]));
    }
}
