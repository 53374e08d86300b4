//! `kiln train FILE.af [--data DATA] [--epochs N] [--batch N] [--seed N] [-o OUT]`.

use super::{GlobalArgs, Status};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The agent file whose `neural_weights` are trained.
    pub file: PathBuf,
    /// JSONL rows `{"x": [...], "y": [...]}` or `{"x": [...], "label": k}`; without it the
    /// file's `training_data` section is used.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Passes over the data.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Rows per gradient step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Seed for initialization and shuffling: the same seed gives the same file.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the trained file (default: in place).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &TrainArgs, global: &GlobalArgs) -> Status {
    let code = crate::agent::run_train_command(
        &args.file,
        args.data.as_deref(),
        args.epochs,
        args.batch,
        args.seed,
        args.output.as_deref(),
        crate::agent::Ui { quiet: global.quiet, color: super::check::use_color(global.color) },
    );
    match code {
        0 => Status::Success,
        2 => Status::Usage,
        _ => Status::Failure,
    }
}
