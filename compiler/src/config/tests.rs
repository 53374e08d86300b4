use super::*;

fn codes_of(text: &str) -> Vec<(&'static str, String)> {
    load(FileId(0), text)
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), text[d.primary.span.range()].to_string()))
        .collect()
}

#[test]
fn a_good_file_is_clean_and_lists_its_models() {
    let text = "[models.default]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:8080/v1\"\nmodel = \"m\"\napi_key_env = \"OPENAI_API_KEY\"\nmax_concurrency = 16\ntimeout_s = 60\nretries = 3\nmax_retry_wait_s = 60\nfallback = \"backup\"\ntemperature = 0.0\nmax_tokens = 512\nstructured_output = \"json_schema\"\n\n[models.backup]\nmodel = \"small\"\n\n[budget]\nmax_calls = 10_000\nmax_tokens = 0x10\n";
    let l = load(FileId(0), text);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(l.names.unwrap(), ["default", "backup"]);
    assert_eq!(l.shown, text);
}

#[test]
fn spans_point_at_keys_and_values() {
    let got = codes_of(
        "[models.a]\nmax_concurency = 8\ntimeout_s = -1\ntemperature = 3\nprovider = \"openia\"\nbase_url = \"ftp://x\"\nfallback = \"nope\"\n[other]\n",
    );
    let want = [
        ("E0701", "max_concurency"),
        ("E0702", "-1"),
        ("E0702", "3"),
        ("E0702", "\"openia\""),
        ("E0702", "\"ftp://x\""),
        ("E0704", "\"nope\""),
        ("E0701", "other"),
    ];
    let want: Vec<(&str, String)> = want.iter().map(|(c, s)| (*c, s.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn cycles_are_reported_once_with_the_whole_loop() {
    let text = "[models.a]\nfallback = \"b\"\n[models.b]\nfallback = \"a\"\n[models.c]\nfallback = \"c\"\n[models.d]\nfallback = \"a\"\n";
    let l = load(FileId(0), text);
    let msgs: Vec<&str> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs, ["fallback cycle: a -> b -> a", "fallback cycle: c -> c"]);
}

#[test]
fn secrets_are_masked_and_never_in_a_message() {
    let text = "[models.default]\napi_key = \"sk-secret123\"\n[models.b]\napi_key_env = \"sk-other456\"\ntoken = \"abc\"\n";
    let l = load(FileId(0), text);
    assert!(!l.shown.contains("sk-secret123") && !l.shown.contains("sk-other456"));
    assert!(!l.shown.contains("\"abc\""));
    assert_eq!(l.shown.len(), text.len());
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0703", "E0703", "E0703"]);
    for d in &l.diagnostics {
        let all = format!("{d:?}");
        assert!(!all.contains("secret123") && !all.contains("other456"), "{all}");
    }
}

#[test]
fn invalid_toml_is_one_error() {
    let got = codes_of("[models.a]\nmodel = my-model\n");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "E0700");
    assert!(load(FileId(0), "[a\n").names.is_none());
}

#[test]
fn a_secret_looking_model_name_is_not_echoed() {
    let text =
        "[models.default]\nprovider = \"openai\"\nfallback = \"sk-proj-abcdef0123456789abcdef\"\n";
    let loaded = super::load(crate::source::FileId(0), text);
    let d = loaded.diagnostics.iter().find(|d| d.code == crate::diag::codes::E0704).unwrap();
    assert!(!d.message.contains("sk-proj"), "{}", d.message);
    assert!(d.message.contains("not shown"), "{}", d.message);
}
