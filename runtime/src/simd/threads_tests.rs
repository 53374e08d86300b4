//! The kernels' second thread (`kernels/pool.rs`, in the dispatcher object) gives the bits
//! of one thread: rows split between threads (`kiln_par_rows` over a multi-layer GEMM
//! body, as generated `predict_batch` does) and output panels of one row split between
//! threads (`kiln_dense_row`, and `kiln_dense_row2`, which shares the next layer by
//! inputs too). Everything thread-count related is in this one test, since
//! the count is process-wide (results do not depend on it, so other tests do not care).

use super::*;
use crate::kernels::pack::{pack_bias, pack_weights};
use std::sync::RwLock;

struct Layer {
    w: Vec<f32>,
    b: Vec<f32>,
    k: usize,
    m: usize,
    act: Act,
}

/// The network the rows function runs (a C callback has no context argument).
static NET: RwLock<Vec<Layer>> = RwLock::new(Vec::new());

fn rand(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed * 2654435761 + 7;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn net(shape: &[usize], act: Act, seed: u64) -> Vec<Layer> {
    shape
        .windows(2)
        .enumerate()
        .map(|(i, km)| {
            let (k, m) = (km[0], km[1]);
            let scale = 1.0 / (k as f32).sqrt();
            let w: Vec<f32> = rand(m * k, seed + i as u64).iter().map(|v| v * scale).collect();
            let last = i + 2 == shape.len();
            Layer {
                w: pack_weights(&w, k, m).unwrap(),
                b: pack_bias(&rand(m, seed + 100 + i as u64)),
                k,
                m,
                act: if last { act } else { Act::Relu },
            }
        })
        .collect()
}

/// `n` rows through [`NET`] with `kiln_dense_gemm`, layer by layer (what generated
/// `<name>__rows` does).
unsafe extern "C" fn rows(x: *const f32, y: *mut f32, n: usize) {
    let net = NET.read().unwrap();
    let k0 = net[0].k;
    // SAFETY: kiln_par_rows passes n rows of the input and output it was given.
    let x = unsafe { std::slice::from_raw_parts(x, n * k0) };
    let mut cur = x.to_vec();
    for l in net.iter() {
        let mut next = vec![0.0f32; n * l.m];
        assert!(dense_gemm(&l.w, &l.b, &cur, &mut next, n, l.k, l.m, l.act));
        cur = next;
    }
    // SAFETY: as above.
    unsafe { std::slice::from_raw_parts_mut(y, cur.len()) }.copy_from_slice(&cur);
}

fn par_rows(x: &[f32], n: usize, k: usize, m: usize) -> Vec<u32> {
    let mut y = vec![f32::NAN; n * m];
    // SAFETY: x holds n*k values, y n*m; `rows` handles any sub-range.
    unsafe { kiln_par_rows(rows, x.as_ptr(), y.as_mut_ptr(), n, k, m, 1) };
    y.iter().map(|v| v.to_bits()).collect()
}

fn dense_row(l: &Layer, x: &[f32]) -> Vec<u32> {
    let mut y = vec![f32::NAN; l.m];
    // SAFETY: packed lengths, one row.
    let r = unsafe {
        kiln_dense_row(
            l.w.as_ptr(),
            l.b.as_ptr(),
            x.as_ptr(),
            y.as_mut_ptr(),
            l.k,
            l.m,
            l.act as u32,
            l.w.as_ptr() as *const u8,
            256,
        )
    };
    assert_eq!(r, 0);
    y.iter().map(|v| v.to_bits()).collect()
}

/// Two layers through `kiln_dense_row2`: the bits of both outputs.
fn dense_row2(l: &Layer, l2: &Layer, x: &[f32]) -> (Vec<u32>, Vec<u32>) {
    let (mut y, mut y2) = (vec![f32::NAN; l.m], vec![f32::NAN; l2.m]);
    // SAFETY: packed lengths, one row; l2 takes l's outputs.
    let r = unsafe {
        kiln_dense_row2(
            l.w.as_ptr(),
            l.b.as_ptr(),
            x.as_ptr(),
            y.as_mut_ptr(),
            l.k,
            l.m,
            l.act as u32,
            l2.w.as_ptr(),
            l2.b.as_ptr(),
            y2.as_mut_ptr(),
            l2.m,
            l2.act as u32,
            l2.w.as_ptr() as *const u8,
            256,
        )
    };
    assert_eq!(r, 0);
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect();
    (bits(&y), bits(&y2))
}

#[test]
fn two_threads_give_the_bits_of_one() {
    let acts = [Act::Linear, Act::Relu, Act::Sigmoid, Act::Tanh, Act::Softmax];
    // SAFETY: `kiln_set_threads`, `kiln_worker_jobs`, `kiln_set_row_split` and
    // `kiln_threads` are safe Rust functions of kernels/pool.rs exported with the C ABI: no
    // arguments to check, no preconditions (they only touch atomics and start the worker).
    let two = unsafe { kiln_set_threads(2) } == 2;
    // SAFETY: as above (no preconditions).
    let jobs0 = unsafe { kiln_worker_jobs() };
    // Split every layer of two or more panels, however small.
    // SAFETY: as above (no preconditions).
    let old_split = unsafe { kiln_set_row_split(1) };
    for (s, shape) in
        [&[784, 128, 64, 32, 10][..], &[33, 70, 10], &[5, 97], &[64, 40, 33], &[300, 257, 3]]
            .iter()
            .enumerate()
    {
        for (a, &act) in acts.iter().enumerate() {
            *NET.write().unwrap() = net(shape, act, (s * 10 + a) as u64);
            let (k, m) = (shape[0], *shape.last().unwrap());
            for n in [1, 2, 3, 5, 8, 9, 16, 17, 64, 257] {
                let x = rand(n * k, n as u64);
                // SAFETY: `kiln_set_threads` has no preconditions (see above).
                unsafe { kiln_set_threads(1) };
                let one = par_rows(&x, n, k, m);
                assert!(one.iter().all(|b| !f32::from_bits(*b).is_nan()));
                // SAFETY: as above.
                unsafe { kiln_set_threads(2) };
                for _ in 0..3 {
                    assert_eq!(par_rows(&x, n, k, m), one, "{shape:?} {act:?} n={n}");
                }
            }
            let net = NET.read().unwrap();
            for l in net.iter() {
                let x = rand(l.k, 99);
                let mut want = vec![f32::NAN; l.m];
                assert!(dense(&l.w, &l.b, &x, &mut want, 1, l.k, l.m, l.act));
                let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
                // SAFETY: `kiln_set_threads` has no preconditions (see above).
                unsafe { kiln_set_threads(1) };
                assert_eq!(dense_row(l, &x), want);
                // SAFETY: as above.
                unsafe { kiln_set_threads(2) };
                for _ in 0..3 {
                    assert_eq!(dense_row(l, &x), want, "{}x{} {act:?}", l.k, l.m);
                }
            }
            for pair in net.windows(2) {
                let (l, l2) = (&pair[0], &pair[1]);
                let x = rand(l.k, 98);
                let mut mid = vec![f32::NAN; l.m];
                assert!(dense(&l.w, &l.b, &x, &mut mid, 1, l.k, l.m, l.act));
                let mut out = vec![f32::NAN; l2.m];
                assert!(dense(&l2.w, &l2.b, &mid, &mut out, 1, l2.k, l2.m, l2.act));
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
                let want = (bits(&mid), bits(&out));
                // SAFETY: `kiln_set_threads` has no preconditions (see above).
                unsafe { kiln_set_threads(1) };
                assert_eq!(dense_row2(l, l2, &x), want);
                // SAFETY: as above.
                unsafe { kiln_set_threads(2) };
                for _ in 0..3 {
                    assert_eq!(dense_row2(l, l2, &x), want, "{}x{}x{} {act:?}", l.k, l.m, l2.m);
                }
            }
        }
    }
    // SAFETY: `kiln_set_row_split` has no preconditions (see above).
    unsafe { kiln_set_row_split(old_split) };
    if two {
        // The worker really took part (it spins between calls, so it claims most jobs).
        // SAFETY: `kiln_worker_jobs` has no preconditions (see above).
        let jobs = unsafe { kiln_worker_jobs() };
        assert!(jobs > jobs0, "the worker ran no job");
    }
    // Bad arguments are refused on both paths.
    let l = &net(&[40, 70], Act::Relu, 1)[0];
    let mut y = vec![0.0f32; 70];
    // SAFETY: `kiln_set_row_split` has no preconditions (see above).
    unsafe { kiln_set_row_split(1) };
    // SAFETY: `l.w` and `l.b` are the packed weights and bias of a 40 x 70 layer and `y`
    // holds 70 writable floats, as `kiln_dense_row` requires; the input is null, which
    // `kiln_gemv_panels` rejects on both paths (split or not) before reading anything, and
    // `next` is null (nothing to prefetch).
    let r = unsafe {
        kiln_dense_row(
            l.w.as_ptr(),
            l.b.as_ptr(),
            std::ptr::null(),
            y.as_mut_ptr(),
            40,
            70,
            1,
            std::ptr::null(),
            0,
        )
    };
    assert_eq!(r, -1);
    // SAFETY: the activation code 9 is no `Act`: `kiln_gemv_panels` (which does the work on
    // both paths of `kiln_dense_row`) returns -1 before making any slice, so the output
    // `y + 1` (69 floats left where the contract asks for 70, overlapping the input `y`) is
    // never read or written; `next` is null.
    let r = unsafe {
        kiln_dense_row(
            l.w.as_ptr(),
            l.b.as_ptr(),
            y.as_ptr(),
            y.as_mut_ptr().wrapping_add(1),
            40,
            70,
            9,
            std::ptr::null(),
            0,
        )
    };
    assert_eq!(r, -1);
    let l2 = &net(&[70, 20], Act::Relu, 2)[0];
    let mut y2 = vec![0.0f32; 20];
    // SAFETY: `l` (40 x 70) and `l2` (70 x 20) are packed layers, `y` holds 70 writable
    // floats and `y2` 20, no written buffer overlaps another, as `kiln_dense_row2` requires;
    // the input is null, which `kiln_gemv_panels` rejects before reading it (on the shared
    // path `kiln_gemv_sums` then only reads `y`, initialized zeros), and `next` is null.
    let r = unsafe {
        kiln_dense_row2(
            l.w.as_ptr(),
            l.b.as_ptr(),
            std::ptr::null(),
            y.as_mut_ptr(),
            40,
            70,
            1,
            l2.w.as_ptr(),
            l2.b.as_ptr(),
            y2.as_mut_ptr(),
            20,
            1,
            std::ptr::null(),
            0,
        )
    };
    assert_eq!(r, -1);
    // SAFETY: `kiln_set_row_split` has no preconditions (see above).
    unsafe { kiln_set_row_split(old_split) };
    // SAFETY: `kiln_threads` has no preconditions (see above).
    let threads = unsafe { kiln_threads() };
    assert!(matches!(threads, 1 | 2));
}
