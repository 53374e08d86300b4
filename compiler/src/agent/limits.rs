//! `resources.limits` and `resources.requirements` at run time (LANGUAGE.md §2).
//!
//! - Requirements (`minimum_memory_mb`, `minimum_cpu_cores`): `kiln run`, `kiln train` and
//!   agent executables compare them with the machine (its memory, the cores this process
//!   may run on) before reading anything, and refuse a machine below them ([`check_machine`]).
//! - Agent executables: the driver caps its address space at `memory_mb` (`setrlimit
//!   RLIMIT_AS`, Linux; a fraction of a MB rounds up) before it allocates anything, and
//!   reports an allocation that fails under the cap as "out of memory: the agent's limit is
//!   N MB"; `cpu_cores` below 2 keeps its kernels on one thread.
//! - `kiln run`: the process runs more than the agent, so it is not capped as a whole; the
//!   memory the agent holds (weights and the buffers of a batch) is computed before the run
//!   and a need above `memory_mb` is an error ([`check_run`]); at most `cpu_cores` threads
//!   (whole cores, at least one) run the agent at once.
//! - `kiln train`: the memory training needs is computed before it starts, and a need above
//!   `memory_mb` is an error that states both. Training runs on one thread.
//! - `disk_mb` and `network_bandwidth_mbps` always hold: an agent neither writes files nor
//!   uses the network. They are accepted and kept.

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
    over_limit(
        agent,
        training_bytes(agent, data, text_len),
        "training",
        "use less data or raise the limit",
    )
}

/// Bytes an agent holds while a pipeline runs it: its weights and biases (packed, with
/// room for padding) and the input, output and activations of one batch of 256 rows.
pub fn run_bytes(agent: &AgentFile) -> u64 {
    let f = 4u64;
    let widest = agent.layer_sizes().iter().copied().max().unwrap_or(0) as u64;
    agent.weight_count() as u64 * f * 2 + 256 * f * (agent.input_size as u64 + 2 * widest)
}

/// `Err` with a message when running the agent would need more memory than `memory_mb`.
pub fn check_run(agent: &AgentFile) -> Result<(), String> {
    over_limit(agent, run_bytes(agent), "running", "raise the limit or use a smaller network")
}

fn over_limit(agent: &AgentFile, need: u64, doing: &str, help: &str) -> Result<(), String> {
    let Some(mb) = agent.limits.memory_mb else {
        return Ok(());
    };
    if need as f64 > mb * (1u64 << 20) as f64 {
        return Err(format!(
            "{doing} `{}` needs about {} MB, more than its limit of {} MB (resources.limits.memory_mb); {help}",
            agent.name,
            need.div_ceil(1 << 20),
            number(mb)
        ));
    }
    Ok(())
}

/// `512` for 512.0, `0.5` for 0.5.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// This machine's memory in MB (Linux: `MemTotal` of /proc/meminfo), if known.
fn machine_memory_mb() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `Err` with a message when this machine is below the agent's `resources.requirements`.
pub fn check_machine(agent: &AgentFile) -> Result<(), String> {
    let r = &agent.limits;
    if let (Some(min), Some(have)) = (r.minimum_memory_mb, machine_memory_mb())
        && have < min
    {
        return Err(format!(
            "agent `{}` requires at least {} MB of memory (resources.requirements.minimum_memory_mb); this machine has {} MB",
            agent.name,
            number(min),
            have.floor()
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if let Some(min) = r.minimum_cpu_cores
        && cores < min
    {
        return Err(format!(
            "agent `{}` requires at least {} cores (resources.requirements.minimum_cpu_cores); this process may use {cores}",
            agent.name,
            number(min)
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
        roomy.limits.memory_mb = Some(64.0);
        assert!(check_training(&roomy, &small, 100).is_ok());
        roomy.limits.memory_mb = None;
        assert!(check_training(&roomy, &data, 100).is_ok());
    }

    #[test]
    fn fractional_limits_and_requirements_are_compared_as_numbers() {
        let yaml = "name: net\nneural_config:\n  input_size: 1000\n  output_size: 10\n  hidden_layers: [1000]\nresources:\n  limits:\n    memory_mb: 0.5\n    cpu_cores: 1.0\n  requirements:\n    minimum_cpu_cores: 0.5\n    minimum_memory_mb: 1\n";
        let (a, d) = parse_agent(FileId(0), yaml);
        assert!(d.is_empty(), "{d:?}");
        let mut a = a.unwrap();
        assert_eq!((a.limits.threads(), a.limits.memory_mb_ceil()), (Some(1), Some(1)));
        let e = check_run(&a).unwrap_err();
        assert!(
            e.contains("running `net` needs about 11 MB, more than its limit of 0.5 MB"),
            "{e}"
        );
        a.limits.memory_mb = Some(64.0);
        assert!(check_run(&a).is_ok());
        assert!(check_machine(&a).is_ok());
        a.limits.minimum_cpu_cores = Some(1e6);
        let e = check_machine(&a).unwrap_err();
        assert!(e.contains("agent `net` requires at least 1000000 cores"), "{e}");
        a.limits.minimum_cpu_cores = None;
        a.limits.minimum_memory_mb = Some(1e12);
        let e = check_machine(&a).unwrap_err();
        assert!(e.contains("requires at least 1000000000000 MB of memory"), "{e}");
    }
}
