pub fn placeholder() {}

pub mod archive;
pub mod kernels;
pub mod simd;
