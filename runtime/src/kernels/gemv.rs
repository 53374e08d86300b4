//! GEMV: one row through a dense layer, `y = act(W x + b)`, bias and activation fused.
//!
//! Per panel of `NR` outputs (see [`super::pack`]) the kernel keeps `U` independent sets of
//! accumulators (so consecutive multiply-adds do not wait on each other), walks the inputs
//! `U` at a time, and sums the sets in the epilogue.

use super::gemm::{epilogue, fused_softmax, shapes_ok};
use super::pack::panels;
use super::softmax::softmax_in_place;
use super::{Act, LANES, NR, NV, V};

/// Independent accumulator sets: eight vector accumulators in all.
const U: usize = 8 / NV;

/// `y = act(W x + b)` for one row: `x` has `k` values, `y` gets `m`. `w` and `bias` come
/// from [`super::pack`]. Returns `false` (writing nothing) on a shape mismatch.
pub fn gemv(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    k: usize,
    m: usize,
    act: Act,
) -> bool {
    if !shapes_ok(w, bias, x, y, 1, k, m) {
        return false;
    }
    let body = k / U * U;
    for p in 0..panels(m) {
        let panel = &w[p * k * NR..(p + 1) * k * NR];
        let bp = panel.as_ptr();
        let mut acc = [[V::ZERO; NV]; U];
        let mut kk = 0;
        while kk < body {
            for (u, acc) in acc.iter_mut().enumerate() {
                let a = V::splat(x[kk + u]);
                for (j, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: kk + u < k and j*LANES + LANES <= NR, inside the k*NR panel;
                    // `V` is plain f32 lanes and the read is unaligned.
                    let b = unsafe {
                        core::ptr::read_unaligned(bp.add((kk + u) * NR + j * LANES) as *const V)
                    };
                    *acc = a.mul_add(b, *acc);
                }
            }
            kk += U;
        }
        for kk in body..k {
            let a = V::splat(x[kk]);
            for (j, acc) in acc[0].iter_mut().enumerate() {
                *acc = a.mul_add(super::load(panel, kk * NR + j * LANES), *acc);
            }
        }
        let mut sum = acc[0];
        for set in &acc[1..] {
            for j in 0..NV {
                sum[j] += set[j];
            }
        }
        epilogue(&sum, bias, p, act, &mut y[..m]);
    }
    if act == Act::Softmax && !fused_softmax(m) {
        softmax_in_place(&mut y[..m]);
    }
    true
}

/// One dense layer for `n` rows: [`gemv`] for a single row, [`super::gemm::gemm`] otherwise.
#[allow(clippy::too_many_arguments)]
pub fn dense(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    n: usize,
    k: usize,
    m: usize,
    act: Act,
) -> bool {
    if n == 1 {
        gemv(w, bias, x, y, k, m, act)
    } else {
        super::gemm::gemm(w, bias, x, y, n, k, m, act)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm::tests::{check, reference};
    use crate::kernels::pack::{pack_bias, pack_weights};
    use crate::kernels::testutil::rand_vec;

    #[test]
    fn matches_reference() {
        for &(k, m) in &[(1, 1), (3, 2), (64, 10), (784, 128), (33, 65), (7, 32)] {
            let w = rand_vec(m * k, 21);
            let b = rand_vec(m, 22);
            let x = rand_vec(k, 23);
            let (pw, pb) = (pack_weights(&w, k, m).unwrap(), pack_bias(&b));
            for act in [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax] {
                let mut y = vec![f32::NAN; m];
                assert!(gemv(&pw, &pb, &x, &mut y, k, m, act));
                check(&y, &reference(&w, &b, &x, k, m, act), &format!("{k}x{m} {act:?}"));
                let mut y2 = vec![f32::NAN; m];
                assert!(dense(&pw, &pb, &x, &mut y2, 1, k, m, act));
                assert_eq!(y, y2);
            }
        }
        assert!(!gemv(&[], &[], &[], &mut [], 1, 1, Act::Relu));
    }
}
