//! Field-by-field validation of an `.af` file. Every check reports into the diagnostic list
//! and carries on, so one run shows every problem.

use super::sections::{self, Section};
use super::yaml::{self, Node, Value};
use super::{Activation, AgentFile, MAX_LAYER, MAX_PARAMS, Resources, weight_count};
use crate::diag::{Diagnostic, codes};
use crate::source::{FileId, Span};
use std::ops::Range;

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "author",
    "created",
    "modified",
    "runtime",
    "neural_config",
    "resources",
    "workflows",
];
const CONFIG_KEYS: &[&str] = &[
    "network_type",
    "input_size",
    "output_size",
    "hidden_layers",
    "activation_function",
    "output_activation",
    "learning_rate",
];
const HIDDEN_ACTS: &[&str] = &["relu", "sigmoid", "tanh", "linear"];
const OUTPUT_ACTS: &[&str] = &["linear", "softmax", "sigmoid", "relu", "tanh"];
const SECTIONS: &[&str] = &["neural_weights", "training_data"];

pub(super) struct Validator<'a> {
    pub file: FileId,
    pub text: &'a str,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Validator<'_> {
    pub(super) fn span(&self, r: &Range<usize>) -> Span {
        Span::new(self.file, r.start, r.end)
    }
    pub(super) fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    pub(super) fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        let d = Diagnostic::new(
            codes::E0401,
            self.span(&node.range),
            format!("`{field}` must be {expected}, found {}", node.value.kind()),
        )
        .label(format!("expected {expected}"));
        self.report(d);
    }
    pub(super) fn unknown_key(&mut self, key: &Node, place: &str, known: &[&str]) {
        let name = key.as_str().map(str::to_string).unwrap_or_else(|| format!("{:?}", key.value));
        let mut d = Diagnostic::new(
            codes::W0400,
            self.span(&key.range),
            format!("unknown key `{name}` in {place}"),
        )
        .label("this key is ignored");
        d = match suggest(&name, known) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("known keys: {}", known.join(", "))),
        };
        self.report(d);
    }

    pub fn run(mut self) -> Option<AgentFile> {
        let layout = sections::split(self.text);
        let yaml_text = &self.text[layout.yaml.clone()];
        let root = match yaml::parse(yaml_text) {
            Ok(root) => Some(root),
            Err(e) => {
                let d = Diagnostic::new(
                    codes::E0400,
                    self.span(&e.range),
                    format!("invalid YAML: {}", e.message),
                )
                .label("the YAML document cannot be read here");
                self.report(d);
                None
            }
        };
        let agent = root.as_ref().and_then(|root| self.document(root));
        let (weights, weights_span, training) = self.sections(&layout, agent.as_ref());
        let mut agent = agent?;
        agent.weights = weights;
        agent.weights_span = weights_span;
        agent.training_data = training;
        Some(agent)
    }

    /// The YAML part: returns an agent with the shape filled in (sections come later), or
    /// `None` when the shape cannot be known.
    fn document(&mut self, root: &Node) -> Option<AgentFile> {
        let whole = 0..0;
        let Some(entries) = root.as_map() else {
            if root.value == Value::Null {
                let d = Diagnostic::new(
                    codes::E0402,
                    self.span(&whole),
                    "the agent file has no YAML document",
                )
                .help("an agent file starts with `name:` and `neural_config:`");
                self.report(d);
            } else {
                self.wrong_type(root, "the agent document", "a mapping of keys");
            }
            return None;
        };
        // Where "the document starts": its first key, or the mapping itself when empty.
        let start = entries.first().map_or(root.range.clone(), |(k, _)| k.range.clone());
        let mut name = None;
        let mut config = None;
        let mut limits = Resources::default();
        for (key, value) in entries {
            match key.as_str() {
                Some("name") => match value.as_str() {
                    Some(s) if !s.trim().is_empty() => {
                        name = Some((s.to_string(), self.span(&value.range)))
                    }
                    Some(_) => {
                        let d = Diagnostic::new(
                            codes::E0401,
                            self.span(&value.range),
                            "`name` must not be empty",
                        )
                        .label("empty name");
                        self.report(d)
                    }
                    None => self.wrong_type(value, "name", "a string"),
                },
                Some("version") => {
                    if !matches!(value.value, Value::Str(_) | Value::Int(_) | Value::Float(_)) {
                        self.wrong_type(value, "version", "a string such as \"1.0\"");
                    }
                }
                Some("description" | "author" | "created" | "modified") => {
                    if !matches!(value.value, Value::Str(_) | Value::Null) {
                        let k = key.as_str().unwrap_or_default().to_string();
                        self.wrong_type(value, &k, "a string");
                    }
                }
                Some("runtime" | "workflows") => {}
                Some("resources") => limits = self.resources(value),
                Some("neural_config") => config = Some((key, value)),
                _ => self.unknown_key(key, "the agent file", TOP_KEYS),
            }
        }
        let name = match name {
            Some(n) => Some(n),
            None if !entries.iter().any(|(k, _)| k.as_str() == Some("name")) => {
                let d = Diagnostic::new(codes::E0402, self.span(&start), "the agent has no `name`")
                    .label("the document starts here")
                    .help("add `name: \"my_agent\"`: it names the generated C functions");
                self.report(d);
                None
            }
            None => None,
        };
        let Some((_, config)) = config else {
            let d = Diagnostic::new(
                codes::E0402,
                self.span(&start),
                "the agent has no `neural_config`",
            )
            .label("the document starts here")
            .help("add `neural_config:` with `input_size`, `output_size` and the layers");
            self.report(d);
            return None;
        };
        let shape = self.neural_config(config);
        let (name, name_span) = name?;
        let (input_size, output_size, hidden_layers, activation, output_activation, learning_rate) =
            shape?;
        Some(AgentFile {
            file: self.file,
            name,
            name_span,
            input_size,
            output_size,
            hidden_layers,
            activation,
            output_activation,
            learning_rate,
            weights: None,
            weights_span: None,
            training_data: None,
            limits,
        })
    }

    #[allow(clippy::type_complexity)]
    fn neural_config(
        &mut self,
        config: &Node,
    ) -> Option<(usize, usize, Vec<usize>, Activation, Activation, f32)> {
        let Some(entries) = config.as_map() else {
            self.wrong_type(config, "neural_config", "a mapping");
            return None;
        };
        let get = |k: &str| entries.iter().find(|(key, _)| key.as_str() == Some(k)).map(|(_, v)| v);
        let mut ok = true;
        for (k, _) in entries {
            if !k.as_str().is_some_and(|k| CONFIG_KEYS.contains(&k)) {
                self.unknown_key(k, "neural_config", CONFIG_KEYS);
            }
        }
        if let Some(nt) = get("network_type") {
            match nt.as_str() {
                Some("feedforward") => {}
                Some(other) => {
                    let d = Diagnostic::new(
                        codes::E0403,
                        self.span(&nt.range),
                        format!("network type `{other}` is not supported"),
                    )
                    .label("only \"feedforward\" is supported")
                    .help("set `network_type: \"feedforward\"`");
                    self.report(d);
                    ok = false;
                }
                None => {
                    self.wrong_type(nt, "network_type", "the string \"feedforward\"");
                    ok = false;
                }
            }
        }
        let size = |this: &mut Self, key: &str| -> Option<usize> {
            match get(key) {
                Some(v) => this.positive(v, key),
                None => {
                    let d = Diagnostic::new(
                        codes::E0402,
                        this.span(&config_key_range(entries, config)),
                        format!("`neural_config` has no `{key}`"),
                    )
                    .label(format!("`{key}` is missing here"));
                    this.report(d);
                    None
                }
            }
        };
        let input = size(self, "input_size");
        let output = size(self, "output_size");
        let mut hidden = Some(Vec::new());
        if let Some(h) = get("hidden_layers") {
            match &h.value {
                Value::Seq(items) => {
                    let sizes: Vec<Option<usize>> = items
                        .iter()
                        .enumerate()
                        .map(|(i, n)| self.positive(n, &format!("hidden_layers[{i}]")))
                        .collect();
                    hidden = sizes.into_iter().collect();
                }
                Value::Null => {}
                _ => {
                    self.wrong_type(h, "hidden_layers", "a list of layer sizes such as [32, 16]");
                    hidden = None;
                }
            }
        }
        let act = self.activation(
            get("activation_function"),
            "activation_function",
            HIDDEN_ACTS,
            Activation::Relu,
        );
        let out_act = self.activation(
            get("output_activation"),
            "output_activation",
            OUTPUT_ACTS,
            Activation::Linear,
        );
        let lr = match get("learning_rate") {
            None => Some(0.01),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 && x < 1e6 => Some(x as f32),
                Some(x) => {
                    let d = Diagnostic::new(
                        codes::E0410,
                        self.span(&v.range),
                        format!("`learning_rate` must be a positive number, found {x}"),
                    )
                    .label("not a positive finite number");
                    self.report(d);
                    None
                }
                None => {
                    self.wrong_type(v, "learning_rate", "a positive number");
                    None
                }
            },
        };
        let (input, output, hidden) = (input?, output?, hidden?);
        let mut widths = vec![input];
        widths.extend(&hidden);
        widths.push(output);
        if weight_count(&widths) > MAX_PARAMS {
            let d = Diagnostic::new(
                codes::E0405,
                self.span(&config_key_range(entries, config)),
                format!(
                    "the network has {} parameters, more than the limit of {MAX_PARAMS}",
                    weight_count(&widths)
                ),
            )
            .label("layer sizes give too many weights");
            self.report(d);
            return None;
        }
        if !ok {
            return None;
        }
        Some((input, output, hidden, act?, out_act?, lr?))
    }

    fn positive(&mut self, v: &Node, field: &str) -> Option<usize> {
        match v.value {
            Value::Int(n) if n >= 1 && n <= MAX_LAYER as i128 => Some(n as usize),
            Value::Int(n) => {
                let why = if n < 1 {
                    "a layer needs at least one unit".to_string()
                } else {
                    format!("at most {MAX_LAYER}")
                };
                let d = Diagnostic::new(
                    codes::E0405,
                    self.span(&v.range),
                    format!("`{field}` must be a positive integer, found {n}"),
                )
                .label(why);
                self.report(d);
                None
            }
            _ => {
                self.wrong_type(v, field, "a positive integer");
                None
            }
        }
    }

    fn activation(
        &mut self,
        v: Option<&Node>,
        field: &str,
        allowed: &[&str],
        default: Activation,
    ) -> Option<Activation> {
        let Some(v) = v else { return Some(default) };
        let Some(s) = v.as_str() else {
            self.wrong_type(v, field, &format!("one of {}", allowed.join(", ")));
            return None;
        };
        if allowed.contains(&s) {
            return Activation::from_name(s);
        }
        let mut d = Diagnostic::new(
            codes::E0404,
            self.span(&v.range),
            format!("unknown activation `{s}` for `{field}`"),
        )
        .label(format!("expected one of: {}", allowed.join(", ")));
        if s == "softmax" {
            d = d.help("softmax is only allowed as `output_activation`");
        } else if let Some(s) = suggest(s, allowed) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.report(d);
        None
    }

    /// Decodes and checks the binary sections against the shape (when known).
    fn sections(
        &mut self,
        layout: &sections::Layout,
        agent: Option<&AgentFile>,
    ) -> (Option<Vec<f32>>, Option<Span>, Option<Vec<f32>>) {
        for bad in &layout.bad_headers {
            let d = Diagnostic::new(
                codes::E0409,
                self.span(&bad.range),
                "malformed binary section header",
            )
            .label("expected `---BINARY_SECTION:<name>---`");
            self.report(d);
        }
        let mut seen: Vec<&Section> = Vec::new();
        let (mut weights, mut weights_span, mut training) = (None, None, None);
        for s in &layout.sections {
            if let Some(first) = seen.iter().find(|f| f.name == s.name) {
                let d = Diagnostic::new(
                    codes::E0409,
                    self.span(&s.header),
                    format!("binary section `{}` appears twice", s.name),
                )
                .label("second section")
                .secondary(self.span(&first.header), "first defined here");
                self.report(d);
                continue;
            }
            seen.push(s);
            if !SECTIONS.contains(&s.name.as_str()) {
                let mut d = Diagnostic::new(
                    codes::W0401,
                    self.span(&s.header),
                    format!("unknown binary section `{}`", s.name),
                )
                .label("this section is ignored");
                if let Some(sug) = suggest(&s.name, SECTIONS) {
                    d = d.help(format!("did you mean `{sug}`?"));
                }
                self.report(d);
                continue;
            }
            let values = match sections::decode_f32(self.text, s.body.clone()) {
                Ok(v) => v,
                Err(e) => {
                    let d = Diagnostic::new(
                        codes::E0407,
                        self.span(&e.range),
                        format!("section `{}`: {}", s.name, e.message),
                    )
                    .label("bad base64 here")
                    .secondary(self.span(&s.header), "in this section");
                    self.report(d);
                    continue;
                }
            };
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                let d = Diagnostic::new(
                    codes::E0413,
                    self.span(&s.header),
                    format!(
                        "section `{}` holds a non-finite value ({}) at index {i}",
                        s.name, values[i]
                    ),
                )
                .label("NaN or infinity in this section");
                self.report(d);
                continue;
            }
            let Some(agent) = agent else { continue };
            if s.name == "neural_weights" {
                let need = agent.weight_count();
                if values.len() != need {
                    let shape: Vec<String> =
                        agent.layer_sizes().iter().map(|n| n.to_string()).collect();
                    let d = Diagnostic::new(
                        codes::E0406,
                        self.span(&s.header),
                        format!(
                            "`neural_weights` holds {} values but the {} network needs {need}",
                            values.len(),
                            shape.join("-")
                        ),
                    )
                    .label(format!("{} values here, expected {need}", values.len()))
                    .help("retrain with `kiln train` to write weights that match the shape");
                    self.report(d);
                    continue;
                }
                weights = Some(values);
                weights_span = Some(self.span(&s.header));
            } else {
                let row = agent.input_size + agent.output_size;
                if values.len() % row != 0 || values.is_empty() {
                    let d = Diagnostic::new(
                        codes::E0408,
                        self.span(&s.header),
                        format!(
                            "`training_data` holds {} values, not a whole number of rows of {row} (input_size {} + output_size {})",
                            values.len(),
                            agent.input_size,
                            agent.output_size
                        ),
                    )
                    .label(format!("{} values over rows of {row}", values.len()));
                    self.report(d);
                    continue;
                }
                training = Some(values);
            }
        }
        (weights, weights_span, training)
    }
}

/// The range of the `neural_config` key's first entry (for "missing field" reports).
fn config_key_range(entries: &[(Node, Node)], config: &Node) -> Range<usize> {
    entries.first().map(|(k, _)| k.range.clone()).unwrap_or_else(|| config.range.clone())
}

/// The closest known word within edit distance 2, for "did you mean" help.
pub(super) fn suggest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = word.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
