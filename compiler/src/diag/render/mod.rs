//! One renderer per output format. Every renderer takes the same input: the source map
//! and the sorted diagnostics of a run.
