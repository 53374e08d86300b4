//! Syntax: `.kiln` source text → [`ast::Module`]. pest is used only inside this module.
pub mod agent;
pub mod ast;
