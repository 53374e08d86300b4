//! SIMD kernels for `vec[N]` values and dense neural layers, written with `wide`.
//!
//! The code here uses `core` only, so the same files compile into the Rust runtime (rlib)
//! and into the freestanding kernel objects that `kiln build --emit staticlib` puts in a C
//! library (see `runtime/agentk` and `build.rs`).
//!
//! # How the kernels reach AVX2/FMA and AVX-512
//! `wide` picks its instructions when it is compiled (`cfg(target_feature)`), so a
//! `#[target_feature]` wrapper around `wide` code would still run SSE halves and unfused
//! multiply-adds. Instead `build.rs` compiles these files three times, with
//! `-C target-cpu=x86-64` (`v1`), `x86-64-v3` (AVX2 + FMA, `f32x8`) and `x86-64-v4`
//! (AVX-512, `f32x16`), each with fat LTO into one object whose exported symbols carry the
//! level as a suffix (`kiln_dense_v3`). The `v1` object also holds the dispatcher
//! ([`dispatch`]) exporting the plain names (`kiln_dense`): on the first call it reads CPUID
//! and XGETBV once and then jumps to the best level (`KILN_KERNEL_LEVEL=v1|v3|v4` in the
//! environment caps the choice). Weights are packed once, ahead of time, into a layout that
//! does not depend on the level ([`pack`]), so one packed blob serves every level.

// Index loops here mirror the linear algebra (rows, panels, lanes) more plainly than
// iterator chains, and the vector tails need the indices anyway.
#![allow(clippy::needless_range_loop)]

pub mod activations;
pub mod argmax;
pub mod dot;
pub mod elementwise;
pub mod gemm;
pub mod gemv;
pub mod lanes;
pub mod norm;
pub mod pack;
pub mod partial;
pub mod softmax;

pub mod cpu;
#[cfg(kiln_level = "v1")]
pub mod dispatch;
#[cfg(kiln_freestanding)]
pub mod ffi;
#[cfg(all(kiln_freestanding, kiln_level = "v1", target_os = "linux"))]
pub mod pool;

/// The vector type of this build: 16 lanes with AVX-512, else 8.
#[cfg(kiln_level = "v4")]
pub type V = wide::f32x16;
/// The vector type of this build: 16 lanes with AVX-512, else 8.
#[cfg(not(kiln_level = "v4"))]
pub type V = wide::f32x8;

/// Lanes of [`V`].
pub const LANES: usize = core::mem::size_of::<V>() / 4;
/// Output columns per weight panel (see [`pack`]); a multiple of every [`LANES`].
pub const NR: usize = 32;
/// Vectors per panel row.
pub const NV: usize = NR / LANES;

/// Activation codes shared with the compiler (`Activation::code`) and the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Act {
    Linear = 0,
    Relu = 1,
    Sigmoid = 2,
    Tanh = 3,
    Softmax = 4,
}

impl Act {
    /// The activation with this code, if any.
    pub fn from_code(code: u32) -> Option<Act> {
        Some(match code {
            0 => Act::Linear,
            1 => Act::Relu,
            2 => Act::Sigmoid,
            3 => Act::Tanh,
            4 => Act::Softmax,
            _ => return None,
        })
    }
}

/// Loads `LANES` floats from `s[at..]`.
///
/// # Panics
/// When fewer than `LANES` values follow `at`.
#[inline(always)]
pub fn load(s: &[f32], at: usize) -> V {
    let chunk = &s[at..at + LANES];
    // SAFETY: `chunk` holds exactly LANES f32 values, which is the size of `V` (a plain
    // array of f32 lanes, `bytemuck::Pod`); `read_unaligned` has no alignment requirement.
    unsafe { core::ptr::read_unaligned(chunk.as_ptr() as *const V) }
}

/// Stores `v` into `s[at..at + LANES]`.
///
/// # Panics
/// When fewer than `LANES` values follow `at`.
#[inline(always)]
pub fn store(v: V, s: &mut [f32], at: usize) {
    let chunk = &mut s[at..at + LANES];
    // SAFETY: `chunk` is exactly LANES writable f32 values, the size of `V`;
    // `write_unaligned` has no alignment requirement.
    unsafe { core::ptr::write_unaligned(chunk.as_mut_ptr() as *mut V, v) }
}

/// Applies an elementwise activation to one vector (softmax is a row operation: identity).
#[inline(always)]
pub fn activate(v: V, act: Act) -> V {
    match act {
        Act::Linear | Act::Softmax => v,
        Act::Relu => v.max(V::ZERO),
        Act::Sigmoid => activations::sigmoid_v(v),
        Act::Tanh => activations::tanh_v(v),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    /// A deterministic pseudo-random vector in [-1, 1).
    pub fn rand_vec(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }
    pub fn close(a: f32, b: f64, tol: f64) -> bool {
        (a as f64 - b).abs() <= tol * b.abs().max(1.0)
    }
}
