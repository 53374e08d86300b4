//! Partial vectors for row tails: the first `n` lanes of a vector read from or written to a
//! slice, so a tail shorter than a vector costs one vector operation. With AVX-512 and
//! AVX2 these are masked loads and stores (no copy through a temporary, so no failed
//! store-to-load forwarding); the portable build copies lane by lane.

use super::{LANES, V};

/// `n.min(LANES)` values from `s[at..]`, the other lanes set to `fill`.
///
/// # Panics
/// When `s` has fewer than `at + n.min(LANES)` values.
#[inline(always)]
pub fn load_n(s: &[f32], at: usize, n: usize, fill: f32) -> V {
    let part = &s[at..at + n.min(LANES)];
    imp::load(part, fill)
}

/// Stores the first `n.min(LANES)` lanes of `v` into `s[at..]`.
///
/// # Panics
/// When `s` has fewer than `at + n.min(LANES)` values.
#[inline(always)]
pub fn store_n(v: V, s: &mut [f32], at: usize, n: usize) {
    let part = &mut s[at..at + n.min(LANES)];
    imp::store(v, part)
}

#[cfg(all(kiln_level = "v4", target_arch = "x86_64"))]
mod imp {
    use super::V;
    use core::arch::x86_64::{__m512, _mm512_mask_loadu_ps, _mm512_mask_storeu_ps, _mm512_set1_ps};

    /// `part.len() <= 16`: the lanes to touch.
    fn mask(len: usize) -> u16 {
        ((1u32 << len) - 1) as u16
    }

    #[inline(always)]
    pub fn load(part: &[f32], fill: f32) -> V {
        // SAFETY: AVX-512F is enabled for this build (x86-64-v4); lanes outside the mask
        // are not read, and the masked lanes are the `part.len() <= 16` values of `part`.
        let r =
            unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask(part.len()), part.as_ptr()) };
        // SAFETY: `__m512` and `V` (f32x16) are both 16 plain f32 lanes of the same size.
        unsafe { core::mem::transmute::<__m512, V>(r) }
    }

    #[inline(always)]
    pub fn store(v: V, part: &mut [f32]) {
        // SAFETY: same size and lane layout, as in `load`.
        let v = unsafe { core::mem::transmute::<V, __m512>(v) };
        // SAFETY: only the `part.len() <= 16` masked lanes are written, all inside `part`.
        unsafe { _mm512_mask_storeu_ps(part.as_mut_ptr(), mask(part.len()), v) }
    }
}

#[cfg(all(kiln_level = "v3", target_arch = "x86_64"))]
mod imp {
    use super::V;
    use core::arch::x86_64::{
        __m256, __m256i, _mm256_blendv_ps, _mm256_castsi256_ps, _mm256_cmpgt_epi32,
        _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_set1_epi32, _mm256_set1_ps,
        _mm256_setr_epi32,
    };

    /// All-ones in the first `len <= 8` lanes.
    #[inline(always)]
    fn mask(len: usize) -> __m256i {
        // SAFETY: AVX2 is enabled for this build (x86-64-v3); no memory is accessed.
        unsafe {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(len as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
    }

    #[inline(always)]
    pub fn load(part: &[f32], fill: f32) -> V {
        let m = mask(part.len());
        // SAFETY: AVX2 is enabled for this build (x86-64-v3); lanes outside the mask are
        // not read and the masked lanes are the `part.len() <= 8` values of `part`.
        let r = unsafe {
            let r = _mm256_maskload_ps(part.as_ptr(), m);
            _mm256_blendv_ps(_mm256_set1_ps(fill), r, _mm256_castsi256_ps(m))
        };
        // SAFETY: `__m256` and `V` (f32x8) are both 8 plain f32 lanes of the same size.
        unsafe { core::mem::transmute::<__m256, V>(r) }
    }

    #[inline(always)]
    pub fn store(v: V, part: &mut [f32]) {
        // SAFETY: same size and lane layout, as in `load`.
        let v = unsafe { core::mem::transmute::<V, __m256>(v) };
        // SAFETY: only the `part.len() <= 8` masked lanes are written, all inside `part`.
        unsafe { _mm256_maskstore_ps(part.as_mut_ptr(), mask(part.len()), v) }
    }
}

#[cfg(not(all(any(kiln_level = "v3", kiln_level = "v4"), target_arch = "x86_64")))]
mod imp {
    use super::{LANES, V};

    #[inline(always)]
    pub fn load(part: &[f32], fill: f32) -> V {
        let mut t = [fill; LANES];
        t[..part.len()].copy_from_slice(part);
        super::super::load(&t, 0)
    }

    #[inline(always)]
    pub fn store(v: V, part: &mut [f32]) {
        let t = v.to_array();
        let n = part.len();
        part.copy_from_slice(&t[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_lanes() {
        let s: [f32; 20] = core::array::from_fn(|i| i as f32);
        for n in 0..=LANES {
            let v = load_n(&s, 3, n, -1.0).to_array();
            for (i, x) in v.iter().enumerate() {
                assert_eq!(*x, if i < n { (i + 3) as f32 } else { -1.0 });
            }
            let mut out = [7.0f32; 20];
            store_n(V::splat(2.0), &mut out, 1, n);
            assert!(
                out.iter()
                    .enumerate()
                    .all(|(i, x)| *x == if (1..=n).contains(&i) { 2.0 } else { 7.0 })
            );
        }
    }
}
