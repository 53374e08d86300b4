use super::*;
use crate::syntax::ast::TemplateNode as N;

fn parse(text: &str) -> (Template, Vec<Diagnostic>) {
    parse_template(FileId(0), text, &Offsets::default())
}

/// The template's structure as text: text nodes quoted, tags as `[if]`, `[for x]`, ...
fn shape(nodes: &[N]) -> String {
    let mut out = String::new();
    for n in nodes {
        match n {
            N::Text(t) => out.push_str(&format!("{t:?}")),
            N::Insert { filters, .. } => {
                out.push_str("{v");
                for f in filters {
                    out.push_str(&format!("|{}", f.name.name));
                }
                out.push('}');
            }
            N::If { branches, otherwise, .. } => {
                for (i, (_, b)) in branches.iter().enumerate() {
                    out.push_str(if i == 0 { "[if " } else { "[elif " });
                    out.push_str(&shape(b));
                    out.push(']');
                }
                out.push_str(&format!("[else {}]", shape(otherwise)));
            }
            N::For { var, body, .. } => {
                out.push_str(&format!("[for {} {}]", var.name, shape(body)))
            }
        }
    }
    out
}

fn ok(text: &str) -> String {
    let (t, d) = parse(text);
    assert!(d.is_empty(), "{text:?}: {d:#?}");
    shape(&t.nodes)
}

fn errors(text: &str) -> Vec<(String, String, usize, usize)> {
    parse(text)
        .1
        .into_iter()
        .map(|d| {
            let sp = d.primary.span;
            (d.code.as_str().to_string(), d.message, sp.start as usize, sp.end as usize)
        })
        .collect()
}

#[test]
fn tag_only_lines_are_dropped_with_their_newline() {
    assert_eq!(ok("a\n{% if x %}\nb\n{% end %}\nc\n"), r#""a\n"[if "b\n"][else ]"c\n""#);
    assert_eq!(ok("  {% if x %}  \nb\n{% end %}"), r#"[if "b\n"][else ]"#);
    assert_eq!(ok("{# note #}\nb"), r#""b""#);
    // A tag sharing its line with text or an output keeps the line.
    assert_eq!(ok("a {% if x %}\nb{% end %}"), r#""a "[if "\nb"][else ]"#);
    assert_eq!(ok("{{ x }}{% if y %}\n{% end %}"), r#"{v}[if "\n"][else ]"#);
    // Several tags on one line: the line goes.
    assert_eq!(
        ok("{% if a %}{% if b %}\nx\n{% end %}{% end %}\n"),
        r#"[if [if "x\n"][else ]][else ]"#
    );
    // The last line, without a newline.
    assert_eq!(ok("x\n  {% if a %}{% end %}  "), r#""x\n"[if ][else ]"#);
}

#[test]
fn trim_markers_trim_their_side() {
    assert_eq!(ok("a  \n {{- x -}} \n b"), r#""a"{v}"b""#);
    assert_eq!(ok("a\n\n{%- if x -%}\n\n b{% end %}"), r#""a"[if "b"][else ]"#);
    assert_eq!(ok("a {#- c -#} b"), r#""a""b""#);
    // Trim markers and dropped lines together: the union of both.
    assert_eq!(ok("a\n  {%- if x %}\nb\n{% end -%}\n\nc"), r#""a"[if "b\n"][else ]"c""#);
}

#[test]
fn blocks_nest() {
    assert_eq!(
        ok(
            "{% for t in xs %}{% if loop.first %}{{ t | upper | truncate(3) }}{% else if b %}-{% else %}+{% end %}{% end %}"
        ),
        r#"[for t [if {v|upper|truncate}][elif "-"][else "+"]]"#
    );
}

#[test]
fn strings_and_brackets_keep_tags_whole() {
    assert_eq!(ok(r#"{{ "}} %} |" }}"#), "{v}");
    assert_eq!(ok("{{ { a: { b: 1 }} }}"), "{v}");
    assert_eq!(ok("{{ xs |> map(x => x + 1) | str }}"), "{v|str}");
}

#[test]
fn every_problem_is_reported_with_its_span() {
    let e = errors("Hello {{ name\n{% if a %}x{% end %}{% end %}{% else %}{{ }}{% endif %}");
    let codes: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(codes, ["E0501", "E0502", "E0502", "E0503", "E0503", "E0502"], "{e:#?}");
    assert_eq!((e[0].2, e[0].3), (6, 8));
    let e = errors("{% for x in xs %}{% if a %}");
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e.iter().all(|x| x.0 == "E0502" && x.1.contains("never closed")));
    // An expression's own syntax error points inside the tag.
    let e = errors("ab {{ 1 + }}");
    assert_eq!(e[0].0, "E0001");
    assert!(e[0].1.contains("the end of the tag"), "{e:#?}");
    assert_eq!(e[0].2, 9);
}

#[test]
fn unclosed_brackets_never_run_away() {
    // Linear time on many unclosed brackets; too deep a nesting is reported, never a crash.
    for n in [3, 300, 5000, 100_000] {
        let text = format!("{{{{ {} }}}} tail {{{{ x }}}}", "(".repeat(n));
        let (t, d) = parse(&text);
        assert!(!d.is_empty());
        if n < 1000 {
            assert!(matches!(t.nodes.last(), Some(N::Insert { .. })));
        }
    }
}

#[test]
fn escaped_strings_map_spans_into_the_file() {
    // The file holds `"{{ \"a\" + nme }}"`: the template text is `{{ "a" + nme }}`.
    let offsets = Offsets { base: 1, jumps: vec![(5, 7), (7, 10)] };
    let (t, d) = parse_template(FileId(0), r#"{{ "a" + nme }}"#, &offsets);
    assert!(d.is_empty());
    let N::Insert { value, .. } = &t.nodes[0] else { panic!() };
    let ExprKind::Binary(_, _, rhs) = &value.kind else { panic!() };
    // `nme` is at template bytes 9..12, file bytes 12..15.
    assert_eq!((rhs.span.start, rhs.span.end), (12, 15));
}
