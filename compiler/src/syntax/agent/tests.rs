use super::*;
use crate::source::SourceMap;

/// Every fixture under tests/ui/agents/ with the codes it must produce (sorted).
const FIXTURES: &[(&str, &str, &[&str])] = &[
    ("ok_tiny.af", include_str!("../../../../tests/ui/agents/ok_tiny.af"), &[]),
    ("bad_yaml.af", include_str!("../../../../tests/ui/agents/e0400_bad_yaml.af"), &["E0400"]),
    (
        "wrong_count.af",
        include_str!("../../../../tests/ui/agents/e0406_wrong_count.af"),
        &["E0406"],
    ),
    (
        "unknown_activation.af",
        include_str!("../../../../tests/ui/agents/e0404_unknown_activation.af"),
        &["E0404", "E0404"],
    ),
    (
        "truncated_base64.af",
        include_str!("../../../../tests/ui/agents/e0407_truncated_base64.af"),
        &["E0407"],
    ),
    (
        "invalid_base64.af",
        include_str!("../../../../tests/ui/agents/e0407_invalid_base64.af"),
        &["E0407"],
    ),
    (
        "missing_sections.af",
        include_str!("../../../../tests/ui/agents/e0402_missing_sections.af"),
        &["E0402", "E0402"],
    ),
    (
        "missing_size.af",
        include_str!("../../../../tests/ui/agents/e0402_missing_size.af"),
        &["E0402"],
    ),
    (
        "bad_types.af",
        include_str!("../../../../tests/ui/agents/e0401_bad_types.af"),
        &["E0401", "E0405", "E0405", "E0410"],
    ),
    ("recurrent.af", include_str!("../../../../tests/ui/agents/e0403_recurrent.af"), &["E0403"]),
    (
        "unknown_keys.af",
        include_str!("../../../../tests/ui/agents/w0400_unknown_keys.af"),
        &["W0400", "W0401"],
    ),
    (
        "bad_training_rows.af",
        include_str!("../../../../tests/ui/agents/e0408_bad_training_rows.af"),
        &["E0408"],
    ),
    ("bad_header.af", include_str!("../../../../tests/ui/agents/e0409_bad_header.af"), &["E0409"]),
    (
        "duplicate_section.af",
        include_str!("../../../../tests/ui/agents/e0409_duplicate_section.af"),
        &["E0409"],
    ),
    (
        "softmax_hidden.af",
        include_str!("../../../../tests/ui/agents/e0404_softmax_hidden.af"),
        &["E0404"],
    ),
    (
        "not_a_mapping.af",
        include_str!("../../../../tests/ui/agents/e0401_not_a_mapping.af"),
        &["E0401"],
    ),
    (
        "nan_weights.af",
        include_str!("../../../../tests/ui/agents/e0413_nan_weights.af"),
        &["E0413"],
    ),
    (
        "many_problems.af",
        include_str!("../../../../tests/ui/agents/e0403_many_problems.af"),
        &["E0403", "E0404", "E0407", "W0400"],
    ),
    (
        "bad_limits.af",
        include_str!("../../../../tests/ui/agents/e0411_bad_limits.af"),
        &["E0401", "E0411"],
    ),
    ("empty.af", include_str!("../../../../tests/ui/agents/e0402_empty.af"), &["E0402"]),
];

fn load(name: &str, text: &str) -> (SourceMap, Option<AgentFile>, Vec<Diagnostic>) {
    let mut map = SourceMap::new();
    let id = map.add(name, text);
    let (a, d) = parse_agent(id, text);
    (map, a, d)
}

#[test]
fn fixtures_give_expected_codes_with_locations() {
    for (name, text, want) in FIXTURES {
        let (map, agent, diags) = load(name, text);
        let mut got: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        got.sort();
        assert_eq!(&got, want, "{name}: {diags:#?}");
        let has_error = diags.iter().any(|d| d.is_error());
        assert_eq!(agent.is_some(), !has_error, "{name}");
        for d in &diags {
            let span = d.primary.span;
            assert!(span.end as usize <= text.len(), "{name}: {d:?}");
            // A location on a line of the file, and something underlined when the file has text.
            let (line, col) = map.get(span.file).line_col(span.start as usize);
            assert!(line >= 1 && col >= 1);
            if !text.is_empty() {
                assert!(!span.is_empty(), "{name}: empty span for {d:?}");
            }
        }
    }
}

