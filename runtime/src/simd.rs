//! The multiversioned kernels as linked into this crate (from `libkiln_agentk.a`, built by
//! `build.rs`): safe wrappers for Rust callers, the symbol table for JIT-compiled code, and
//! the kernel objects themselves for C libraries built by `kiln build --emit staticlib`.

use crate::kernels::Act;
use crate::kernels::pack::{bias_len, packed_len};

/// One freestanding kernel object (one ISA level, or the dispatcher with the baseline).
pub struct KernelObject {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// The global symbols it defines (for an archive's index).
    pub symbols: &'static [&'static str],
}

/// The kernel objects, as `build.rs` made them.
pub static KERNEL_OBJECTS: &[KernelObject] =
    include!(concat!(env!("OUT_DIR"), "/agentk_members.rs"));

unsafe extern "C" {
    pub fn kiln_kernel_level() -> u8;
    pub fn kiln_dense(
        w: *const f32,
        bias: *const f32,
        x: *const f32,
        y: *mut f32,
        n: usize,
        k: usize,
        m: usize,
        act: u32,
    ) -> i32;
    pub fn kiln_dense_gemm(
        w: *const f32,
        bias: *const f32,
        x: *const f32,
        y: *mut f32,
        n: usize,
        k: usize,
        m: usize,
        act: u32,
    ) -> i32;
    pub fn kiln_dense_row(
        w: *const f32,
        bias: *const f32,
        x: *const f32,
        y: *mut f32,
        k: usize,
        m: usize,
        act: u32,
        next: *const u8,
        next_bytes: usize,
    ) -> i32;
    pub fn kiln_dense_row2(
        w: *const f32,
        bias: *const f32,
        x: *const f32,
        y: *mut f32,
        k: usize,
        m: usize,
        act: u32,
        w2: *const f32,
        bias2: *const f32,
        y2: *mut f32,
        m2: usize,
        act2: u32,
        next: *const u8,
        next_bytes: usize,
    ) -> i32;
    pub fn kiln_par_rows(
        f: unsafe extern "C" fn(*const f32, *mut f32, usize),
        x: *const f32,
        y: *mut f32,
        n: usize,
        k: usize,
        m: usize,
        min_rows: usize,
    );
    pub fn kiln_threads() -> u32;
    pub fn kiln_set_threads(n: u32) -> u32;
    pub fn kiln_set_row_split(floats: usize) -> usize;
    pub fn kiln_worker_jobs() -> u64;
    pub fn kiln_dot(a: *const f32, b: *const f32, n: usize) -> f32;
    pub fn kiln_reduce(op: u32, x: *const f32, n: usize) -> f32;
    pub fn kiln_argmax(x: *const f32, n: usize) -> i64;
    pub fn kiln_vbin(op: u32, a: *const f32, b: *const f32, out: *mut f32, n: usize) -> i32;
    pub fn kiln_vscalar(
        op: u32,
        a: *const f32,
        s: f32,
        scalar_first: u32,
        out: *mut f32,
        n: usize,
    ) -> i32;
    pub fn kiln_vmap(act: u32, x: *const f32, out: *mut f32, n: usize) -> i32;
}

#[cfg(target_arch = "x86_64")]
mod levels {
    unsafe extern "C" {
        pub fn kiln_dense_v1(
            w: *const f32,
            b: *const f32,
            x: *const f32,
            y: *mut f32,
            n: usize,
            k: usize,
            m: usize,
            act: u32,
        ) -> i32;
        pub fn kiln_dense_v3(
            w: *const f32,
            b: *const f32,
            x: *const f32,
            y: *mut f32,
            n: usize,
            k: usize,
            m: usize,
            act: u32,
        ) -> i32;
        pub fn kiln_dense_v4(
            w: *const f32,
            b: *const f32,
            x: *const f32,
            y: *mut f32,
            n: usize,
            k: usize,
            m: usize,
            act: u32,
        ) -> i32;
    }
}

/// The symbols generated code may call, with their addresses (for `JITBuilder::symbol`).
pub fn jit_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_dense", kiln_dense as *const u8),
        ("kiln_dense_gemm", kiln_dense_gemm as *const u8),
        ("kiln_dense_row", kiln_dense_row as *const u8),
        ("kiln_dense_row2", kiln_dense_row2 as *const u8),
        ("kiln_par_rows", kiln_par_rows as *const u8),
        ("kiln_dot", kiln_dot as *const u8),
        ("kiln_reduce", kiln_reduce as *const u8),
        ("kiln_argmax", kiln_argmax as *const u8),
        ("kiln_vbin", kiln_vbin as *const u8),
        ("kiln_vscalar", kiln_vscalar as *const u8),
        ("kiln_vmap", kiln_vmap as *const u8),
    ]
}

/// The ISA level the dispatcher uses here: 1 (baseline), 3 (AVX2+FMA) or 4 (AVX-512).
pub fn level() -> u8 {
    // SAFETY: no arguments; reads CPUID and the environment once.
    unsafe { kiln_kernel_level() }
}

/// One dense layer through the dispatched kernel: `y = act(W x + b)` for `n` rows, with `w`
/// and `bias` packed by [`crate::kernels::pack`]. `false` when a slice is too short.
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
    dense_at(0, w, bias, x, y, n, k, m, act)
}

