//! `resources` of an `.af` file (LANGUAGE.md §2): `limits` (`memory_mb`, `cpu_cores`,
//! `disk_mb`, `network_bandwidth_mbps`) and `requirements` (`minimum_memory_mb`,
//! `minimum_cpu_cores`), each a positive finite number, fractions allowed (`cpu_cores: 1.0`,
//! `minimum_cpu_cores: 0.5`). Other keys of `resources` are accepted as they are; unknown
//! keys inside `limits` or `requirements` are a warning.

use super::validate::Validator;
use super::yaml::{Node, Value};
use crate::diag::{Diagnostic, codes};

const LIMIT_KEYS: &[&str] = &["memory_mb", "cpu_cores", "disk_mb", "network_bandwidth_mbps"];
const REQUIREMENT_KEYS: &[&str] = &["minimum_memory_mb", "minimum_cpu_cores"];

/// `resources.limits` and `resources.requirements`; `None` where a key is absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    pub memory_mb: Option<f64>,
    pub cpu_cores: Option<f64>,
    pub disk_mb: Option<f64>,
    pub network_bandwidth_mbps: Option<f64>,
    pub minimum_memory_mb: Option<f64>,
    pub minimum_cpu_cores: Option<f64>,
}

impl Resources {
    /// The memory limit in whole MB, rounded up (a fraction of a MB is not cut off).
    pub fn memory_mb_ceil(&self) -> Option<u64> {
        self.memory_mb.map(|m| m.ceil() as u64)
    }

    /// How many threads the agent's kernels may use: the whole cores of `cpu_cores`, at
    /// least one (a fraction below one core cannot be enforced by a thread count).
    pub fn threads(&self) -> Option<u64> {
        self.cpu_cores.map(|c| (c.floor() as u64).max(1))
    }

    fn slot(&mut self, key: &str) -> &mut Option<f64> {
        match key {
            "memory_mb" => &mut self.memory_mb,
            "cpu_cores" => &mut self.cpu_cores,
            "disk_mb" => &mut self.disk_mb,
            "network_bandwidth_mbps" => &mut self.network_bandwidth_mbps,
            "minimum_memory_mb" => &mut self.minimum_memory_mb,
            _ => &mut self.minimum_cpu_cores,
        }
    }
}

/// Largest accepted value: beyond any machine, small enough for every conversion.
const MAX: f64 = 1e15;

impl Validator<'_> {
    pub(super) fn resources(&mut self, value: &Node) -> Resources {
        let mut r = Resources::default();
        let Some(entries) = value.as_map() else {
            if value.value != Value::Null {
                self.wrong_type(value, "resources", "a mapping");
            }
            return r;
        };
        for (k, v) in entries {
            let (place, known) = match k.as_str() {
                Some("limits") => ("resources.limits", LIMIT_KEYS),
                Some("requirements") => ("resources.requirements", REQUIREMENT_KEYS),
                _ => continue, // other resource keys of the format are accepted as they are
            };
            let Some(fields) = v.as_map() else {
                self.wrong_type(v, place, "a mapping");
                continue;
            };
            for (fk, fv) in fields {
                let Some(field) = fk.as_str().filter(|f| known.contains(f)) else {
                    self.unknown_key(fk, place, known);
                    continue;
                };
                let n = match fv.value {
                    Value::Int(n) => n as f64,
                    Value::Float(x) => x,
                    _ => {
                        self.wrong_type(fv, &format!("{place}.{field}"), "a positive number");
                        continue;
                    }
                };
                if !(n > 0.0 && n <= MAX) {
                    let d = Diagnostic::new(
                        codes::E0411,
                        self.span(&fv.range),
                        format!("`{place}.{field}` must be a positive number"),
                    )
                    .label(if n.is_nan() {
                        "not a number"
                    } else {
                        "out of range"
                    });
                    self.report(d);
                    continue;
                }
                *r.slot(field) = Some(n);
            }
        }
        r
    }
}
