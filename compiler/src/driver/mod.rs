//! The driver: the only part of the compiler that reads files. It loads sources into a
//! [`crate::source::SourceMap`], resolves `use` paths and runs the stages.