/// [`dense`] at a given level (0 = dispatched; 1, 3 or 4 = that level, which the CPU must
/// support: `false` otherwise).
#[allow(clippy::too_many_arguments)]
pub fn dense_at(
    level: u8,
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    n: usize,
    k: usize,
    m: usize,
    act: Act,
) -> bool {
    if !shapes_fit(w, bias, x, y, n, k, m)
        || (level > 1 && crate::kernels::cpu::best_level() < level)
    {
        return false;
    }
    let f = match level {
        #[cfg(target_arch = "x86_64")]
        1 => levels::kiln_dense_v1,
        #[cfg(target_arch = "x86_64")]
        3 => levels::kiln_dense_v3,
        #[cfg(target_arch = "x86_64")]
        4 => levels::kiln_dense_v4,
        _ => kiln_dense,
    };
    // SAFETY: the lengths were checked above and `y` is a distinct, writable slice.
    unsafe { f(w.as_ptr(), bias.as_ptr(), x.as_ptr(), y.as_mut_ptr(), n, k, m, act as u32) == 0 }
}

/// Whether the slices hold what a dense layer of `n` rows, `k` inputs and `m` outputs reads
/// and writes.
fn shapes_fit(w: &[f32], bias: &[f32], x: &[f32], y: &[f32], n: usize, k: usize, m: usize) -> bool {
    k > 0
        && m > 0
        && w.len() >= packed_len(k, m)
        && bias.len() >= bias_len(m)
        && n.checked_mul(k).is_some_and(|l| x.len() >= l)
        && n.checked_mul(m).is_some_and(|l| y.len() >= l)
}

/// [`dense`] through the GEMM micro-kernel even for one row (`kiln_dense_gemm`): a row's
/// result has the same bits whatever other rows share the call (GEMV sums in another
/// order). `false` when a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn dense_gemm(
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    n: usize,
    k: usize,
    m: usize,
    act: Act,
) -> bool {
    if !shapes_fit(w, bias, x, y, n, k, m) {
        return false;
    }
    // SAFETY: the lengths were checked above and `y` is a distinct, writable slice.
    unsafe {
        kiln_dense_gemm(w.as_ptr(), bias.as_ptr(), x.as_ptr(), y.as_mut_ptr(), n, k, m, act as u32)
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::pack::{pack_bias, pack_weights};

    fn rand(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed * 2654435761 + 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_level_agrees_with_the_portable_kernel() {
        let levels: Vec<u8> =
            [1, 3, 4].into_iter().filter(|l| crate::kernels::cpu::best_level() >= *l).collect();
        assert!(levels.contains(&1));
        for &(n, k, m) in &[
            (1, 784, 128),
            (256, 64, 10),
            (5, 3, 33),
            (9, 17, 64),
            (3, 20, 5),
            (2, 40, 100),
            (1, 32, 10),
            // Row blocks of every size (AVX2: 6 rows, AVX-512: 8) and half-panel strips.
            (13, 70, 70),
            (23, 33, 48),
            (31, 9, 16),
            (256, 784, 128),
        ] {
            // Weights scaled as a trained network's are (about 1/sqrt(k)), so outputs are O(1).
            let scale = 1.0 / (k as f32).sqrt();
            let w: Vec<f32> = rand(m * k, 1).iter().map(|v| v * scale).collect();
            let (b, x) = (rand(m, 2), rand(n * k, 3));
            let (pw, pb) = (pack_weights(&w, k, m).unwrap(), pack_bias(&b));
            for act in [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax] {
                let mut want = vec![0.0; n * m];
                assert!(crate::kernels::gemv::dense(&pw, &pb, &x, &mut want, n, k, m, act));
                for &l in levels.iter().chain([0].iter()) {
                    let mut y = vec![f32::NAN; n * m];
                    assert!(dense_at(l, &pw, &pb, &x, &mut y, n, k, m, act), "level {l}");
                    for (a, b) in y.iter().zip(&want) {
                        assert!(
                            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                            "level {l} {act:?} {n}x{k}x{m}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn c_entry_points_reject_bad_arguments() {
        // SAFETY: null pointers with non-zero sizes must be rejected, never dereferenced.
        unsafe {
            assert_eq!(
                kiln_dense(
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    1,
                    2,
                    2,
                    1
                ),
                -1
            );
            assert_eq!(kiln_argmax(std::ptr::null(), 0), -1);
            assert!(kiln_dot(std::ptr::null(), std::ptr::null(), 3).is_nan());
            let x = [1.0f32, -2.0, 3.0];
            let mut o = [0.0f32; 3];
            assert_eq!(kiln_vmap(9, x.as_ptr(), o.as_mut_ptr(), 3), -1);
            assert_eq!(kiln_vmap(1, x.as_ptr(), o.as_mut_ptr(), 3), 0);
            assert_eq!(o, [1.0, 0.0, 3.0]);
            assert_eq!(kiln_argmax(x.as_ptr(), 3), 2);
            assert_eq!(kiln_reduce(1, [3.0f32, 4.0].as_ptr(), 2), 5.0);
            let mut a = [1.0f32, 2.0, 3.0];
            // out aliases a: allowed.
            assert_eq!(kiln_vbin(2, a.as_ptr(), x.as_ptr(), a.as_mut_ptr(), 3), 0);
            assert_eq!(a, [1.0, -4.0, 9.0]);
            assert_eq!(kiln_vscalar(1, a.as_ptr(), 1.0, 1, a.as_mut_ptr(), 3), 0);
            assert_eq!(a, [0.0, 5.0, -8.0]);
        }
        assert!(matches!(level(), 1 | 3 | 4));
        assert!(KERNEL_OBJECTS.iter().any(|o| o.symbols.contains(&"kiln_dense")));
    }
}

#[cfg(test)]
mod threads_tests;
