//! `kiln train`: minibatch backpropagation with Adam. Softmax outputs minimize
//! cross-entropy, every other output the mean squared error. Deterministic: the seed fixes
//! the initial weights and the shuffling, and the arithmetic runs in one fixed order.

use super::data::Dataset;
use super::net::{init_weights, layers, offsets};
use super::rng::Rng;
use crate::syntax::agent::{Activation, AgentFile};

#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions { epochs: 10, batch: 32, seed: 0 }
    }
}

/// What one epoch achieved, on the training rows.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub epochs: usize,
    /// Mean cross-entropy (softmax outputs) or mean squared error.
    pub loss: f64,
    /// Share of rows whose largest output is their label (labelled data only).
    pub accuracy: Option<f64>,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

/// Trains the agent's weights (starting from its `neural_weights`, or from fresh weights
/// drawn with the seed) and returns them in the `.af` order.
pub fn train(
    agent: &AgentFile,
    data: &Dataset,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<Vec<f32>, String> {
    if data.input_size != agent.input_size || data.output_size != agent.output_size {
        return Err(format!(
            "the data has rows of {} inputs and {} outputs, the agent {} and {}",
            data.input_size, data.output_size, agent.input_size, agent.output_size
        ));
    }
    if opts.epochs == 0 || opts.batch == 0 {
        return Err("epochs and batch size must be at least 1".into());
    }
    let mut rng = Rng::new(opts.seed);
    let mut w = match &agent.weights {
        Some(w) => w.clone(),
        None => init_weights(agent, &mut rng),
    };
    let shape = layers(agent);
    let offs = offsets(agent);
    let ce = agent.output_activation == Activation::Softmax;
    let (mut m1, mut m2, mut grad) =
        (vec![0.0f32; w.len()], vec![0.0f32; w.len()], vec![0.0f32; w.len()]);
    let mut acts: Vec<Vec<f32>> = agent.layer_sizes().iter().map(|n| vec![0.0; *n]).collect();
    let mut deltas: Vec<Vec<f32>> = agent.layer_sizes().iter().map(|n| vec![0.0; *n]).collect();
    let mut order: Vec<usize> = (0..data.rows()).collect();
    let mut t = 0i32;
    for epoch in 1..=opts.epochs {
        rng.shuffle(&mut order);
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for batch in order.chunks(opts.batch) {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for &i in batch {
                acts[0].copy_from_slice(data.x(i));
                forward(&shape, &offs, &w, &mut acts);
                let out = &acts[acts.len() - 1];
                let y = data.y(i);
                if let Some(labels) = &data.labels {
                    correct += usize::from(argmax(out) == labels[i]);
                }
                // Output delta (dLoss/dz) and loss.
                let last = deltas.len() - 1;
                let m = out.len();
                for j in 0..m {
                    let d = out[j] - y[j];
                    if ce {
                        if y[j] > 0.0 {
                            loss -= (y[j] as f64) * (out[j].max(1e-12) as f64).ln();
                        }
                        deltas[last][j] = d;
                    } else {
                        loss += (d as f64) * (d as f64) / m as f64;
                        deltas[last][j] =
                            2.0 * d / m as f32 * derivative(agent.output_activation, out[j]);
                    }
                }
                backward(&shape, &offs, &w, &acts, &mut deltas, &mut grad);
            }
            t += 1;
            let scale = 1.0 / batch.len() as f32;
            let lr = agent.learning_rate * (1.0 - BETA2.powi(t)).sqrt() / (1.0 - BETA1.powi(t));
            for i in 0..w.len() {
                let g = grad[i] * scale;
                m1[i] = BETA1 * m1[i] + (1.0 - BETA1) * g;
                m2[i] = BETA2 * m2[i] + (1.0 - BETA2) * g * g;
                w[i] -= lr * m1[i] / (m2[i].sqrt() + EPS);
            }
        }
        let rows = data.rows() as f64;
        let report = EpochReport {
            epoch,
            epochs: opts.epochs,
            loss: loss / rows,
            accuracy: data.labels.as_ref().map(|_| correct as f64 / rows),
        };
        if !report.loss.is_finite() || w.iter().any(|v| !v.is_finite()) {
            return Err(format!(
                "training diverged in epoch {epoch} (the loss is not finite); lower `learning_rate` (now {})",
                agent.learning_rate
            ));
        }
        progress(&report);
    }
    Ok(w)
}

fn argmax(v: &[f32]) -> usize {
    kiln_runtime::kernels::argmax::argmax(v).unwrap_or(0)
}

/// dA/dZ expressed through the activation's output `a`.
fn derivative(act: Activation, a: f32) -> f32 {
    match act {
        Activation::Relu => f32::from(a > 0.0),
        Activation::Sigmoid => a * (1.0 - a),
        Activation::Tanh => 1.0 - a * a,
        Activation::Linear | Activation::Softmax => 1.0,
    }
}

/// Fills `acts[l + 1]` from `acts[l]` for every layer.
fn forward(
    shape: &[(usize, usize, Activation)],
    offs: &[(usize, usize)],
    w: &[f32],
    acts: &mut [Vec<f32>],
) {
    for (l, (&(k, m, act), &(wo, bo))) in shape.iter().zip(offs).enumerate() {
        let (lo, hi) = acts.split_at_mut(l + 1);
        let (input, out) = (&lo[l], &mut hi[0]);
        for o in 0..m {
            let row = &w[wo + o * k..wo + (o + 1) * k];
            out[o] = w[bo + o] + row.iter().zip(input.iter()).map(|(a, b)| a * b).sum::<f32>();
        }
        match act {
            Activation::Linear => {}
            Activation::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Sigmoid => out.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Activation::Tanh => out.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Softmax => {
                let mx = out.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                out.iter_mut().for_each(|v| *v = (*v - mx).exp());
                let s: f32 = out.iter().sum();
                out.iter_mut().for_each(|v| *v /= s);
            }
        }
    }
}

/// Accumulates the gradient of one row, given the output layer's delta in `deltas`.
fn backward(
    shape: &[(usize, usize, Activation)],
    offs: &[(usize, usize)],
    w: &[f32],
    acts: &[Vec<f32>],
    deltas: &mut [Vec<f32>],
    grad: &mut [f32],
) {
    for l in (0..shape.len()).rev() {
        let (k, m, _) = shape[l];
        let (wo, bo) = offs[l];
        let (lo, hi) = deltas.split_at_mut(l + 1);
        let delta = &hi[0];
        let input = &acts[l];
        for o in 0..m {
            let d = delta[o];
            grad[bo + o] += d;
            for (g, a) in grad[wo + o * k..wo + (o + 1) * k].iter_mut().zip(input) {
                *g += d * a;
            }
        }
        if l > 0 {
            let prev_act = shape[l - 1].2;
            let prev = &mut lo[l];
            prev.iter_mut().for_each(|p| *p = 0.0);
            for o in 0..m {
                let d = delta[o];
                for (p, wv) in prev.iter_mut().zip(&w[wo + o * k..wo + (o + 1) * k]) {
                    *p += wv * d;
                }
            }
            for (p, a) in prev.iter_mut().zip(input) {
                *p *= derivative(prev_act, *a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::agent::parse_agent;

    fn xor_agent() -> AgentFile {
        let text = "name: xor\nneural_config:\n  input_size: 2\n  output_size: 1\n  hidden_layers: [8]\n  activation_function: tanh\n  output_activation: sigmoid\n  learning_rate: 0.05\n";
        parse_agent(FileId(0), text).0.unwrap()
    }

    fn xor_data() -> Dataset {
        let mut d = Dataset { input_size: 2, output_size: 1, ..Dataset::default() };
        for (a, b) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
            d.inputs.extend([a, b]);
            d.targets.push(if a != b { 1.0 } else { 0.0 });
        }
        d
    }

    #[test]
    fn learns_xor_deterministically() {
        let (a, d) = (xor_agent(), xor_data());
        let opts = TrainOptions { epochs: 400, batch: 4, seed: 3 };
        let mut losses = Vec::new();
        let w = train(&a, &d, &opts, &mut |r| losses.push(r.loss)).unwrap();
        assert!(losses[losses.len() - 1] < 0.01, "final loss {}", losses[losses.len() - 1]);
        assert!(losses[losses.len() - 1] < losses[0] / 10.0);
        for i in 0..4 {
            let y = super::super::net::forward_f64(&a, &w, d.x(i));
            assert!((y[0] - d.y(i)[0] as f64).abs() < 0.2, "{i}: {y:?}");
        }
        let again = train(&a, &d, &opts, &mut |_| {}).unwrap();
        assert_eq!(w, again, "same seed, same weights");
        let other = train(&a, &d, &TrainOptions { seed: 4, ..opts }, &mut |_| {}).unwrap();
        assert_ne!(w, other);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let text = "name: g\nneural_config:\n  input_size: 3\n  output_size: 4\n  hidden_layers: [5]\n  activation_function: sigmoid\n  output_activation: softmax\n";
        let a = parse_agent(FileId(0), text).0.unwrap();
        let mut rng = Rng::new(1);
        let w = init_weights(&a, &mut rng);
        let (shape, offs) = (layers(&a), offsets(&a));
        let x = [0.3f32, -0.7, 0.9];
        let y = [0.0f32, 0.0, 1.0, 0.0];
        let loss = |w: &[f32]| -> f64 { -(super::super::net::forward_f64(&a, w, &x)[2]).ln() };
        let mut acts: Vec<Vec<f32>> = a.layer_sizes().iter().map(|n| vec![0.0; *n]).collect();
        let mut deltas = acts.clone();
        acts[0].copy_from_slice(&x);
        forward(&shape, &offs, &w, &mut acts);
        let last = deltas.len() - 1;
        for j in 0..4 {
            deltas[last][j] = acts[last][j] - y[j];
        }
        let mut grad = vec![0.0; w.len()];
        backward(&shape, &offs, &w, &acts, &mut deltas, &mut grad);
        for i in (0..w.len()).step_by(3) {
            let (mut p, mut q) = (w.clone(), w.clone());
            p[i] += 1e-3;
            q[i] -= 1e-3;
            let num = (loss(&p) - loss(&q)) / 2e-3;
            assert!((num - grad[i] as f64).abs() < 1e-3, "weight {i}: {num} vs {}", grad[i]);
        }
    }
}
