//! Snapshot tests of the five diagnostic renderers on the same hand-built fixtures
//! (`snapshots/render/<case>__<format>.snap`), plus structural checks of the machine
//! formats. Review changed snapshots with `cargo insta review`.

use kiln::diag::render::{Format, render};
use kiln::diag::{Diagnostic, codes};
use kiln::source::{FileId, SourceMap, Span};
use serde_json::Value;

const PIPELINE: &str = r#"use "./lib.kiln"
type Review = { id: int, text: str, stars: int }
fn clean(s: str) -> str = lower(s)
source reviews: Review = jsonl("reviews.jsonl")
stage good = reviews
  |> filter(r => r.stars >= "3")
stage unused = reviews |> map(r => {
  id: r.id,
  text: clean(r.text)
)
sink good -> stdot()
"#;

const LIB: &str = "# helpers\nfn clean(s: str) -> str = s |> trim |> lower\n";

const UNICODE: &str = "# données\nconst GREETING = \"héllo wörld 😀\" + 1\n";

const EOF: &str = "fn f(x: int) -> int {\n  x + 1\n";

const WEIRD_NAME: &str = "we,ird: 50%.kiln";
const WEIRD: &str = "const path = \"C:\\data\\x.csv\"  # 100%, \"quoted\"\n";

struct Fixture {
    map: SourceMap,
    pipeline: FileId,
    lib: FileId,
    unicode: FileId,
    eof: FileId,
    weird: FileId,
}

impl Fixture {
    fn new() -> Fixture {
        let mut map = SourceMap::new();
        let pipeline = map.add("examples/pipeline.kiln", PIPELINE);
        let lib = map.add("examples/lib.kiln", LIB);
        let unicode = map.add("unicode.kiln", UNICODE);
        let eof = map.add("eof.kiln", EOF);
        let weird = map.add(WEIRD_NAME, WEIRD);
        Fixture { map, pipeline, lib, unicode, eof, weird }
    }

    /// The span of the `nth` (0-based) occurrence of `needle` in `file`.
    fn find(&self, file: FileId, needle: &str, nth: usize) -> Span {
        let text = &self.map.get(file).text;
        let start = text.match_indices(needle).nth(nth).expect("needle in fixture").0;
        Span::new(file, start, start + needle.len())
    }

    /// From the start of `from` to the end of `to`.
    fn between(&self, file: FileId, from: &str, to: &str) -> Span {
        let a = self.find(file, from, 0);
        let text = &self.map.get(file).text;
        let end = a.start as usize + text[a.start as usize..].find(to).unwrap() + to.len();
        Span::new(file, a.start as usize, end)
    }

    /// Every case: a name and its diagnostics.
    fn cases(&self) -> Vec<(&'static str, Vec<Diagnostic>)> {
        let p = self.pipeline;
        let eof = self.map.get(self.eof).text.len();
        vec![
            (
                "single_line",
                vec![
                    Diagnostic::new(codes::E0200, self.find(p, "\"3\"", 0), "mismatched types")
                        .label("expected `int`, found `str`")
                        .secondary(self.find(p, "r.stars", 0), "this is an `int`"),
                ],
            ),
            (
                "multi_line",
                vec![
                    Diagnostic::new(
                        codes::E0002,
                        self.between(p, "{\n  id", "\n)"),
                        "mismatched closing delimiter",
                    )
                    .label("this `{` is closed by `)`"),
                ],
            ),
            (
                "other_file",
                vec![
                    Diagnostic::new(
                        codes::E0104,
                        self.find(p, "clean", 0),
                        "`clean` is defined here and in \"./lib.kiln\"",
                    )
                    .label("defined here")
                    .secondary(self.find(self.lib, "clean", 0), "also defined here")
                    .secondary(self.find(p, "\"./lib.kiln\"", 0), "imported here"),
                ],
            ),
            (
                "help",
                vec![
                    Diagnostic::new(
                        codes::E0305,
                        self.find(p, "stdot", 0),
                        "unknown sink target `stdot`",
                    )
                    .help("did you mean `stdout`?"),
                ],
            ),
            (
                "warning",
                vec![
                    Diagnostic::new(
                        codes::W0001,
                        self.find(p, "unused", 0),
                        "stage `unused` feeds no sink",
                    )
                    .label("never used")
                    .help("add `sink unused -> stdout()` or remove the stage"),
                ],
            ),
            (
                "eof",
                vec![
                    Diagnostic::new(
                        codes::E0002,
                        Span::new(self.eof, eof, eof),
                        "unclosed delimiter",
                    )
                    .label("expected `}` here")
                    .secondary(self.find(self.eof, "{", 0), "this `{` is never closed"),
                ],
            ),
            (
                "non_ascii",
                vec![
                    Diagnostic::new(
                        codes::E0206,
                        self.find(self.unicode, "+", 0),
                        "operator `+` cannot be applied to `str` and `int`",
                    )
                    .label("`str` + `int`")
                    .secondary(self.find(self.unicode, "\"héllo wörld 😀\"", 0), "a `str`")
                    .secondary(self.find(self.unicode, "1", 0), "an `int`")
                    .help("convert with `str(1)`"),
                ],
            ),
            (
                "escaping",
                vec![
                    Diagnostic::new(
                        codes::E0003,
                        self.find(self.weird, "\\d", 0),
                        "invalid escape `\\d` in \"C:\\data\" (100%, see: a,b)\r\n\
                         only \\n, \\t, \\r, \\\\, \\\" and \\u{...} are allowed",
                    )
                    .label("here: `\\d`")
                    .help("write `\\\\d`,\tor use `/`"),
                ],
            ),
        ]
    }

    /// Every diagnostic of every case, in one run.
    fn all(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self.cases().into_iter().flat_map(|(_, d)| d).collect();
        kiln::diag::sort(&mut all);
        all
    }
}

fn output(format: Format, map: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut buf = Vec::new();
    render(format, map, diags, &mut buf).expect("rendering into memory succeeds");
    String::from_utf8(buf).expect("renderers write UTF-8")
}

const FORMATS: [Format; 5] =
    [Format::Human { color: false }, Format::Short, Format::Json, Format::Sarif, Format::Github];

/// Replaces the parts of a SARIF log that change for reasons other than the renderer (the
/// crate version, the long explanations the registry holds); `sarif_rules_*` checks them.
fn redact_sarif(text: &str) -> String {
    let mut log: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let driver = &mut log["runs"][0]["tool"]["driver"];
    driver["version"] = "[version]".into();
    for rule in driver["rules"].as_array_mut().unwrap() {
        let text = format!("[explanation of {}]", rule["id"].as_str().unwrap());
        rule["fullDescription"] = serde_json::json!({ "text": text, "markdown": text });
    }
    serde_json::to_string_pretty(&log).unwrap() + "\n"
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/render"));
    s.set_prepend_module_to_snapshot(false);
    s
}

fn snapshot(case: &str, diags: &[Diagnostic], map: &SourceMap) {
    for format in FORMATS {
        let mut text = output(format, map, diags);
        if format == Format::Sarif {
            text = redact_sarif(&text);
        }
        settings().bind(|| insta::assert_snapshot!(format!("{case}__{}", format.name()), text));
    }
}

#[test]
fn every_case_in_every_format() {
    let fx = Fixture::new();
    for (case, diags) in fx.cases() {
        snapshot(case, &diags, &fx.map);
    }
}

#[test]
fn all_cases_in_one_run() {
    let fx = Fixture::new();
    snapshot("all", &fx.all(), &fx.map);
}

#[test]
fn no_diagnostics() {
    let fx = Fixture::new();
    for format in FORMATS {
        let text = output(format, &fx.map, &[]);
        if format == Format::Sarif {
            let log: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
            assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], serde_json::json!([]));
        } else {
            assert_eq!(text, "", "{format:?} prints nothing for no diagnostics");
        }
    }
}

