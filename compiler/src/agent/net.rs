//! A network's shape and weights in the `.af` order, weight initialization, packing for the
//! runtime kernels, and forward passes (kernel-based, and an `f64` reference).

use super::rng::Rng;
use crate::syntax::agent::{Activation, AgentFile};
use kiln_runtime::kernels::{Act, pack};

/// The loaded agents of a pipeline, by agent index (`None`: not called, so not loaded).
pub type Agents = Vec<Option<std::rc::Rc<Vec<PackedLayer>>>>;

/// One dense layer as the kernels want it.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedLayer {
    pub inputs: usize,
    pub outputs: usize,
    pub act: Act,
    /// Panel-packed weights ([`pack::pack_weights`]).
    pub weights: Vec<f32>,
    /// Bias padded to whole panels.
    pub bias: Vec<f32>,
}

/// The shape of a network: `(inputs, outputs, activation)` per layer.
pub fn layers(agent: &AgentFile) -> Vec<(usize, usize, Activation)> {
    agent
        .layers()
        .into_iter()
        .enumerate()
        .map(|(i, (k, m))| (k, m, agent.activation_of(i)))
        .collect()
}

/// Offsets of each layer's weights and bias in the flat `.af` weight vector.
pub fn offsets(agent: &AgentFile) -> Vec<(usize, usize)> {
    let mut at = 0;
    agent
        .layers()
        .into_iter()
        .map(|(k, m)| {
            let w = at;
            at += k * m + m;
            (w, w + k * m)
        })
        .collect()
}

pub fn act_of(a: Activation) -> Act {
    Act::from_code(a.code()).unwrap_or(Act::Linear)
}

/// Fresh weights: He-uniform for relu layers, Glorot-uniform otherwise; biases zero.
pub fn init_weights(agent: &AgentFile, rng: &mut Rng) -> Vec<f32> {
    let mut w = Vec::with_capacity(agent.weight_count());
    for (k, m, act) in layers(agent) {
        let limit = match act {
            Activation::Relu => (6.0 / k as f64).sqrt(),
            _ => (6.0 / (k + m) as f64).sqrt(),
        };
        w.extend((0..k * m).map(|_| ((rng.next_f64() * 2.0 - 1.0) * limit) as f32));
        w.extend(std::iter::repeat_n(0.0, m));
    }
    w
}

/// Packs every layer of `weights` (`.af` order) for the kernels.
pub fn pack_layers(agent: &AgentFile, weights: &[f32]) -> Vec<PackedLayer> {
    layers(agent)
        .into_iter()
        .zip(offsets(agent))
        .map(|((k, m, act), (w, b))| PackedLayer {
            inputs: k,
            outputs: m,
            act: act_of(act),
            weights: pack::pack_weights(&weights[w..w + k * m], k, m).unwrap_or_default(),
            bias: pack::pack_bias(&weights[b..b + m]),
        })
        .collect()
}

/// The forward pass of `n` rows through the dispatched SIMD kernels.
pub fn forward(layers: &[PackedLayer], x: &[f32], n: usize) -> Vec<f32> {
    let mut cur = x.to_vec();
    for l in layers {
        let mut next = vec![0.0; n * l.outputs];
        let ok = kiln_runtime::simd::dense(
            &l.weights, &l.bias, &cur, &mut next, n, l.inputs, l.outputs, l.act,
        );
        debug_assert!(ok, "shapes of a packed network are consistent");
        cur = next;
    }
    cur
}

/// The forward pass of `n` rows as pipelines run it: always the GEMM micro-kernel, whose
/// result for a row does not depend on the other rows, so `kiln run` gives the same bits
/// whether agent calls are batched by the compiler (any batch size) or made one at a time
/// by the interpreter.
pub fn forward_rows(layers: &[PackedLayer], x: &[f32], n: usize) -> Vec<f32> {
    let mut cur = x.to_vec();
    for l in layers {
        let mut next = vec![0.0; n * l.outputs];
        let ok = kiln_runtime::simd::dense_gemm(
            &l.weights, &l.bias, &cur, &mut next, n, l.inputs, l.outputs, l.act,
        );
        debug_assert!(ok, "shapes of a packed network are consistent");
        cur = next;
    }
    cur
}

