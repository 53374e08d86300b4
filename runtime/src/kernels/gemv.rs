//! GEMV: one row through a dense layer, `y = act(W x + b)`, bias and activation fused.
//!
//! Per panel of `NR` outputs (see [`super::pack`]) the kernel keeps `U` independent sets of
//! accumulators (so consecutive multiply-adds do not wait on each other), walks the inputs
//! `U` at a time (input `kk` goes to set `kk % U`), and sums the sets in order. The inputs
//! are cut in two at [`split`]: the sums over each part are formed apart and then added,
//! so that two threads can take one part each ([`gemv_sums`], [`gemv_finish`]) and give the
//! bits of one thread ([`gemv_panels`]). Panels are streamed two at a time where two remain:
//! two independent streams from L2 keep more cache-line fills in flight than one (about 8%
//! more bandwidth on the 784x128 layer here), and a panel's sums are the same whether it
//! runs in a pair or alone, so any split of a layer's panels gives the bits too.

use super::gemm::{epilogue, fused_softmax, shapes_ok};
use super::pack::{bias_len, packed_len, panels};
use super::softmax::softmax_in_place;
use super::{Act, LANES, NR, NV, V};

/// Independent accumulator sets per panel: four vector accumulators per panel in all (two
/// sets with AVX-512), so a pair of panels keeps eight chains of multiply-adds in flight
/// and fits the register file with the broadcast inputs.
const U: usize = if NV >= 4 { 1 } else { 4 / NV };

/// The accumulators of one panel.
type Acc = [[V; NV]; U];

const ZERO: Acc = [[V::ZERO; NV]; U];

/// Where the inputs of a row are cut in two: after the first half of `k`'s panels of `NR`
/// (a layer of `k` outputs split between two threads by panels gives the first `split(k)`
/// outputs to the calling thread, so each thread can go on to sum the next layer over the
/// inputs it computed, see `pool::dense_row2`), or in the middle for `k <= NR` (one panel
/// of outputs is never split, and two parts of a short row keep twice the multiply-add
/// chains in flight: a 32x10 layer's are half as long). A multiple of `U`; for `k > NR`
/// the same at every kernel level, which the dispatcher object (`pool`) relies on.
pub const fn split(k: usize) -> usize {
    if k <= NR { k / 2 / U * U } else { panels(k) / 2 * NR }
}

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
    let fused = fused_softmax(m);
    let cut = split(k);
    let (xa, xb) = x[..k].split_at(cut);
    let part = |p: usize, k0: usize, k1: usize| &w[(p * k + k0) * NR..(p * k + k1) * NR];
    let mut p = p0;
    while p < p1 {
        let c0 = (p - p0) * NR;
        // A pair of panels streams both panels' rows for each part of the inputs; a single
        // panel streams its two parts together.
        let (mut a0, mut b0, mut a1, mut b1) = (ZERO, ZERO, ZERO, ZERO);
        if p + 2 <= p1 {
            let q = p + 1;
            pair(xa, part(p, 0, cut), part(q, 0, cut), &mut a0, &mut b0);
            pair(xb, part(p, cut, k), part(q, cut, k), &mut a1, &mut b1);
            finish(&add(&total(&a0), &total(&a1)), &bias[p * NR..], act, cols, c0, fused);
            finish(&add(&total(&b0), &total(&b1)), &bias[q * NR..], act, cols, c0 + NR, fused);
            p += 2;
        } else {
            sums2((xa, part(p, 0, cut)), (xb, part(p, cut, k)), &mut a0, &mut a1);
            finish(&add(&total(&a0), &total(&a1)), &bias[p * NR..], act, cols, c0, fused);
            p += 1;
        }
    }
    true
}

/// The epilogue of one panel whose columns start at `c0` in `cols`.
#[inline(always)]
fn finish(sum: &[V; NV], bias: &[f32], act: Act, cols: &mut [f32], c0: usize, fused: bool) {
    let c1 = (c0 + NR).min(cols.len());
    epilogue(sum, bias, act, &mut cols[c0..c1], fused);
}

/// `a + b`, vector by vector.
#[inline(always)]
fn add(a: &[V; NV], b: &[V; NV]) -> [V; NV] {
    let mut s = *a;
    for j in 0..NV {
        s[j] += b[j];
    }
    s
}

