//! Syntax: `.kiln` source text → [`ast::Module`], and prompt templates → [`ast::Template`].
//! pest is used only inside this module (`parser.rs`, `errors.rs`, `template/`); nothing
//! outside sees a pest type or a grammar rule name.
//!
//! Recovery: `split.rs` cuts the file into top-level declarations first, so each
//! declaration is parsed on its own and one run reports every broken declaration.

pub mod agent;
pub mod ast;
mod errors;
mod fast;
mod parser;
pub mod split;
pub mod template;

#[doc(hidden)]
pub use fast::compare_fast_path;
pub use parser::{parse_expr, parse_module, parse_type};
pub use template::parse_template;
