//! Agents beyond loading: training (`kiln train`), the forward pass on the runtime's SIMD
//! kernels, and ahead-of-time builds of C libraries and executables (`kiln build` of an
//! `.af` file). The `.af` loader itself is [`crate::syntax::agent`].

pub mod aot;
pub mod codegen;
pub mod command;
pub mod data;
pub mod exe;
pub mod limits;
pub mod net;
pub mod rng;
pub mod train;

pub use command::{AgentEmit, Ui, run_build_agent, run_train_command};
pub use data::Dataset;
pub use train::{EpochReport, TrainOptions, train};
