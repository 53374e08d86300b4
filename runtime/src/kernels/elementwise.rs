//! Elementwise arithmetic on `vec[N]`: `+ - * /` with another vector or with a scalar.

use super::{LANES, V, load, store};

/// An elementwise binary operator; the codes are the C ABI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BinOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
}

impl BinOp {
    pub fn from_code(code: u32) -> Option<BinOp> {
        Some(match code {
            0 => BinOp::Add,
            1 => BinOp::Sub,
            2 => BinOp::Mul,
            3 => BinOp::Div,
            _ => return None,
        })
    }
    #[inline(always)]
    fn v(self, a: V, b: V) -> V {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
        }
    }
    #[inline(always)]
    fn s(self, a: f32, b: f32) -> f32 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
        }
    }
}

/// `out[i] = a[i] op b[i]`. Returns `false` (writing nothing) when the lengths differ.
pub fn binary(op: BinOp, a: &[f32], b: &[f32], out: &mut [f32]) -> bool {
    if a.len() != b.len() || a.len() != out.len() {
        return false;
    }
    let body = a.len() / LANES * LANES;
    for i in (0..body).step_by(LANES) {
        store(op.v(load(a, i), load(b, i)), out, i);
    }
    for i in body..a.len() {
        out[i] = op.s(a[i], b[i]);
    }
    true
}

/// `out[i] = a[i] op s` (or `s op a[i]` when `scalar_first`, for `2.0 - v`). Returns
/// `false` when the lengths differ.
pub fn scalar(op: BinOp, a: &[f32], s: f32, scalar_first: bool, out: &mut [f32]) -> bool {
    if a.len() != out.len() {
        return false;
    }
    let sv = V::splat(s);
    let body = a.len() / LANES * LANES;
    for i in (0..body).step_by(LANES) {
        let v = load(a, i);
        store(if scalar_first { op.v(sv, v) } else { op.v(v, sv) }, out, i);
    }
    for i in body..a.len() {
        out[i] = if scalar_first { op.s(s, a[i]) } else { op.s(a[i], s) };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::rand_vec;

    #[test]
    fn matches_scalar() {
        for n in [0, 3, 8, 19, 64] {
            let (a, b) = (rand_vec(n, 5), rand_vec(n, 6));
            let mut out = vec![0.0; n];
            for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div] {
                assert!(binary(op, &a, &b, &mut out));
                for i in 0..n {
                    assert_eq!(out[i], op.s(a[i], b[i]));
                }
                assert!(scalar(op, &a, 0.5, true, &mut out));
                for i in 0..n {
                    assert_eq!(out[i], op.s(0.5, a[i]));
                }
            }
        }
        assert!(!binary(BinOp::Add, &[1.0], &[1.0, 2.0], &mut [0.0]));
    }
}