/// The raw sums (no bias, no activation) of every output panel over the inputs `k0..k0 +
/// xs.len()` (`0..split(k)` or `split(k)..k` for [`gemv_finish`]), which `xs` holds, into
/// `out[..panels(m) * NR]`: one thread's part of a row whose layer two threads share.
/// Returns `false` (writing nothing) on a bad shape.
pub fn gemv_sums(w: &[f32], xs: &[f32], k: usize, m: usize, k0: usize, out: &mut [f32]) -> bool {
    let np = panels(m);
    let k1 = k0.saturating_add(xs.len());
    let ok = m > 0 && k1 <= k && w.len() >= packed_len(k, m) && out.len() >= np * NR;
    if !ok {
        return false;
    }
    let part = |p: usize| &w[(p * k + k0) * NR..(p * k + k1) * NR];
    let mut p = 0;
    while p < np {
        let pair = p + 2 <= np;
        let (mut a, mut b) = (ZERO, ZERO);
        if pair {
            self::pair(xs, part(p), part(p + 1), &mut a, &mut b);
        } else {
            sums2((xs, part(p)), (&[], &[]), &mut a, &mut b);
        }
        let (ta, tb) = (total(&a), total(&b));
        for j in 0..NV {
            super::store(ta[j], out, p * NR + j * LANES);
            if pair {
                super::store(tb[j], out, (p + 1) * NR + j * LANES);
            }
        }
        p += if pair { 2 } else { 1 };
    }
    true
}

/// Finishes a row from the two parts of [`gemv_sums`] (`a` over `0..split(k)`, `b` over
/// the rest, `panels(m) * NR` values each): `y = act(a + b + bias)`, the bits of [`gemv`].
/// Returns `false` (writing nothing) on a bad shape.
pub fn gemv_finish(a: &[f32], b: &[f32], bias: &[f32], y: &mut [f32], m: usize, act: Act) -> bool {
    let np = panels(m);
    let n = np * NR;
    if m == 0 || a.len() < n || b.len() < n || bias.len() < bias_len(m) || y.len() < m {
        return false;
    }
    let fused = fused_softmax(m);
    let y = &mut y[..m];
    for p in 0..np {
        let mut sum = [V::ZERO; NV];
        for j in 0..NV {
            let at = p * NR + j * LANES;
            sum[j] = super::load(a, at) + super::load(b, at);
        }
        let c0 = p * NR;
        let c1 = (c0 + NR).min(m);
        epilogue(&sum, &bias[c0..], act, &mut y[c0..c1], fused);
    }
    if act == Act::Softmax && !fused {
        softmax_in_place(y);
    }
    true
}

/// The sets of one panel's accumulators summed in order.
#[inline(always)]
fn total(acc: &Acc) -> [V; NV] {
    let mut sum = acc[0];
    for set in &acc[1..] {
        for j in 0..NV {
            sum[j] += set[j];
        }
    }
    sum
}

/// A stream of products: inputs and the panel rows that go with them (`NR` weights per
/// input).
type Stream<'a> = (&'a [f32], &'a [f32]);

/// A stream cut into its body (whole steps of `U` inputs) and tail.
#[inline(always)]
fn body(s: Stream<'_>) -> (Stream<'_>, Stream<'_>) {
    let (x, w) = s;
    let n = x.len() / U * U;
    let (xb, xt) = x.split_at(n);
    let (wb, wt) = w[..x.len() * NR].split_at(n * NR);
    ((xb, wb), (xt, wt))
}

/// Adds the products of stream `sa` into `a` and of `sb` into `b` (`sb` may be empty), two
/// independent streams in one loop so that twice the multiply-add chains and cache-line
/// fills are in flight. Input `i` of a stream goes to set `i % U` in the stream's body (`U`
/// inputs a step) and to set 0 in its tail: each stream's sums are the same whatever the
/// other stream is, or without one.
#[inline(always)]
fn sums2(sa: Stream, sb: Stream, a: &mut Acc, b: &mut Acc) {
    let step = U * NR;
    let ((xa, wa), (xat, wat)) = body(sa);
    let ((xb, wb), (xbt, wbt)) = body(sb);
    let both = xa.len().min(xb.len());
    let (xa, xa_rest) = xa.split_at(both);
    let (wa, wa_rest) = wa.split_at(both * NR);
    let (xb, xb_rest) = xb.split_at(both);
    let (wb, wb_rest) = wb.split_at(both * NR);
    let xs = xa.chunks_exact(U).zip(xb.chunks_exact(U));
    for ((xa, xb), (ra, rb)) in xs.zip(wa.chunks_exact(step).zip(wb.chunks_exact(step))) {
        for u in 0..U {
            let (va, vb) = (V::splat(xa[u]), V::splat(xb[u]));
            for j in 0..NV {
                a[u][j] = va.mul_add(super::load(ra, u * NR + j * LANES), a[u][j]);
                b[u][j] = vb.mul_add(super::load(rb, u * NR + j * LANES), b[u][j]);
            }
        }
    }
    for (x, w, acc) in [(xa_rest, wa_rest, &mut *a), (xb_rest, wb_rest, &mut *b)] {
        for (xs, r) in x.chunks_exact(U).zip(w.chunks_exact(step)) {
            for u in 0..U {
                let v = V::splat(xs[u]);
                for j in 0..NV {
                    acc[u][j] = v.mul_add(super::load(r, u * NR + j * LANES), acc[u][j]);
                }
            }
        }
    }
    for (x, w, acc) in [(xat, wat, a), (xbt, wbt, b)] {
        for (i, &xv) in x.iter().enumerate() {
            let v = V::splat(xv);
            for j in 0..NV {
                acc[0][j] = v.mul_add(super::load(w, i * NR + j * LANES), acc[0][j]);
            }
        }
    }
}