#[test]
fn json_lines_have_exactly_the_documented_fields() {
    let fx = Fixture::new();
    let all = fx.all();
    let text = output(Format::Json, &fx.map, &all);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), all.len());
    let fields = [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "labels",
        "help",
    ];
    for (line, diag) in lines.iter().zip(&all) {
        let v: Value = serde_json::from_str(line).expect("each line is one JSON object");
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, fields);
        assert_eq!(v["message"], diag.message.as_str(), "messages survive escaping");
        assert_eq!(v["labels"].as_array().unwrap().len(), 1 + diag.secondary.len());
        assert_eq!(v["labels"][0]["line"], v["line"]);
        assert_eq!(v["labels"][0]["end_column"], v["end_column"]);
        assert_eq!(v["help"].as_str(), diag.help.as_deref());
    }
}

#[test]
fn sarif_results_point_at_their_rules() {
    let fx = Fixture::new();
    let all = fx.all();
    let log: Value = serde_json::from_str(&output(Format::Sarif, &fx.map, &all)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-schema-2.1.0"));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "kiln");
    assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = all.iter().map(|d| d.code.as_str()).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(ids, expected, "one rule per code used, sorted");
    for rule in rules {
        let code = codes::ALL.iter().find(|c| c.as_str() == rule["id"]).unwrap();
        assert_eq!(rule["shortDescription"]["text"], code.title());
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(code.explanation().contains(full.trim()) && !full.is_empty());
        assert!(rule.get("helpUri").is_none());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), all.len());
    for (r, d) in results.iter().zip(&all) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert_eq!(r["ruleId"], d.code.as_str());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key} is 1-based");
        }
        let related = r.get("relatedLocations").and_then(Value::as_array).map_or(0, Vec::len);
        assert_eq!(related, d.secondary.len());
    }
}

#[test]
fn colour_only_when_asked() {
    let fx = Fixture::new();
    let all = fx.all();
    let plain = output(Format::Human { color: false }, &fx.map, &all);
    let coloured = output(Format::Human { color: true }, &fx.map, &all);
    assert!(!plain.contains('\x1b'));
    assert!(coloured.contains("\x1b["));
    for format in [Format::Short, Format::Json, Format::Sarif, Format::Github] {
        assert!(!output(format, &fx.map, &all).contains('\x1b'));
    }
}

#[test]
fn columns_count_chars_not_bytes() {
    let fx = Fixture::new();
    let (_, diags) = fx.cases().into_iter().find(|(n, _)| *n == "non_ascii").unwrap();
    let short = output(Format::Short, &fx.map, &diags);
    // `const GREETING = "héllo wörld 😀" + 1`: `+` is the 34th char (byte 38).
    assert_eq!(
        short,
        "unicode.kiln:2:34: error[E0206]: operator `+` cannot be applied to `str` and `int`\n"
    );
    let json: Value = serde_json::from_str(&output(Format::Json, &fx.map, &diags)).unwrap();
    assert_eq!((json["column"].as_u64(), json["end_column"].as_u64()), (Some(34), Some(35)));
}

#[test]
fn spans_outside_the_file_are_clamped() {
    let fx = Fixture::new();
    let len = fx.map.get(fx.lib).text.len();
    let bad = Diagnostic::new(codes::E0001, Span::new(fx.lib, len + 10, len + 20), "bad span");
    for format in FORMATS {
        let text = output(format, &fx.map, std::slice::from_ref(&bad));
        assert!(text.contains("bad span"), "{format:?}");
    }
}
