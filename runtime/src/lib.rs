//! The Kiln runtime: what generated code calls. Built as an rlib (linked into the `kiln`
//! binary for the JIT) and as a staticlib (linked into ahead-of-time executables).

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod arith;

pub mod layout;

pub mod arena;

pub mod io;

pub mod exec;

pub mod text;

pub mod strfn;

pub mod fsum;
pub mod listfn;

/// `sort`, `min`, `max`, `contains` and the list forms of stream operators on any type.
pub mod listany;
// The language-model client (`complete`, typed prompts).
pub mod model;
pub mod program;
/// `==`, `<` and `str` on values of any type (lists, records, vectors, optionals).
pub mod valfn;
pub mod vecfn;

pub mod textdef;

pub mod agentdrv;
pub mod archive;
pub mod kernels;
pub mod simd;
