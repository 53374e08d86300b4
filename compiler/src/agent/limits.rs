//! `resources.limits` at run time.
//!
//! - Agent executables: the driver caps its address space at `memory_mb` (`setrlimit
//!   RLIMIT_AS`, Linux) before it allocates anything, and reports an allocation that fails
//!   under the cap as "out of memory: the agent's limit is N MB"; it runs on one thread, so
//!   any `cpu_cores` is met.
//! - `kiln train`: the compiler process itself is not capped (an allocation failure would
//!   abort it without a useful message); instead the memory training needs is computed
//!   before it starts, and a need above `memory_mb` is an error that states both. Training
//!   runs on one thread, which any `cpu_cores` allows.

use super::data::Dataset;
use crate::syntax::agent::AgentFile;

/// Bytes `kiln train` holds: the data set (inputs, targets, labels, row order), the file
/// text twice (read and rewritten), and the weights four times (weights, gradient and
/// Adam's two moments), plus activations and deltas for one row.
pub fn training_bytes(agent: &AgentFile, data: &Dataset, text_len: usize) -> u64 {
    let f = 4u64;
    let rows = data.rows() as u64;
    let data_bytes = (data.inputs.len() + data.targets.len()) as u64 * f
        + data.labels.as_ref().map_or(0, |l| l.len() as u64 * 8)
        + rows * 8;
    let weights = agent.weight_count() as u64 * f * 4;
    let acts = agent.layer_sizes().iter().map(|n| *n as u64).sum::<u64>() * f * 2;
    data_bytes + 2 * text_len as u64 + weights + acts
}

/// `Err` with a message when training would need more memory than `memory_mb`.
pub fn check_training(agent: &AgentFile, data: &Dataset, text_len: usize) -> Result<(), String> {
    let Some(mb) = agent.limits.memory_mb else {
        return Ok(());
    };
    let need = training_bytes(agent, data, text_len);
    if need > mb.saturating_mul(1 << 20) {
        return Err(format!(
            "training `{}` needs about {} MB, more than its limit of {mb} MB (resources.limits.memory_mb); use less data or raise the limit",
            agent.name,
            need.div_ceil(1 << 20)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::agent::parse_agent;

    #[test]
    fn training_over_the_memory_limit_is_an_error() {
        let yaml = "name: big\nneural_config:\n  input_size: 1000\n  output_size: 10\n  hidden_layers: [1000]\nresources:\n  limits:\n    memory_mb: 16\n";
        let (a, d) = parse_agent(FileId(0), yaml);
        assert!(d.is_empty(), "{d:?}");
        let a = a.unwrap();
        // 1010 * 1000 weights * 16 bytes = about 16 MB alone; plus 1000 rows of data.
        let rows = 1000;
        let data = Dataset {
            input_size: 1000,
            output_size: 10,
            inputs: vec![0.0; rows * 1000],
            targets: vec![0.0; rows * 10],
            labels: None,
        };
        let e = check_training(&a, &data, 100).unwrap_err();
        assert!(e.contains("needs about 20 MB, more than its limit of 16 MB"), "{e}");
        let small = Dataset { inputs: vec![0.0; 1000], targets: vec![0.0; 10], ..data.clone() };
        let mut roomy = a.clone();
        roomy.limits.memory_mb = Some(64);
        assert!(check_training(&roomy, &small, 100).is_ok());
        roomy.limits.memory_mb = None;
        assert!(check_training(&roomy, &data, 100).is_ok());
    }
}