#[test]
fn spans_point_at_the_culprit() {
    let (map, _, d) =
        load("u.af", include_str!("../../../../tests/ui/agents/e0404_unknown_activation.af"));
    assert_eq!(map.text(d[0].primary.span), "\"tanhh\"");
    assert_eq!(map.get(d[0].primary.span.file).line_col(d[0].primary.span.start as usize), (8, 24));
    assert_eq!(d[0].help.as_deref(), Some("did you mean `tanh`?"));
    let (_, _, d) = load("w.af", include_str!("../../../../tests/ui/agents/e0406_wrong_count.af"));
    assert!(
        d[0].message.contains("holds 12 values") && d[0].message.contains("needs 13"),
        "{}",
        d[0].message
    );
    let (map, _, d) =
        load("i.af", include_str!("../../../../tests/ui/agents/e0407_invalid_base64.af"));
    assert_eq!(map.text(d[0].primary.span), "$");
}

#[test]
fn valid_file_loads_everything() {
    let (_, a, d) = load("ok.af", include_str!("../../../../tests/ui/agents/ok_tiny.af"));
    assert!(d.is_empty());
    let a = a.unwrap();
    assert_eq!(a.name, "tiny");
    assert_eq!(a.layer_sizes(), vec![2, 3, 1]);
    assert_eq!((a.activation, a.output_activation), (Activation::Tanh, Activation::Sigmoid));
    assert_eq!(a.learning_rate, 0.5);
    let w = a.weights.unwrap();
    assert_eq!(w.len(), 13);
    assert!((w[12] - 1.2).abs() < 1e-6);
    assert_eq!(a.training_data.unwrap().len(), 12);
}

#[test]
fn rewrite_keeps_everything_else() {
    let text = include_str!("../../../../tests/ui/agents/ok_tiny.af");
    let new: Vec<f32> = (0..13).map(|i| -(i as f32)).collect();
    let out = rewrite_weights(text, &new);
    let (_, a, d) = load("r.af", &out);
    assert!(d.is_empty(), "{d:?}");
    let a = a.unwrap();
    assert_eq!(a.weights.as_deref(), Some(&new[..]));
    // Everything but the weights body is unchanged.
    let cut = |t: &str| {
        let l = sections::split(t);
        let s = l.sections.iter().find(|s| s.name == "neural_weights").unwrap();
        format!("{}{}", &t[..s.body.start], &t[s.body.end..])
    };
    assert_eq!(cut(text), cut(&out));
    // No section yet: it is appended, the rest is a prefix.
    let bare = text.split("---BINARY_SECTION").next().unwrap();
    let out = rewrite_weights(bare, &new);
    assert!(out.starts_with(bare));
    assert_eq!(load("b.af", &out).1.unwrap().weights.as_deref(), Some(&new[..]));
}

#[test]
fn c_names() {
    assert_eq!(c_identifier("my-agent v2"), "my_agent_v2");
    assert_eq!(c_identifier("9lives"), "_9lives");
    assert_eq!(c_identifier("é"), "_");
}

/// Arbitrary bytes never panic, and every diagnostic stays inside the text.
#[test]
fn fuzz_no_panic() {
    let base = include_str!("../../../../tests/ui/agents/ok_tiny.af").as_bytes().to_vec();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..400 {
        let mut b = base.clone();
        for _ in 0..(next() % 6 + 1) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = (next() % 128) as u8,
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b"-:[]{}\"'\n #*&!|>"[(next() % 16) as usize]),
            }
        }
        let text = String::from_utf8_lossy(&b).into_owned();
        let (_, _, diags) = load("f.af", &text);
        for d in diags {
            assert!(d.primary.span.end as usize <= text.len());
            assert!(text.is_char_boundary(d.primary.span.start as usize));
        }
    }
}
