//! Text functions with a precise definition (`tokens`, `hash_embed`, number parsing):
//! defined once in the runtime, shared by the interpreter and compiled code's kernels.

pub use kiln_runtime::textdef::*;
