//! Blocked GEMM for a batch of rows through a dense layer, with bias and activation fused
//! into the epilogue: `y[i] = act(W x[i] + b)` for `n` rows.
//!
//! Rows are taken `MR` at a time; for each panel of `NR` outputs (see [`super::pack`]) the
//! micro-kernel keeps `MR x NR` sums in registers, streams the panel once and broadcasts one
//! input value per row and step. The `MR` rows of `x` stay in L1 while the packed weights
//! stream from L2.

use super::pack::{bias_len, packed_len, panels};
use super::partial::store_n;
use super::softmax::{softmax_in_place, softmax_panel};
use super::{Act, LANES, NR, NV, V, activate};

/// Rows per micro-kernel: sized so that `MR * NV` accumulators fit the register file
/// (32 registers with AVX-512, 16 otherwise).
pub const MR: usize = if LANES == 16 { 8 } else { 3 };

/// Checks the slice lengths of a dense layer call.
pub fn shapes_ok(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &[f32],
    n: usize,
    k: usize,
    m: usize,
) -> bool {
    let (Some(xn), Some(yn)) = (n.checked_mul(k), n.checked_mul(m)) else {
        return false;
    };
    k > 0
        && m > 0
        && w.len() >= packed_len(k, m)
        && bias.len() >= bias_len(m)
        && x.len() >= xn
        && y.len() >= yn
}

/// `y = act(W x + b)` for `n` rows of `k` inputs (`x`, row-major) into `n` rows of `m`
/// outputs (`y`, row-major). `w` and `bias` come from [`super::pack`]. Returns `false`
/// (writing nothing) when a slice is too short or a size is zero.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    n: usize,
    k: usize,
    m: usize,
    act: Act,
) -> bool {
    if !shapes_ok(w, bias, x, y, n, k, m) {
        return false;
    }
    let mut i = 0;
    while i + MR <= n {
        for p in 0..panels(m) {
            micro::<MR>(w, bias, x, y, i, p, k, m, act);
        }
        i += MR;
    }
    while i < n {
        for p in 0..panels(m) {
            micro::<1>(w, bias, x, y, i, p, k, m, act);
        }
        i += 1;
    }
    if act == Act::Softmax && !fused_softmax(m) {
        for row in y[..n * m].chunks_exact_mut(m) {
            softmax_in_place(row);
        }
    }
    true
}

/// `R` rows starting at `i`, panel `p`. Callers guarantee the shapes ([`shapes_ok`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro<const R: usize>(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    i: usize,
    p: usize,
    k: usize,
    m: usize,
    act: Act,
) {
    let panel = &w[p * k * NR..(p + 1) * k * NR];
    let xs = &x[i * k..(i + R) * k];
    let mut acc = [[V::ZERO; NV]; R];
    let bp = panel.as_ptr();
    let xp = xs.as_ptr();
    for kk in 0..k {
        // SAFETY: `panel` holds k*NR values and kk < k, j*LANES + LANES <= NR, so every
        // vector read stays inside it; `V` is plain f32 lanes and the read is unaligned.
        let b: [V; NV] = core::array::from_fn(|j| unsafe {
            core::ptr::read_unaligned(bp.add(kk * NR + j * LANES) as *const V)
        });
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `xs` holds R*k values and r < R, kk < k.
            let a = V::splat(unsafe { *xp.add(r * k + kk) });
            for j in 0..NV {
                acc[j] = a.mul_add(b[j], acc[j]);
            }
        }
    }
    let c0 = p * NR;
    let c1 = (c0 + NR).min(m);
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut y[(i + r) * m..(i + r + 1) * m];
        epilogue(acc, &bias[c0..], act, &mut row[c0..c1], fused_softmax(m));
    }
}

/// Adds the bias of one panel (`bias` starts at the panel's first column), applies `act`
/// and stores the panel's columns `cols` (at most `NR`). With `fused` (a softmax row that
/// one panel holds, see [`fused_softmax`]) the softmax is done here too.
#[inline(always)]
pub(crate) fn epilogue(acc: &[V; NV], bias: &[f32], act: Act, cols: &mut [f32], fused: bool) {
    if act == Act::Softmax && fused {
        softmax_panel(acc, bias, cols);
        return;
    }
    for j in 0..NV {
        let at = j * LANES;
        let v = activate(acc[j] + super::load(bias, at), act);
        if at + LANES <= cols.len() {
            super::store(v, cols, at);
        } else if at < cols.len() {
            store_n(v, cols, at, cols.len() - at);
        }
    }
}

/// Whether a softmax over `m` outputs happens in the epilogue (one panel holds the row);
/// wider rows get [`softmax_in_place`] after the layer.
pub(crate) const fn fused_softmax(m: usize) -> bool {
    m <= NR
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::pack::{pack_bias, pack_weights};
    use crate::kernels::testutil::rand_vec;

    /// The f64 reference of one dense layer.
    pub fn reference(w: &[f32], b: &[f32], x: &[f32], k: usize, m: usize, act: Act) -> Vec<f64> {
        let mut y: Vec<f64> = (0..m)
            .map(|o| b[o] as f64 + (0..k).map(|i| w[o * k + i] as f64 * x[i] as f64).sum::<f64>())
            .collect();
        match act {
            Act::Linear => {}
            Act::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
            Act::Sigmoid => y.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Act::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
            Act::Softmax => {
                let mx = y.iter().cloned().fold(f64::MIN, f64::max);
                let s: f64 = y.iter().map(|v| (v - mx).exp()).sum();
                y.iter_mut().for_each(|v| *v = (*v - mx).exp() / s);
            }
        }
        y
    }

    pub fn check(got: &[f32], want: &[f64], what: &str) {
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: {g} vs {w}");
        }
    }

    #[test]
    fn matches_reference() {
        for &(n, k, m) in
            &[(1, 1, 1), (2, 5, 3), (7, 64, 10), (17, 33, 70), (9, 100, 32), (3, 8, 129)]
        {
            let w = rand_vec(m * k, 11);
            let b = rand_vec(m, 12);
            let x = rand_vec(n * k, 13);
            let (pw, pb) = (pack_weights(&w, k, m).unwrap(), pack_bias(&b));
            for act in [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax] {
                let mut y = vec![f32::NAN; n * m];
                assert!(gemm(&pw, &pb, &x, &mut y, n, k, m, act));
                for r in 0..n {
                    let want = reference(&w, &b, &x[r * k..(r + 1) * k], k, m, act);
                    check(&y[r * m..(r + 1) * m], &want, &format!("{n}x{k}x{m} {act:?}"));
                }
            }
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        let mut y = [0.0; 4];
        assert!(!gemm(&[0.0; NR], &[0.0; NR], &[0.0; 2], &mut y, 2, 2, 2, Act::Linear));
        assert!(!gemm(&[0.0; NR], &[0.0; NR], &[0.0; 1], &mut y, 1, 0, 2, Act::Linear));
    }
}