/// The reference forward pass of one row in `f64`, straight from the `.af` layout.
pub fn forward_f64(agent: &AgentFile, weights: &[f32], x: &[f32]) -> Vec<f64> {
    let mut cur: Vec<f64> = x.iter().map(|v| *v as f64).collect();
    for ((k, m, act), (w, b)) in layers(agent).into_iter().zip(offsets(agent)) {
        let mut next: Vec<f64> = (0..m)
            .map(|o| {
                weights[b + o] as f64
                    + (0..k).map(|i| weights[w + o * k + i] as f64 * cur[i]).sum::<f64>()
            })
            .collect();
        match act {
            Activation::Linear => {}
            Activation::Relu => next.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Sigmoid => next.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Activation::Tanh => next.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Softmax => {
                let mx = next.iter().cloned().fold(f64::MIN, f64::max);
                let s: f64 = next.iter().map(|v| (v - mx).exp()).sum();
                next.iter_mut().for_each(|v| *v = (*v - mx).exp() / s);
            }
        }
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::agent::parse_agent;

    fn agent(sizes: &[usize], hidden: &str, out: &str) -> AgentFile {
        let h: Vec<String> = sizes[1..sizes.len() - 1].iter().map(|s| s.to_string()).collect();
        let text = format!(
            "name: t\nneural_config:\n  input_size: {}\n  output_size: {}\n  hidden_layers: [{}]\n  activation_function: {hidden}\n  output_activation: {out}\n",
            sizes[0],
            sizes[sizes.len() - 1],
            h.join(", ")
        );
        let (a, d) = parse_agent(FileId(0), &text);
        assert!(d.is_empty(), "{d:?}");
        a.unwrap()
    }

    /// What pipelines use: a row's result has the same bits whether it runs alone or in a
    /// batch of any size (so compiler-batched agent calls equal the interpreter's).
    #[test]
    fn forward_rows_does_not_depend_on_the_batch() {
        for sizes in [&[64usize, 32, 10][..], &[784, 128, 64, 32, 10], &[5, 3]] {
            let a = agent(sizes, "relu", "softmax");
            let mut rng = Rng::new(9);
            let packed = pack_layers(&a, &init_weights(&a, &mut rng));
            let n = 13;
            let x: Vec<f32> =
                (0..n * sizes[0]).map(|_| (rng.next_f64() * 2.0 - 1.0) as f32).collect();
            let all = forward_rows(&packed, &x, n);
            let m = a.output_size;
            for r in 0..n {
                let one = forward_rows(&packed, &x[r * sizes[0]..(r + 1) * sizes[0]], 1);
                assert_eq!(one.len(), m);
                for (u, v) in one.iter().zip(&all[r * m..(r + 1) * m]) {
                    assert_eq!(u.to_bits(), v.to_bits(), "{sizes:?} row {r}");
                }
            }
            for (lo, hi) in [(0, 4), (4, 9), (9, 13)] {
                let part = forward_rows(&packed, &x[lo * sizes[0]..hi * sizes[0]], hi - lo);
                assert_eq!(part, all[lo * m..hi * m], "{sizes:?} rows {lo}..{hi}");
            }
        }
    }

    /// The kernel forward pass equals the f64 reference within 1e-5 (relative to
    /// max(|reference|, 1)) for several shapes and every activation.
    #[test]
    fn kernels_match_f64_reference() {
        let shapes: &[&[usize]] = &[
            &[1, 1],
            &[2, 3, 1],
            &[64, 32, 10],
            &[784, 128, 64, 32, 10],
            &[17, 40, 33, 5],
            &[100, 1],
        ];
        for sizes in shapes {
            for hidden in ["relu", "sigmoid", "tanh", "linear"] {
                for out in ["linear", "softmax", "sigmoid", "relu", "tanh"] {
                    let a = agent(sizes, hidden, out);
                    let mut rng = Rng::new(sizes.len() as u64);
                    let mut w = init_weights(&a, &mut rng);
                    // Non-zero biases, so their path is tested too.
                    for (_, b) in offsets(&a) {
                        let m = w[b..].len().min(a.layer_sizes().len());
                        for v in &mut w[b..b + m] {
                            *v = (rng.next_f64() - 0.5) as f32;
                        }
                    }
                    let packed = pack_layers(&a, &w);
                    let n = 7;
                    let x: Vec<f32> =
                        (0..n * sizes[0]).map(|_| (rng.next_f64() * 2.0 - 1.0) as f32).collect();
                    let batch = forward(&packed, &x, n);
                    for r in 0..n {
                        let xr = &x[r * sizes[0]..(r + 1) * sizes[0]];
                        let want = forward_f64(&a, &w, xr);
                        let one = forward(&packed, xr, 1);
                        let out_n = a.output_size;
                        for (j, wv) in want.iter().enumerate() {
                            for got in [one[j], batch[r * out_n + j]] {
                                let err = (got as f64 - wv).abs() / wv.abs().max(1.0);
                                assert!(
                                    err <= 1e-5,
                                    "{sizes:?} {hidden}/{out} row {r} out {j}: {got} vs {wv}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
