//! Weight packing for [`super::gemv`] and [`super::gemm`].
//!
//! A dense layer `y = act(W x + b)` with `W` given as `[m][k]` (row-major, the `.af`
//! order) is packed into `ceil(m / NR)` panels of `NR` output columns. Panel `p` holds, for
//! every input `kk`, the `NR` weights `W[p*NR + j][kk]` (zero past `m`): `[p][kk][j]`. A
//! kernel then streams one panel contiguously while it broadcasts inputs, which needs no
//! horizontal sums and serves one row (GEMV) and a batch (GEMM) alike. The layout depends
//! on `NR` only, never on the vector width, so one packed blob serves every ISA level.

use super::NR;

/// Number of panels for `m` outputs.
pub const fn panels(m: usize) -> usize {
    m.div_ceil(NR)
}

/// Length of the packed weights of a `k`-input, `m`-output layer.
pub const fn packed_len(k: usize, m: usize) -> usize {
    panels(m) * k * NR
}

/// Length of the padded bias of an `m`-output layer.
pub const fn bias_len(m: usize) -> usize {
    panels(m) * NR
}

#[cfg(not(kiln_freestanding))]
/// Packs `w` (`[m][k]` row-major) into panels. Returns `None` when `w.len() != m * k`.
pub fn pack_weights(w: &[f32], k: usize, m: usize) -> Option<Vec<f32>> {
    if w.len() != m.checked_mul(k)? {
        return None;
    }
    let mut out = vec![0.0; packed_len(k, m)];
    for (row, wrow) in w.chunks_exact(k.max(1)).enumerate().take(m) {
        let (p, j) = (row / NR, row % NR);
        for (kk, v) in wrow.iter().enumerate() {
            out[(p * k + kk) * NR + j] = *v;
        }
    }
    Some(out)
}

#[cfg(not(kiln_freestanding))]
/// The bias padded with zeros to whole panels.
pub fn pack_bias(b: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; bias_len(b.len())];
    out[..b.len()].copy_from_slice(b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        // 3 outputs, 2 inputs: W = [[1,2],[3,4],[5,6]].
        let p = pack_weights(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(p.len(), 2 * NR);
        assert_eq!(&p[..3], &[1.0, 3.0, 5.0]);
        assert_eq!(&p[NR..NR + 3], &[2.0, 4.0, 6.0]);
        assert!(p[3..NR].iter().all(|v| *v == 0.0));
        assert_eq!(pack_weights(&[1.0], 2, 3), None);
        assert_eq!(pack_bias(&[1.0, 2.0]).len(), NR);
    }
}
