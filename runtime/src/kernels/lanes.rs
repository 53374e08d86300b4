//! Operations across the lanes of one vector.
//!
//! `wide` has a horizontal sum (`reduce_add`) but no horizontal max, and a fold over
//! `to_array()` is a chain of 16 dependent scalar comparisons (about 64 cycles), which was
//! a third of a 10-class softmax. With AVX-512 and AVX2 this is a tree of vector maxima.

use super::V;

/// The largest lane of `v`. NaN lanes are not specified to win or lose: callers must give
/// the same result either way (the softmax does: a NaN lane makes every output NaN).
#[inline(always)]
pub fn max_lane(v: V) -> f32 {
    imp::max_lane(v)
}

#[cfg(all(kiln_level = "v4", target_arch = "x86_64"))]
mod imp {
    use super::V;
    use core::arch::x86_64::{__m512, _mm512_reduce_max_ps};

    #[inline(always)]
    pub fn max_lane(v: V) -> f32 {
        // SAFETY: `V` (f32x16) and `__m512` are both 16 plain f32 lanes of the same size.
        let v = unsafe { core::mem::transmute::<V, __m512>(v) };
        // SAFETY: AVX-512F is enabled for this build (x86-64-v4); no memory is accessed.
        unsafe { _mm512_reduce_max_ps(v) }
    }
}

#[cfg(all(kiln_level = "v3", target_arch = "x86_64"))]
mod imp {
    use super::V;
    use core::arch::x86_64::{
        __m256, _mm_cvtss_f32, _mm_max_ps, _mm_movehl_ps, _mm_shuffle_ps, _mm256_castps256_ps128,
        _mm256_extractf128_ps,
    };

    #[inline(always)]
    pub fn max_lane(v: V) -> f32 {
        // SAFETY: `V` (f32x8) and `__m256` are both 8 plain f32 lanes of the same size.
        let v = unsafe { core::mem::transmute::<V, __m256>(v) };
        // SAFETY: AVX2 is enabled for this build (x86-64-v3); no memory is accessed.
        unsafe {
            let m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
            _mm_cvtss_f32(_mm_max_ps(m, _mm_shuffle_ps::<1>(m, m)))
        }
    }
}

#[cfg(not(all(any(kiln_level = "v3", kiln_level = "v4"), target_arch = "x86_64")))]
mod imp {
    use super::V;

    #[inline(always)]
    pub fn max_lane(v: V) -> f32 {
        v.to_array().iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::LANES;

    #[test]
    fn max_of_every_lane() {
        for at in 0..LANES {
            let mut lanes = [-3.5f32; LANES];
            lanes[at] = 2.25;
            assert_eq!(max_lane(V::from(lanes)), 2.25, "lane {at}");
            lanes[at] = f32::NEG_INFINITY;
            assert_eq!(max_lane(V::from(lanes)), -3.5, "lane {at}");
        }
        assert_eq!(max_lane(V::splat(f32::NEG_INFINITY)), f32::NEG_INFINITY);
    }
}
