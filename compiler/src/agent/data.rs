//! Training data: JSONL rows `{"x": [...], "y": [...]}` or `{"x": [...], "label": k}`, or
//! the `training_data` section of the `.af` file.

use crate::syntax::agent::AgentFile;

/// Rows of inputs and targets (one-hot for labels).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    pub input_size: usize,
    pub output_size: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    /// Class labels, when every row gave `label` (accuracy is reported then).
    pub labels: Option<Vec<usize>>,
}

impl Dataset {
    pub fn rows(&self) -> usize {
        self.inputs.len() / self.input_size.max(1)
    }
    pub fn x(&self, i: usize) -> &[f32] {
        &self.inputs[i * self.input_size..(i + 1) * self.input_size]
    }
    pub fn y(&self, i: usize) -> &[f32] {
        &self.targets[i * self.output_size..(i + 1) * self.output_size]
    }

    /// The `training_data` section of an agent, if it has one.
    pub fn from_agent(agent: &AgentFile) -> Option<Dataset> {
        let data = agent.training_data.as_ref()?;
        let row = agent.input_size + agent.output_size;
        let mut d = Dataset {
            input_size: agent.input_size,
            output_size: agent.output_size,
            ..Dataset::default()
        };
        for r in data.chunks_exact(row) {
            d.inputs.extend_from_slice(&r[..agent.input_size]);
            d.targets.extend_from_slice(&r[agent.input_size..]);
        }
        Some(d)
    }

    /// Parses JSONL text; `name` is used in errors (`name:line: message`). Blank lines are
    /// skipped. A file must use `label` on every row or on none.
    pub fn parse_jsonl(
        name: &str,
        text: &str,
        input_size: usize,
        output_size: usize,
    ) -> Result<Dataset, String> {
        let mut d = Dataset { input_size, output_size, ..Dataset::default() };
        let mut labels = Vec::new();
        let mut with_y = 0;
        for (i, line) in text.lines().enumerate() {
            let at = |m: String| format!("{name}:{}: {m}", i + 1);
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| at(format!("invalid JSON: {e}")))?;
            let obj = v
                .as_object()
                .ok_or_else(|| at("expected an object with `x` and `y` or `label`".into()))?;
            let x = numbers(obj.get("x"), "x", input_size, "input_size").map_err(at)?;
            match (obj.get("y"), obj.get("label")) {
                (Some(_), Some(_)) => {
                    return Err(at("give either `y` or `label`, not both".into()));
                }
                (Some(y), None) => {
                    d.targets
                        .extend(numbers(Some(y), "y", output_size, "output_size").map_err(at)?);
                    with_y += 1;
                }
                (None, Some(l)) => {
                    let k = l.as_u64().filter(|k| (*k as usize) < output_size).ok_or_else(|| {
                        at(format!(
                            "`label` must be an integer class in 0..{output_size}, found {l}"
                        ))
                    })? as usize;
                    d.targets.extend((0..output_size).map(|j| if j == k { 1.0 } else { 0.0 }));
                    labels.push(k);
                }
                (None, None) => return Err(at("the row has neither `y` nor `label`".into())),
            }
            if with_y > 0 && !labels.is_empty() {
                return Err(at("rows mix `y` and `label`; use one kind in a file".into()));
            }
            d.inputs.extend(x);
        }
        if d.rows() == 0 {
            return Err(format!("{name}: no training rows"));
        }
        if with_y == 0 {
            d.labels = Some(labels);
        }
        Ok(d)
    }
}

fn numbers(
    v: Option<&serde_json::Value>,
    field: &str,
    want: usize,
    what: &str,
) -> Result<Vec<f32>, String> {
    let arr = v
        .and_then(|v| v.as_array())
        .ok_or_else(|| format!("`{field}` must be an array of {want} numbers"))?;
    if arr.len() != want {
        return Err(format!("`{field}` has {} numbers, the agent's {what} is {want}", arr.len()));
    }
    arr.iter()
        .enumerate()
        .map(|(i, n)| {
            n.as_f64()
                .map(|f| f as f32)
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("`{field}[{i}]` is not a finite number: {n}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_errors() {
        let d = Dataset::parse_jsonl(
            "d",
            "{\"x\":[1,2],\"label\":1}\n\n{\"x\":[3,4],\"label\":0}\n",
            2,
            3,
        )
        .unwrap();
        assert_eq!(d.rows(), 2);
        assert_eq!(d.y(0), &[0.0, 1.0, 0.0]);
        assert_eq!(d.labels, Some(vec![1, 0]));
        let d = Dataset::parse_jsonl("d", "{\"x\":[1,2],\"y\":[0.5]}\n", 2, 1).unwrap();
        assert_eq!((d.labels, d.targets), (None, vec![0.5]));
        let e = Dataset::parse_jsonl(
            "d.jsonl",
            "{\"x\":[1,2],\"y\":[1]}\n{\"x\":[1],\"y\":[1]}\n",
            2,
            1,
        )
        .unwrap_err();
        assert_eq!(e, "d.jsonl:2: `x` has 1 numbers, the agent's input_size is 2");
        let e = Dataset::parse_jsonl("d", "{\"x\":[1,2],\"label\":5}", 2, 3).unwrap_err();
        assert!(e.starts_with("d:1: `label` must be"), "{e}");
        assert!(
            Dataset::parse_jsonl("d", "nope", 2, 3).unwrap_err().starts_with("d:1: invalid JSON")
        );
        assert!(Dataset::parse_jsonl("d", "", 2, 3).is_err());
        assert!(
            Dataset::parse_jsonl("d", "{\"x\":[1,\"a\"],\"label\":0}", 2, 3)
                .unwrap_err()
                .contains("x[1]")
        );
    }
}
