//! Blocked GEMM for a batch of rows through a dense layer, with bias and activation fused
//! into the epilogue: `y[i] = act(W x[i] + b)` for `n` rows.
//!
//! Rows are taken `MR` at a time; each weight panel of `NR` outputs (see [`super::pack`])
//! is cut into column strips of `CV` vectors, and for each strip the micro-kernel keeps
//! `MR x CV` sums in registers, streams the strip once and broadcasts one input value per
//! row and step. Register blocking per level: with AVX-512 (32 registers of 16 lanes) a
//! strip is the whole 32-column panel and `MR = 8` (16 accumulators); with AVX2 + FMA (16
//! registers of 8 lanes) a strip is half a panel and `MR = 6` (12 accumulators, 2 strip
//! vectors and 1 broadcast: 15 registers, so nothing spills; a whole-panel strip needs
//! 4 vectors and left room for only 3 rows, with spills). Row counts that are not a
//! multiple of `MR` end with one smaller block, not row by row. The `MR` rows of `x` stay
//! in L1 while the packed weights stream from L2.

use super::pack::{bias_len, packed_len, panels};
use super::partial::store_n;
use super::softmax::{softmax_in_place, softmax_panel};
use super::{Act, LANES, NR, NV, V, activate};

/// Vectors per strip (and per row of the micro-kernel's tile).
pub const CV: usize = 2;

/// Strips per panel.
const STRIPS: usize = NV / CV;

/// Rows per micro-kernel: sized so that `MR * CV` accumulators, the `CV` strip vectors and
/// a broadcast fit the register file (32 registers with AVX-512, 16 with AVX2; the
/// baseline's 8-lane vectors are two SSE registers each).
pub const MR: usize = if LANES == 16 {
    8
} else if cfg!(kiln_level = "v3") {
    6
} else {
    3
};

/// Rows per block of a row softmax fused into the epilogue (the whole panel's `NV`
/// vectors per row in registers).
const MR_FULL: usize = if LANES == 16 { 8 } else { 3 };

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
    if act == Act::Softmax && fused_softmax(m) {
        let mut i = 0;
        while i < n {
            let r = (n - i).min(MR_FULL);
            rows_full(r, w, bias, x, y, i, k, m);
            i += r;
        }
        return true;
    }
    let mut i = 0;
    while i < n {
        let r = (n - i).min(MR);
        for p in 0..panels(m) {
            for h in 0..STRIPS {
                if p * NR + h * CV * LANES < m {
                    strip(r, w, bias, x, y, i, p, h, k, m, act);
                }
            }
        }
        i += r;
    }
    if act == Act::Softmax {
        for row in y[..n * m].chunks_exact_mut(m) {
            softmax_in_place(row);
        }
    }
    true
}

/// [`micro`] for `r <= MR` rows (a constant per call, so every tile size is unrolled).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn strip(
    r: usize,
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    i: usize,
    p: usize,
    h: usize,
    k: usize,
    m: usize,
    act: Act,
) {
    macro_rules! tile {
        ($($n:literal)*) => {
            match r {
                $($n if $n <= MR => micro::<$n>(w, bias, x, y, i, p, h, k, m, act),)*
                _ => {}
            }
        };
    }
    tile!(1 2 3 4 5 6 7 8);
}

/// `r <= MR_FULL` rows of a layer whose softmax is fused (one panel holds the row).
#[allow(clippy::too_many_arguments)]
fn rows_full(
    r: usize,
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    i: usize,
    k: usize,
    m: usize,
) {
    macro_rules! tile {
        ($($n:literal)*) => {
            match r {
                $($n if $n <= MR_FULL => micro_full::<$n>(w, bias, x, y, i, k, m),)*
                _ => {}
            }
        };
    }
    tile!(1 2 3 4 5 6 7 8);
}

/// `R` rows starting at `i`, strip `h` of panel `p`. Callers guarantee the shapes
/// ([`shapes_ok`]) and that the strip starts before column `m`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro<const R: usize>(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    i: usize,
    p: usize,
    h: usize,
    k: usize,
    m: usize,
    act: Act,
) {
    let panel = &w[p * k * NR..(p + 1) * k * NR];
    let xs = &x[i * k..(i + R) * k];
    let mut acc = [[V::ZERO; CV]; R];
    // SAFETY: `h < STRIPS`, so the strip's first column `h * CV * LANES` is inside a
    // panel row of `NR` values.
    let bp = unsafe { panel.as_ptr().add(h * CV * LANES) };
    // One pointer per row of `xs`, so each broadcast is a plain indexed load.
    // SAFETY: `xs` holds R*k values and r < R.
    let rows: [*const f32; R] = core::array::from_fn(|r| unsafe { xs.as_ptr().add(r * k) });
    // One step of the sums: every row times the strip's row `kk`.
    let step = |acc: &mut [[V; CV]; R], kk: usize| {
        // SAFETY: `panel` holds k*NR values; kk < k and h*CV*LANES + j*LANES + LANES <= NR,
        // so every vector read stays inside it; `V` is plain f32 lanes, read unaligned.
        let b: [V; CV] = core::array::from_fn(|j| unsafe {
            core::ptr::read_unaligned(bp.add(kk * NR + j * LANES) as *const V)
        });
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: row `r` of `xs` holds k values and kk < k.
            let a = V::splat(unsafe { *rows[r].add(kk) });
            for j in 0..CV {
                acc[j] = a.mul_add(b[j], acc[j]);
            }
        }
    };
    // Two steps per iteration halve the loop's own instructions (each step is in order,
    // so a row's sums are the same whatever the tile height).
    let mut kk = 0;
    while kk + 2 <= k {
        step(&mut acc, kk);
        step(&mut acc, kk + 1);
        kk += 2;
    }
    if kk < k {
        step(&mut acc, kk);
    }
    let c0 = p * NR + h * CV * LANES;
    let c1 = (c0 + CV * LANES).min(m);
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut y[(i + r) * m..(i + r + 1) * m];
        epilogue(acc, &bias[c0..], act, &mut row[c0..c1], false);
    }
}

/// `R` rows starting at `i` of a layer of at most `NR` outputs with its softmax fused:
/// the whole panel per row in registers.
#[inline(always)]
fn micro_full<const R: usize>(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    i: usize,
    k: usize,
    m: usize,
) {
    let panel = &w[..k * NR];
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
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut y[(i + r) * m..(i + r + 1) * m];
        epilogue(acc, bias, Act::Softmax, &mut row[..m], true);
    }
}

/// Adds the bias of a run of accumulator vectors (`bias` starts at their first column),
/// applies `act` and stores their columns `cols` (at most `acc.len() * LANES`). With
/// `fused` (a softmax row that one panel holds, `acc` the whole panel, see
/// [`fused_softmax`]) the softmax is done here too.
#[inline(always)]
pub(crate) fn epilogue(acc: &[V], bias: &[f32], act: Act, cols: &mut [f32], fused: bool) {
    if act == Act::Softmax
        && fused
        && let Ok(panel) = <&[V; NV]>::try_from(acc)
    {
        softmax_panel(panel, bias, cols);
        return;
    }
    for j in 0..acc.len() {
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