/// [`sums2`] for two panels over the same inputs: `(x, wa)` into `a` and `(x, wb)` into
/// `b`, the same sums in the same order, but each input is broadcast once for both panels
/// (five loads for four multiply-adds instead of six: a small layer's weights come from
/// L1, and there the loads, not the multiply-adds, set the pace).
#[inline(always)]
fn pair(x: &[f32], wa: &[f32], wb: &[f32], a: &mut Acc, b: &mut Acc) {
    let step = U * NR;
    let ((xs, wa), (xt, wat)) = body((x, wa));
    let ((_, wb), (_, wbt)) = body((x, wb));
    for (xs, (ra, rb)) in xs.chunks_exact(U).zip(wa.chunks_exact(step).zip(wb.chunks_exact(step))) {
        for u in 0..U {
            let v = V::splat(xs[u]);
            for j in 0..NV {
                a[u][j] = v.mul_add(super::load(ra, u * NR + j * LANES), a[u][j]);
                b[u][j] = v.mul_add(super::load(rb, u * NR + j * LANES), b[u][j]);
            }
        }
    }
    for (i, &xv) in xt.iter().enumerate() {
        let v = V::splat(xv);
        for j in 0..NV {
            a[0][j] = v.mul_add(super::load(wat, i * NR + j * LANES), a[0][j]);
            b[0][j] = v.mul_add(super::load(wbt, i * NR + j * LANES), b[0][j]);
        }
    }
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

    #[test]
    fn two_parts_give_the_bits_of_the_whole_row() {
        for &(k, m) in &[
            (784, 128),
            (33, 65),
            (5, 97),
            (64, 10),
            (3, 1),
            (1, 40),
            (130, 33),
            (32, 10),
            (17, 3),
        ] {
            let w = rand_vec(m * k, 41);
            let (b, x) = (rand_vec(m, 42), rand_vec(k, 43));
            let (pw, pb) = (pack_weights(&w, k, m).unwrap(), pack_bias(&b));
            let n = panels(m) * NR;
            let cut = split(k);
            let whole = if k <= NR { k / 2 / U * U } else { panels(k) / 2 * NR };
            assert!(cut <= k && cut.is_multiple_of(U) && cut == whole);
            assert!(k <= NR || cut.is_multiple_of(NR));
            for act in [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax] {
                let mut whole = vec![f32::NAN; m];
                assert!(gemv(&pw, &pb, &x, &mut whole, k, m, act));
                let (mut lo, mut hi) = (vec![f32::NAN; n], vec![f32::NAN; n]);
                // The later part first, as the worker may finish first.
                assert!(gemv_sums(&pw, &x[cut..], k, m, cut, &mut hi));
                assert!(gemv_sums(&pw, &x[..cut], k, m, 0, &mut lo));
                let mut y = vec![f32::NAN; m];
                assert!(gemv_finish(&lo, &hi, &pb, &mut y, m, act));
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&whole), "{k}x{m} {act:?}");
            }
            let mut out = vec![0.0; n];
            assert!(!gemv_sums(&pw, &x, k, m, 1, &mut out));
            assert!(!gemv_sums(&pw, &x, k, m, 0, &mut out[1..]));
            let mut y = vec![0.0; m];
            assert!(!gemv_finish(&out[1..], &out, &pb, &mut y, m, Act::Relu));
        }
    }
}
