//! GEMV: one row through a dense layer, `y = act(W x + b)`, bias and activation fused.
//!
//! Per panel of `NR` outputs (see [`super::pack`]) the kernel keeps `U` independent sets of
//! accumulators (so consecutive multiply-adds do not wait on each other), walks the inputs
//! `U` at a time, and sums the sets in the epilogue.

use super::gemm::{epilogue, fused_softmax, shapes_ok};
use super::pack::{bias_len, packed_len, panels};
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
    gemv_panels(w, bias, x, &mut y[..m], k, m, 0, panels(m), act);
    if act == Act::Softmax && !fused_softmax(m) {
        softmax_in_place(&mut y[..m]);
    }
    true
}

/// The output panels `p0..p1` of [`gemv`] (every panel is computed the same way whatever
/// the range, so two threads computing halves of a layer give the bits of one): `cols`
/// holds the columns `p0*NR .. min(p1*NR, m)` of the row. A softmax wider than one panel
/// is not applied (the caller does it once all panels are done). Returns `false` (writing
/// nothing) on a shape mismatch.
#[allow(clippy::too_many_arguments)]
pub fn gemv_panels(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    cols: &mut [f32],
    k: usize,
    m: usize,
    p0: usize,
    p1: usize,
    act: Act,
) -> bool {
    let ok = k > 0
        && m > 0
        && p0 < p1
        && p1 <= panels(m)
        && w.len() >= packed_len(k, m)
        && bias.len() >= bias_len(m)
        && x.len() >= k
        && cols.len() == (p1 * NR).min(m) - p0 * NR;
    if !ok {
        return false;
    }
    let body = k / U * U;
    let fused = fused_softmax(m);
    for p in p0..p1 {
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
        let c0 = (p - p0) * NR;
        let c1 = (c0 + NR).min(cols.len());
        epilogue(&sum, &bias[p * NR..], act, &mut cols[c0..c1], fused);
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

    #[test]
    fn panel_ranges_give_the_bits_of_the_whole_row() {
        for &(k, m) in &[(784, 128), (33, 65), (5, 97), (64, 64), (10, 33)] {
            let w = rand_vec(m * k, 31);
            let (b, x) = (rand_vec(m, 32), rand_vec(k, 33));
            let (pw, pb) = (pack_weights(&w, k, m).unwrap(), pack_bias(&b));
            let p = panels(m);
            for act in [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax] {
                let mut whole = vec![f32::NAN; m];
                assert!(gemv(&pw, &pb, &x, &mut whole, k, m, act));
                for h in 1..p {
                    let mut y = vec![f32::NAN; m];
                    let (lo, hi) = y.split_at_mut(h * NR);
                    assert!(gemv_panels(&pw, &pb, &x, hi, k, m, h, p, act));
                    assert!(gemv_panels(&pw, &pb, &x, lo, k, m, 0, h, act));
                    if act == Act::Softmax {
                        softmax_in_place(&mut y);
                    }
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&y), bits(&whole), "{k}x{m} split at {h} {act:?}");
                }
            }
            let mut y = vec![0.0; m];
            assert!(!gemv_panels(&pw, &pb, &x, &mut y, k, m, 0, p + 1, Act::Relu));
            assert!(!gemv_panels(&pw, &pb, &x, &mut y[1..], k, m, 0, p, Act::Relu));
        }
    }
}
