//! Freestanding objects for C libraries and agent executables, built by `runtime/build.rs`:
//! the kernels of `kiln_runtime` without `std` for one ISA level (`--cfg
//! kiln_level="v1"|"v3"|"v4"`), or, with `--cfg kiln_driver`, the executable driver.
#![no_std]

#[cfg(not(kiln_driver))]
#[path = "../../src/kernels/mod.rs"]
pub mod kernels;

#[cfg(kiln_driver)]
#[path = "../../src/agentdrv/mod.rs"]
pub mod agentdrv;

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
