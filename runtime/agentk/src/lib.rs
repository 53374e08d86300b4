//! Freestanding kernel objects for C libraries: the kernels of `kiln_runtime` without `std`,
//! built for one ISA level (`--cfg kiln_level="v1"|"v3"|"v4"`, see `runtime/build.rs`).
#![no_std]

#[path = "../../src/kernels/mod.rs"]
pub mod kernels;

unsafe extern "C" {
    fn abort() -> !;
}

/// Kernels validate their arguments and never panic; should a bug ever reach here, stop
/// the process rather than unwind into C.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `abort` from libc takes no arguments and never returns.
    unsafe { abort() }
}
