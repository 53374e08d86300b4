//! The exported kernel entry points (`kiln_dense`, `kiln_dot`, ...): each forwards to the
//! best level this CPU supports, chosen once (see [`super::cpu`]). Setting
//! `KILN_KERNEL_LEVEL` to `v1`, `v3` or `v4` caps the level (for testing and benchmarks).

use core::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

unsafe extern "C" {
    pub(super) fn getenv(name: *const core::ffi::c_char) -> *const core::ffi::c_char;
}

/// The level in use: 1, 3 or 4.
#[unsafe(export_name = "kiln_kernel_level")]
pub extern "C" fn level() -> u8 {
    let l = LEVEL.load(Ordering::Relaxed);
    if l != 0 {
        return l;
    }
    let mut best = super::cpu::best_level();
    // SAFETY: the name is a NUL-terminated literal; getenv returns null or a C string that
    // we only read up to its NUL (at most 3 bytes are inspected).
    let cap = unsafe {
        let p = getenv(c"KILN_KERNEL_LEVEL".as_ptr());
        if p.is_null() {
            None
        } else {
            let b = |i: usize| *p.add(i) as u8;
            match (b(0), if b(0) != 0 { b(1) } else { 0 }) {
                (b'v', d @ b'1'..=b'4') => Some(d - b'0'),
                _ => None,
            }
        }
    };
    if let Some(c) = cap {
        best = best.min(if c >= 4 {
            4
        } else if c >= 3 {
            3
        } else {
            1
        });
    }
    LEVEL.store(best, Ordering::Relaxed);
    best
}

macro_rules! dispatch {
    ($(fn $name:ident = $sym:literal ($($arg:ident : $ty:ty),*) -> $ret:ty;)*) => {
        #[cfg(target_arch = "x86_64")]
        mod levels {
            unsafe extern "C" {
                $(
                    #[link_name = concat!($sym, "_v3")]
                    pub fn $name($($arg: $ty),*) -> $ret;
                )*
            }
            pub mod v4 {
                unsafe extern "C" {
                    $(
                        #[link_name = concat!($sym, "_v4")]
                        pub fn $name($($arg: $ty),*) -> $ret;
                    )*
                }
            }
        }
        $(
            /// Forwards to the best level (see the module docs).
            ///
            /// # Safety
            /// As the level functions in `ffi`.
            #[unsafe(export_name = $sym)]
            pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
                #[cfg(target_arch = "x86_64")]
                match level() {
                    // SAFETY: the CPU supports the level (checked by `level`); arguments are
                    // passed through under the caller's guarantees.
                    4 => return unsafe { levels::v4::$name($($arg),*) },
                    // SAFETY: as above.
                    3 => return unsafe { levels::$name($($arg),*) },
                    _ => {}
                }
                // SAFETY: the baseline runs everywhere; arguments passed through.
                unsafe { super::ffi::$name($($arg),*) }
            }
        )*
    };
}

dispatch! {
    fn dense = "kiln_dense"(w: *const f32, bias: *const f32, x: *const f32, y: *mut f32, n: usize, k: usize, m: usize, act: u32) -> i32;
    fn dense_gemm = "kiln_dense_gemm"(w: *const f32, bias: *const f32, x: *const f32, y: *mut f32, n: usize, k: usize, m: usize, act: u32) -> i32;
    fn gemv_panels = "kiln_gemv_panels"(w: *const f32, bias: *const f32, x: *const f32, y: *mut f32, k: usize, m: usize, p0: usize, p1: usize, act: u32) -> i32;
    fn gemv_sums = "kiln_gemv_sums"(w: *const f32, x: *const f32, k: usize, m: usize, k0: usize, k1: usize, out: *mut f32) -> i32;
    fn gemv_finish = "kiln_gemv_finish"(a: *const f32, b: *const f32, bias: *const f32, y: *mut f32, m: usize, act: u32) -> i32;
    fn kdot = "kiln_dot"(a: *const f32, b: *const f32, n: usize) -> f32;
    fn reduce = "kiln_reduce"(op: u32, x: *const f32, n: usize) -> f32;
    fn kargmax = "kiln_argmax"(x: *const f32, n: usize) -> i64;
    fn vbin = "kiln_vbin"(op: u32, a: *const f32, b: *const f32, out: *mut f32, n: usize) -> i32;
    fn vscalar = "kiln_vscalar"(op: u32, a: *const f32, s: f32, scalar_first: u32, out: *mut f32, n: usize) -> i32;
    fn vmap = "kiln_vmap"(act: u32, x: *const f32, out: *mut f32, n: usize) -> i32;
}
