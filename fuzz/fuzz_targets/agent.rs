//! The `.af` agent loader (`syntax::agent::parse_agent`) on arbitrary text. It fails on a
//! panic, on a diagnostic whose span lies outside the text or off a character boundary, on
//! an agent returned together with an error, and on an agent that breaks the loader's
//! promises: a shape within the limits, weights and training rows that match it, finite
//! values, spans that point at what they name. When an agent loads, `rewrite_weights` with
//! fresh weights must give a file that loads to the same agent with the new weights.
//!
//! The first input byte picks a mutation of a valid file (so the fuzzer spends its time
//! past the YAML parser): none, or the rest of the input spliced into a valid agent file.
#![no_main]

use kiln::diag::Diagnostic;
use kiln::source::{FileId, Span};
use kiln::syntax::agent::{
    AgentFile, MAX_LAYER, MAX_PARAMS, parse_agent, rewrite_weights, sections, weight_count,
};
use libfuzzer_sys::fuzz_target;

const VALID: &str = "version: \"1.0\"\nname: \"tiny\"\nneural_config:\n  network_type: \"feedforward\"\n  input_size: 2\n  output_size: 1\n  hidden_layers: [3]\n  activation_function: \"tanh\"\n  output_activation: \"sigmoid\"\n  learning_rate: 0.5\nresources:\n  limits:\n    memory_mb: 64\n---BINARY_SECTION:neural_weights---\nAAAAAM3MzD3NzEw+mpmZPs3MzD4AAAA/mpkZPzMzMz/NzEw/ZmZmPwAAgD/NzIw/mpmZPw==\n---BINARY_SECTION:training_data---\nAAAAAAAAAAAAAAAAAAAAAAAAgD8AAIA/AACAPwAAAAAAAIA/AACAPwAAgD8AAAAA\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(rest) = std::str::from_utf8(rest) else { return };
    let text = match mode % 4 {
        // The input as it is.
        0 | 1 => rest.to_string(),
        // The input replaces a slice of the valid file (at a char boundary).
        _ => {
            let at = (mode as usize * 7) % VALID.len();
            let mut at = at;
            while !VALID.is_char_boundary(at) {
                at -= 1;
            }
            let cut = (at + (mode as usize % 13)).min(VALID.len());
            format!("{}{}{}", &VALID[..at], rest, &VALID[cut..])
        }
    };
    check(&text);
});

fn check(text: &str) {
    let file = FileId(0);
    let (agent, diags) = parse_agent(file, text);
    for d in &diags {
        assert_span(text, d.primary.span, d);
        for l in &d.secondary {
            assert_span(text, l.span, d);
        }
    }
    let errors = diags.iter().any(Diagnostic::is_error);
    let Some(a) = agent else {
        return;
    };
    assert!(!errors, "an agent came back with errors: {diags:#?}");
    invariants(text, &a);
    // Fresh weights of the right count: the file reloads to the same agent.
    let fresh: Vec<f32> = (0..a.weight_count()).map(|i| i as f32 * 0.25 - 1.0).collect();
    let out = rewrite_weights(text, &fresh);
    let (again, diags2) = parse_agent(file, &out);
    let Some(b) = again else {
        panic!("rewrite_weights broke a valid file:\n{out:?}\n{diags2:#?}");
    };
    assert_eq!(b.weights.as_deref(), Some(&fresh[..]), "weights after rewrite");
    let same = |x: &AgentFile| {
        (
            x.name.clone(),
            x.layer_sizes(),
            x.activation,
            x.output_activation,
            x.learning_rate.to_bits(),
            x.training_data.clone(),
            x.limits.clone(),
        )
    };
    assert_eq!(same(&a), same(&b), "rewrite changed more than the weights:\n{out:?}");
    // Everything outside the weights body is kept byte for byte: the text up to the end of
    // the section header, and everything after the old body.
    let layout = sections::split(text);
    match layout.sections.iter().find(|s| s.name == "neural_weights") {
        Some(s) => {
            assert!(out.starts_with(&text[..s.header.end]), "rewrite changed the head:\n{out:?}");
            assert!(out.ends_with(&text[s.body.end..]), "rewrite changed the tail:\n{out:?}");
        }
        None => assert!(out.starts_with(text), "rewrite changed the text:\n{out:?}"),
    }
    invariants(&out, &b);
}

fn invariants(text: &str, a: &AgentFile) {
    assert!(!a.name.trim().is_empty(), "empty name");
    assert!(a.input_size >= 1 && a.input_size <= MAX_LAYER, "input_size {}", a.input_size);
    assert!(a.output_size >= 1 && a.output_size <= MAX_LAYER, "output_size {}", a.output_size);
    for &h in &a.hidden_layers {
        assert!((1..=MAX_LAYER).contains(&h), "hidden layer {h}");
    }
    let sizes = a.layer_sizes();
    assert_eq!(sizes.len(), a.hidden_layers.len() + 2);
    assert_eq!(a.layers().len(), a.hidden_layers.len() + 1);
    assert!(weight_count(&sizes) <= MAX_PARAMS, "too many parameters");
    assert_eq!(a.weight_count(), weight_count(&sizes));
    assert!(
        a.learning_rate.is_finite() && a.learning_rate > 0.0,
        "learning rate {}",
        a.learning_rate
    );
    assert_ne!(a.activation.name(), "softmax", "softmax as a hidden activation");
    assert_span_range(text, a.name_span);
    if let Some(w) = &a.weights {
        assert_eq!(w.len(), a.weight_count(), "weights do not match the shape");
        assert!(w.iter().all(|v| v.is_finite()), "non-finite weight");
        let span = a.weights_span.expect("weights without their span");
        assert_span_range(text, span);
        let header = &text[span.start as usize..span.end as usize];
        assert!(
            header.starts_with("---BINARY_SECTION:neural_weights---"),
            "weights span {header:?}"
        );
    } else {
        assert!(a.weights_span.is_none(), "a weights span without weights");
    }
    if let Some(t) = &a.training_data {
        let row = a.input_size + a.output_size;
        assert!(!t.is_empty() && t.len() % row == 0, "training data of {} values", t.len());
        assert!(t.iter().all(|v| v.is_finite()), "non-finite training value");
    }
    let c = a.c_name();
    assert!(!c.is_empty() && !c.starts_with(|ch: char| ch.is_ascii_digit()), "c name {c:?}");
    assert!(c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'), "c name {c:?}");
}

fn assert_span(text: &str, span: Span, d: &Diagnostic) {
    assert_eq!(span.file, FileId(0), "{d:?}");
    assert!(span.start <= span.end, "reversed span in {d:?}");
    assert!(span.end as usize <= text.len(), "span past the end in {d:?}");
    assert!(text.is_char_boundary(span.start as usize), "span starts inside a char: {d:?}");
    assert!(text.is_char_boundary(span.end as usize), "span ends inside a char: {d:?}");
}

fn assert_span_range(text: &str, span: Span) {
    assert!(span.start <= span.end && span.end as usize <= text.len(), "{span:?}");
    assert!(text.is_char_boundary(span.start as usize), "{span:?}");
    assert!(text.is_char_boundary(span.end as usize), "{span:?}");
}
