//! `.af` agent files: a YAML document (Agent File Format v1.0 keys) followed by optional
//! base64 binary sections. [`parse_agent`] validates every field and reports every problem
//! of the file at once; [`rewrite_weights`] replaces the `neural_weights` section and keeps
//! the rest of the file byte for byte.

mod resources;
pub mod sections;
mod validate;
pub mod yaml;

pub use resources::Resources;

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// Largest accepted layer width and parameter count: far beyond any network the loader is
/// meant for, small enough that a typo cannot make us allocate gigabytes.
pub const MAX_LAYER: usize = 1 << 20;
pub const MAX_PARAMS: usize = 1 << 28;

/// An activation function, as named in `activation_function` / `output_activation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }
    pub fn from_name(s: &str) -> Option<Activation> {
        [
            Activation::Linear,
            Activation::Relu,
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Softmax,
        ]
        .into_iter()
        .find(|a| a.name() == s)
    }
    /// The code the runtime kernels use (`kiln_runtime::kernels::Act`).
    pub fn code(self) -> u32 {
        match self {
            Activation::Linear => 0,
            Activation::Relu => 1,
            Activation::Sigmoid => 2,
            Activation::Tanh => 3,
            Activation::Softmax => 4,
        }
    }
}

/// A validated agent file.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentFile {
    pub file: FileId,
    pub name: String,
    /// The `name` value (for "defined here" labels).
    pub name_span: Span,
    pub input_size: usize,
    pub output_size: usize,
    pub hidden_layers: Vec<usize>,
    pub activation: Activation,
    pub output_activation: Activation,
    pub learning_rate: f32,
    /// All layers' `[out][in]` weights then `[out]` biases, in layer order.
    pub weights: Option<Vec<f32>>,
    /// The `neural_weights` header line, when the section exists.
    pub weights_span: Option<Span>,
    /// Rows of `input_size + output_size` values.
    pub training_data: Option<Vec<f32>>,
    /// `resources.limits` and `resources.requirements`.
    pub limits: Resources,
}

impl AgentFile {
    /// Widths from the input to the output: `[input, hidden..., output]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut v = vec![self.input_size];
        v.extend(&self.hidden_layers);
        v.push(self.output_size);
        v
    }
    /// `(inputs, outputs)` of each weight layer in order.
    pub fn layers(&self) -> Vec<(usize, usize)> {
        self.layer_sizes().windows(2).map(|w| (w[0], w[1])).collect()
    }
    /// The activation applied after layer `i`.
    pub fn activation_of(&self, i: usize) -> Activation {
        if i + 1 == self.hidden_layers.len() + 1 { self.output_activation } else { self.activation }
    }
    /// How many values `neural_weights` must hold.
    pub fn weight_count(&self) -> usize {
        weight_count(&self.layer_sizes())
    }
    /// The C identifier prefix for generated symbols: `name` with every character outside
    /// `[A-Za-z0-9_]` replaced by `_` (and a leading `_` if it would start with a digit).
    pub fn c_name(&self) -> String {
        c_identifier(&self.name)
    }
}

/// The number of weights and biases of a network with these widths.
pub fn weight_count(sizes: &[usize]) -> usize {
    sizes
        .windows(2)
        .fold(0usize, |acc, w| acc.saturating_add(w[1].saturating_mul(w[0].saturating_add(1))))
}

/// `name` with every character outside `[A-Za-z0-9_]` replaced by `_`.
pub fn c_identifier(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// Parses and validates an agent file. Returns the agent when the file has no errors
/// (warnings may still be present), and every diagnostic found.
pub fn parse_agent(file: FileId, text: &str) -> (Option<AgentFile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let agent = validate::Validator { file, text, diags: &mut diags }.run();
    crate::diag::sort(&mut diags);
    let ok = !diags.iter().any(Diagnostic::is_error);
    (agent.filter(|_| ok), diags)
}

/// `text` with its `neural_weights` section replaced by `weights` (or such a section added
/// at the end). Everything else stays byte for byte as it was.
pub fn rewrite_weights(text: &str, weights: &[f32]) -> String {
    let layout = sections::split(text);
    let body = sections::encode_f32(weights);
    match layout.sections.iter().find(|s| s.name == "neural_weights") {
        Some(s) => {
            let mut out = String::with_capacity(text.len() + body.len());
            out.push_str(&text[..s.header.end]);
            // Keep the header's own line ending (\n or \r\n).
            let eol = if text[s.header.end..].starts_with("\r\n") { "\r\n" } else { "\n" };
            out.push_str(eol);
            out.push_str(&body);
            out.push_str(&text[s.body.end..]);
            out
        }
        None => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(sections::MARKER);
            out.push_str(":neural_weights---\n");
            out.push_str(&body);
            out
        }
    }
}

#[cfg(test)]
mod tests;
