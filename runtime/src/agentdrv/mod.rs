//! The driver of agent executables (`kiln build model.af --emit exe`): a freestanding
//! object (`no_std`, libc only) that `runtime/build.rs` compiles from this module through
//! `runtime/agentk` with `--cfg kiln_driver`, and that the compiler embeds
//! ([`DRIVER_OBJECT`]) and links next to the agent's object and the kernel objects.
//!
//! The agent's object supplies `main` (generated with Cranelift), which calls
//! `kiln_agent_main(predict_batch, input_size, output_size, memory_mb, cpu_cores,
//! min_memory_mb, min_cpu_millis, argc, argv)` and returns its result as the exit code. Rows are read as JSONL from standard
//! input ([`rows`]), run in batches, and written as JSONL to standard output.

pub mod rows;

#[cfg(kiln_driver)]
pub mod run;

/// The driver object file (x86-64 baseline code), built by `build.rs`.
#[cfg(not(kiln_freestanding))]
pub static DRIVER_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kiln_agent_driver.o"));
