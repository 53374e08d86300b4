//! Language-model calls (LANGUAGE.md §4) end to end, against the fake OpenAI-compatible
//! server of `support/fake_llm.rs` on 127.0.0.1 (nothing here reaches the network): both
//! engines give the same output, concurrency limits hold, `Retry-After` holds a model back,
//! nothing is lost under chaos, the cache and `--offline` work, and the key never shows.

#[path = "support/fake_llm.rs"]
mod fake_llm;
mod support;

use fake_llm::{FakeLlm, Reply};
use std::path::Path;
use std::time::{Duration, Instant};
use support::{kiln, read, write};

/// A kiln.toml with one model `default` at `server` and extra lines for it.
fn toml(server: &FakeLlm, extra: &str) -> String {
    format!(
        "[models.default]\nbase_url = \"{}\"\nmodel = \"fake-1\"\ntemperature = 0.0\n{extra}\n",
        server.base_url()
    )
}

/// `n` input lines `line 0`, `line 1`, ...
fn lines(n: usize) -> String {
    (0..n).map(|i| format!("line {i}\n")).collect()
}

const ECHO: &str = r#"# Each line, answered by the model.
source xs: str = lines("in.txt")
stage answers = xs |> map(x => complete("say " + x))
sink answers -> lines("out.txt")
"#;

fn setup(server: &FakeLlm, extra: &str, pipeline: &str, n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kiln.toml", &toml(server, extra));
    write(dir.path(), "p.kiln", pipeline);
    write(dir.path(), "in.txt", &lines(n));
    dir
}

fn expected(n: usize) -> String {
    (0..n).map(|i| format!("echo: say line {i}\n")).collect()
}

fn run(dir: &Path, args: &[&str]) -> support::Run {
    let mut all = vec!["run", "p.kiln"];
    all.extend_from_slice(args);
    kiln(dir, &all, &[], None)
}

#[test]
fn both_engines_answer_in_order_and_say_what_they_did() {
    for engine in ["interp", "jit"] {
        let server = FakeLlm::echo();
        let dir = setup(&server, "max_concurrency = 4", ECHO, 50);
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(read(dir.path(), "out.txt"), expected(50), "{engine}");
        assert_eq!(server.log().len(), 50, "{engine}");
        assert!(server.max_in_flight() <= 4, "{engine}: {}", server.max_in_flight());
        let tokens: u64 = server.log().iter().map(|s| s.tokens_in).sum();
        let want = format!(
            "model `default`: 50 calls, 0 cache hits, 0 retries, 0 failures, 0 fallbacks, {tokens} tokens in, 100 tokens out"
        );
        assert!(r.stderr.contains(&want), "{engine}: {}", r.stderr);
        let q = run(dir.path(), &["--engine", engine, "--no-cache", "--quiet"]);
        assert_eq!((q.code, q.stderr.as_str()), (0, ""), "{engine}");
    }
}

#[test]
fn never_more_than_max_concurrency_in_flight_and_calls_overlap() {
    let server = FakeLlm::start(|s, _| fake_llm::echo(&s.prompt).delay(Duration::from_millis(15)));
    let dir = setup(&server, "max_concurrency = 3", ECHO, 60);
    let r = run(dir.path(), &["--engine", "jit", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path(), "out.txt"), expected(60));
    let most = server.max_in_flight();
    assert!((2..=3).contains(&most), "calls overlap, never beyond the limit: {most} at once");
}

#[test]
fn one_slow_call_among_a_thousand_keeps_order_and_costs_only_its_latency() {
    let slow = Duration::from_millis(1500);
    let server = FakeLlm::start(move |s, _| {
        let r = fake_llm::echo(&s.prompt);
        if s.prompt == "say line 10" { r.delay(slow) } else { r }
    });
    let dir = setup(&server, "max_concurrency = 16", ECHO, 1000);
    // The same run with every call fast, for the cost of the rest on this machine now.
    let fast = FakeLlm::echo();
    let base_dir = setup(&fast, "max_concurrency = 16", ECHO, 1000);
    let t0 = Instant::now();
    let r = run(base_dir.path(), &["--engine", "jit", "--no-cache"]);
    let base = t0.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t0 = Instant::now();
    let r = run(dir.path(), &["--engine", "jit", "--no-cache"]);
    let took = t0.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path(), "out.txt"), expected(1000));
    assert_eq!(server.log().len(), 1000);
    // The slow call adds its own latency, not the others' behind it.
    assert!(took < base + slow + Duration::from_millis(700), "took {took:?}, {base:?} without it");
}

#[test]
fn a_429_with_retry_after_holds_the_model_back() {
    type Value = fn() -> String;
    let cases: [(&str, &str, Value); 3] = [
        ("seconds", "Retry-After", || "1".to_string()),
        ("ms", "retry-after-ms", || "1000".to_string()),
        // Made when the 429 is sent.
        ("date", "Retry-After", || http_date_in(2)),
    ];
    for (name, header, value) in cases {
        let server = FakeLlm::start(move |s, n| {
            if n == 5 {
                Reply::error(429, "slow down").header(header, &value())
            } else {
                fake_llm::echo(&s.prompt)
            }
        });
        let dir = setup(&server, "max_concurrency = 4", ECHO, 30);
        let r = run(dir.path(), &["--engine", "jit", "--no-cache"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_eq!(read(dir.path(), "out.txt"), expected(30), "{name}");
        let log = server.log();
        let t429 = log.iter().find(|s| s.status == 429).expect("a 429").at;
        // Requests already on their way when the 429 was answered may arrive just after.
        let quiet_from = t429 + Duration::from_millis(300);
        let first_after = log.iter().filter(|s| s.at > quiet_from).map(|s| s.at).min();
        let gap = first_after
            .unwrap_or_else(|| panic!("{name}: nothing after the 429"))
            .duration_since(t429);
        // An HTTP date has whole seconds: two seconds from now is at least one.
        assert!(gap >= Duration::from_millis(950), "{name}: next request after {gap:?}");
        assert!(r.stderr.contains("1 retry"), "{name}: {}", r.stderr);
    }
}

/// An IMF-fixdate `secs` seconds from now.
fn http_date_in(secs: u64) -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        + secs;
    let days = (t / 86_400) as i64;
    let rem = t % 86_400;
    // Civil date from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        DAYS[(days.rem_euclid(7)) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[test]
fn non_retryable_statuses_fail_at_once_and_name_the_record() {
    for status in [400, 401, 403, 404, 422] {
        let server = FakeLlm::start(move |s, _| {
            if s.prompt == "say line 2" {
                Reply::error(status, "no such thing")
            } else {
                fake_llm::echo(&s.prompt)
            }
        });
        let dir = setup(&server, "retries = 3", ECHO, 4);
        let r = run(dir.path(), &["--no-cache"]);
        assert_eq!(r.code, 1, "{status}");
        assert!(r.stderr.contains("error[E0614]"), "{status}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("HTTP {status}: no such thing")), "{}", r.stderr);
        assert!(r.stderr.contains("in.txt") && r.stderr.contains('3'), "{}", r.stderr);
        // Not retried: one request for line 2.
        let tries = server.log().iter().filter(|s| s.prompt == "say line 2").count();
        assert_eq!(tries, 1, "{status}");
    }
}

/// A pipeline that keeps each line with its answer, and the records that fail.
const KEEP: &str = r#"# Each line with its answer; failed records go to the errors sink.
source xs: str = lines("in.txt")
stage answers = xs |> map(x => { x: x, a: complete("say " + x) })
sink answers -> jsonl("out.jsonl")
sink errors -> jsonl("errors.jsonl")
"#;

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A number from a seed and a text (FNV-1a, then a mix): the same on every run.
fn roll(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 29;
    h.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 33
}

#[test]
fn seeded_chaos_every_record_lands_once_and_the_summary_matches_the_server() {
    const SEED: u64 = 20261203;
    const N: usize = 150;
    let mut outputs = Vec::new();
    for engine in ["interp", "jit"] {
        let attempts = std::sync::Mutex::new(std::collections::HashMap::<String, u64>::new());
        let server = FakeLlm::start(move |s, _| {
            let k = {
                let mut a = attempts.lock().unwrap();
                let k = a.entry(s.prompt.clone()).or_default();
                *k += 1;
                *k
            };
            let ok = fake_llm::echo(&s.prompt);
            match roll(SEED, &format!("{}#{k}", s.prompt)) % 100 {
                0..10 => Reply::error(500, "boom").header("retry-after-ms", "1"),
                10..15 => Reply::error(429, "busy").header("retry-after-ms", "5"),
                15..20 => Reply { truncate: true, tokens: (0, 0), ..ok },
                20..24 => Reply::raw(200, "<html>oops</html>"),
                24..27 => Reply::raw(200, r#"{"usage":{"prompt_tokens":1}}"#),
                27..29 => Reply::error(400, "bad request"),
                29..30 => Reply { stall: true, tokens: (0, 0), ..ok },
                30..40 => ok.delay(Duration::from_millis(20)),
                40..45 => Reply::raw(200, r#"{"choices":[{"message":{"content":"no usage"}}]}"#),
                _ => ok,
            }
        });
        let dir = setup(&server, "max_concurrency = 8\nretries = 3\ntimeout_s = 1", KEEP, N);
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        let out = read(dir.path(), "out.jsonl");
        let errors = read(dir.path(), "errors.jsonl");
        let mut seen: Vec<usize> =
            jsonl(&out).iter().map(|v| v["x"].as_str().unwrap()[5..].parse().unwrap()).collect();
        let failed: Vec<usize> =
            jsonl(&errors).iter().map(|v| v["line"].as_u64().unwrap() as usize - 1).collect();
        assert!(!failed.is_empty(), "the chaos fails some records");
        for e in jsonl(&errors) {
            assert!(e["message"].as_str().unwrap().contains("language-model call failed"), "{e}");
        }
        seen.extend(&failed);
        seen.sort_unstable();
        assert_eq!(seen, (0..N).collect::<Vec<_>>(), "{engine}: every record exactly once");
        // The summary is the server's log.
        let log = server.log();
        let (calls, retries) = (count(&r.stderr, "calls"), count(&r.stderr, "retries"));
        assert_eq!(calls, N as u64, "{engine}: {}", r.stderr);
        assert_eq!(calls + retries, log.len() as u64, "{engine}: {}", r.stderr);
        let tin: u64 = log.iter().map(|s| s.tokens_in).sum();
        let tout: u64 = log.iter().map(|s| s.tokens_out).sum();
        assert_eq!(count(&r.stderr, "tokens in"), tin, "{engine}: {}", r.stderr);
        assert_eq!(count(&r.stderr, "tokens out"), tout, "{engine}: {}", r.stderr);
        assert_eq!(count(&r.stderr, "failures"), failed.len() as u64, "{}", r.stderr);
        outputs.push((out, errors));
    }
    assert_eq!(outputs[0], outputs[1], "both engines give the same bytes");
}

/// The number before `what` in the summary line.
fn count(stderr: &str, what: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with("model `default`:")).expect("a summary");
    let at = line.find(&format!(" {what}")).unwrap_or_else(|| panic!("{what} in {line}"));
    line[..at].rsplit([' ', ',']).next().unwrap().parse().unwrap()
}

#[test]
fn a_cached_rerun_opens_no_connection_and_offline_names_the_missing_key() {
    let server = FakeLlm::echo();
    let dir = setup(&server, "", ECHO, 20);
    let first = run(dir.path(), &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let connections = server.connections();
    assert!(connections > 0);
    for engine in ["interp", "jit"] {
        for extra in [&[][..], &["--offline"][..]] {
            let mut args = vec!["--engine", engine];
            args.extend_from_slice(extra);
            let r = run(dir.path(), &args);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(read(dir.path(), "out.txt"), expected(20));
            assert!(r.stderr.contains("0 calls, 20 cache hits"), "{}", r.stderr);
        }
    }
    assert_eq!(server.connections(), connections, "no connection after the first run");
    assert_eq!(server.log().len(), 20);
    // A changed request is a miss: offline, a record error naming the record and the key.
    write(dir.path(), "in.txt", &(lines(20) + "line new\n"));
    for engine in ["interp", "jit"] {
        let r = run(dir.path(), &["--engine", engine, "--offline"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("error[E0614]"), "{}", r.stderr);
        assert!(r.stderr.contains("no cached answer (offline run), cache key "), "{}", r.stderr);
        assert!(r.stderr.contains("in.txt") && r.stderr.contains("21"), "{}", r.stderr);
    }
    assert_eq!(server.connections(), connections);
    // `--no-cache` asks again.
    let r = run(dir.path(), &["--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(server.log().len(), 41);
}

#[test]
fn a_run_killed_mid_way_is_finished_by_a_rerun_that_makes_only_the_missing_calls() {
    const N: usize = 200;
    let server = FakeLlm::start(|s, _| fake_llm::echo(&s.prompt).delay(Duration::from_millis(20)));
    let dir = setup(&server, "max_concurrency = 2", ECHO, N);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["run", "p.kiln"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while server.log().len() < 60 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = server.log().len();
    assert!(before < N, "the run was stopped mid-way");
    let cached = cache_files(&dir.path().join(".kiln-cache"));
    assert!(cached >= 50 && cached <= before, "{cached} cached of {before} sent");
    let r = run(dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path(), "out.txt"), expected(N));
    assert_eq!(server.log().len() - before, N - cached, "only the missing calls");
}

/// The answers in a cache folder (temporary files excluded).
fn cache_files(dir: &Path) -> usize {
    let mut n = 0;
    for sub in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            n += usize::from(name.ends_with(".json") && !name.starts_with('.'));
        }
    }
    n
}

#[test]
fn the_api_key_is_sent_and_never_shown_anywhere() {
    let key = format!(
        "sk-test-{:x}{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos(),
        std::process::id()
    );
    for engine in ["interp", "jit"] {
        let server = FakeLlm::start(|s, _| {
            let auth = s.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization"));
            let sent = auth.map(|(_, v)| v.trim_start_matches("Bearer ").to_string());
            if s.prompt == "say line 1" {
                // Providers sometimes echo what they were given.
                Reply::error(401, &format!("Incorrect API key provided: {}", sent.unwrap()))
            } else {
                fake_llm::echo(&s.prompt)
            }
        });
        let dir = setup(&server, "api_key_env = \"KILN_TEST_KEY\"", KEEP, 5);
        let env = [("KILN_TEST_KEY", key.as_str())];
        let r = kiln(
            dir.path(),
            &["run", "p.kiln", "--engine", engine, "--trace", "trace.jsonl"],
            &env,
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let bearer = format!("Bearer {key}");
        assert!(server.log().iter().all(|s| s.headers.iter().any(|(_, v)| *v == bearer)));
        let errors = read(dir.path(), "errors.jsonl");
        assert!(
            errors.contains("HTTP 401: Incorrect API key provided: [key withheld]"),
            "{errors}"
        );
        let check = kiln(dir.path(), &["check", "p.kiln", "--format", "json"], &env, None);
        let mut shown = vec![r.stdout, r.stderr, check.stdout, check.stderr];
        shown.extend(all_files(dir.path()));
        assert!(shown.len() > 8, "outputs, trace and cache files are read");
        for text in shown {
            assert!(!text.contains(&key), "{engine}: the key shows in {text}");
        }
    }
}

/// The text of every file under `dir`.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
        }
    }
    out
}

#[test]
fn budget_and_fallback() {
    let server = FakeLlm::echo();
    let dir = setup(&server, "[budget]\nmax_calls = 3", KEEP, 6);
    let r = run(dir.path(), &["--engine", "interp", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(jsonl(&read(dir.path(), "out.jsonl")).len(), 3);
    let errors = read(dir.path(), "errors.jsonl");
    assert_eq!(errors.matches("[budget] max_calls = 3 was reached").count(), 3, "{errors}");
    assert_eq!(server.log().len(), 3);

    let down = FakeLlm::start(|_, _| Reply::error(503, "down").header("retry-after-ms", "1"));
    let backup = FakeLlm::echo();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[models.default]\nbase_url = \"{}\"\nmodel = \"a\"\nretries = 1\nfallback = \"backup\"\n[models.backup]\nbase_url = \"{}\"\nmodel = \"b\"\n",
        down.base_url(),
        backup.base_url()
    );
    write(dir.path(), "kiln.toml", &config);
    write(dir.path(), "p.kiln", ECHO);
    write(dir.path(), "in.txt", &lines(4));
    for engine in ["interp", "jit"] {
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(read(dir.path(), "out.txt"), expected(4));
        assert!(
            r.stderr.contains(
                "model `default`: 4 calls, 0 cache hits, 4 retries, 4 failures, 4 fallbacks"
            ),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("model `backup`: 4 calls"), "{}", r.stderr);
    }
    assert!(backup.log().iter().all(|s| s.model == "b"));
}

const TYPED: &str = r#"# A typed prompt: the answer decoded into a record.
type Review = { id: int, text: str }
prompt classify(r: Review) -> { label: str, confidence: float, tags: [str]? } = """
Classify this review as positive, negative or mixed: {{ r.text }}
"""
source reviews: Review = jsonl("reviews.jsonl")
stage labelled = reviews |> map(r => { ..r, ..classify(r) })
sink labelled -> jsonl("out.jsonl")
sink errors -> jsonl("errors.jsonl")
"#;

/// Answers typed prompts by the review's text: `good` and `bad` fit the type, `number`
/// gives a wrong field type, `prose` no JSON at all.
fn typed_server() -> FakeLlm {
    FakeLlm::start(|s, _| {
        let text = if s.prompt.contains(": good") {
            r#"{"label": "positive", "confidence": 0.9, "tags": ["fast"]}"#
        } else if s.prompt.contains(": bad") {
            "{\n  \"label\": \"negative\",\n  \"confidence\": 1,\n  \"tags\": null\n}"
        } else if s.prompt.contains(": number") {
            r#"{"label": 3, "confidence": 0.5, "tags": null}"#
        } else {
            "I think it is positive."
        };
        Reply::ok(text, 5, 5)
    })
}

const REVIEWS: &str = r#"{"id": 1, "text": "good"}
{"id": 2, "text": "bad"}
{"id": 3, "text": "number"}
{"id": 4, "text": "prose"}
"#;

#[test]
fn typed_prompts_decode_answers_and_name_the_json_path_on_both_engines() {
    let mut outs = Vec::new();
    for engine in ["interp", "jit"] {
        let server = typed_server();
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "kiln.toml", &toml(&server, ""));
        write(dir.path(), "p.kiln", TYPED);
        write(dir.path(), "reviews.jsonl", REVIEWS);
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert!(!r.stderr.contains("warning"), "{engine}: {}", r.stderr);
        let out = read(dir.path(), "out.jsonl");
        assert_eq!(
            out,
            "{\"id\":1,\"text\":\"good\",\"label\":\"positive\",\"confidence\":0.9,\"tags\":[\"fast\"]}\n{\"id\":2,\"text\":\"bad\",\"label\":\"negative\",\"confidence\":1.0,\"tags\":null}\n",
            "{engine}"
        );
        let errors = read(dir.path(), "errors.jsonl");
        assert!(errors.contains("is not a `{ label: str, confidence: float, tags: [str]? }`: field `label`: expected a string, found 3"), "{errors}");
        assert!(errors.contains("\"line\":4"), "{errors}");
        // The request asked for the schema.
        let body: serde_json::Value = serde_json::from_str(&server.log()[0].body).unwrap();
        assert_eq!(body["response_format"]["type"], "json_schema", "{body}");
        assert_eq!(body["response_format"]["json_schema"]["name"], "classify");
        let schema = &body["response_format"]["json_schema"]["schema"];
        assert_eq!(schema["required"], serde_json::json!(["label", "confidence", "tags"]));
        outs.push((out, errors));
    }
    assert_eq!(outs[0], outs[1], "both engines give the same bytes");
}

#[test]
fn prompt_files_with_returns_and_the_other_structured_output_modes() {
    for mode in ["json_object", "prompt"] {
        let server = typed_server();
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "kiln.toml", &toml(&server, &format!("structured_output = \"{mode}\"")));
        write(
            dir.path(),
            "classify.prompt",
            "---\nparams:\n  text: str\nreturns: \"{ label: str, confidence: float }\"\ntemperature: 0.3\nmax_tokens: 7\n---\nClassify: {{ text }}\n",
        );
        write(
            dir.path(),
            "p.kiln",
            "prompt classify = \"classify.prompt\"\nsource xs: str = lines(\"in.txt\")\nstage s = xs |> map(x => classify(x).label)\nsink s -> lines(\"out.txt\")\n",
        );
        write(dir.path(), "in.txt", "good\nbad\n");
        for engine in ["interp", "jit"] {
            let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
            assert_eq!(r.code, 0, "{mode} {engine}: {}", r.stderr);
            assert_eq!(read(dir.path(), "out.txt"), "positive\nnegative\n");
        }
        let body: serde_json::Value = serde_json::from_str(&server.log()[0].body).unwrap();
        let content = body["messages"][0]["content"].as_str().unwrap();
        assert!(content.contains("JSON Schema") && content.contains("\"confidence\""), "{body}");
        assert_eq!(body["response_format"].is_null(), mode == "prompt", "{body}");
        // The front matter's settings win over the model's (temperature 0.0 in kiln.toml).
        assert_eq!(
            (body["temperature"].as_f64(), body["max_tokens"].as_u64()),
            (Some(0.3), Some(7))
        );
    }
}

#[test]
fn identical_calls_in_flight_make_one_request() {
    let server = FakeLlm::start(|s, _| fake_llm::echo(&s.prompt).delay(Duration::from_millis(300)));
    let dir = setup(
        &server,
        "max_concurrency = 8",
        "source xs: str = lines(\"in.txt\")\nstage a = xs |> map(x => complete(\"same\"))\nsink a -> lines(\"out.txt\")\n",
        16,
    );
    let r = run(dir.path(), &["--engine", "jit"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path(), "out.txt"), "echo: same\n".repeat(16));
    assert_eq!(server.log().len(), 1);
    assert!(r.stderr.contains("1 call, 15 cache hits"), "{}", r.stderr);
}

#[test]
fn a_retry_after_beyond_max_retry_wait_fails_at_once_and_the_trace_names_records() {
    let server = FakeLlm::start(|s, _| {
        if s.prompt == "say line 1" {
            Reply::error(429, "quota").header("Retry-After", "120")
        } else {
            fake_llm::echo(&s.prompt)
        }
    });
    let dir = setup(&server, "max_retry_wait_s = 1", KEEP, 3);
    let t0 = Instant::now();
    let r = run(dir.path(), &["--engine", "interp", "--no-cache", "--trace", "t.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t0.elapsed() < Duration::from_secs(20));
    let errors = read(dir.path(), "errors.jsonl");
    assert!(
        errors.contains("asked to wait 120.0 s (Retry-After), longer than max_retry_wait_s = 1"),
        "{errors}"
    );
    let trace = jsonl(&read(dir.path(), "t.jsonl"));
    assert_eq!(trace.len(), 3, "{trace:?}");
    assert_eq!(trace[1]["record"], "in.txt:2");
    assert_eq!(trace[1]["stage"], "answers");
    assert_eq!(trace[1]["status"], 429);
    assert_eq!(trace[1]["error"], "HTTP 429: quota");
    assert_eq!(trace[0]["tokens_in"], 10);
    // A cached rerun traces its hits.
    let r = run(dir.path(), &["--engine", "interp", "--trace", "t2.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(dir.path(), &["--engine", "interp", "--trace", "t2.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hits = jsonl(&read(dir.path(), "t2.jsonl"));
    assert_eq!(hits.iter().filter(|l| l["cache_hit"] == true).count(), 2, "{hits:?}");
}

#[test]
fn calls_inside_fns_filters_keys_and_branches_agree_on_both_engines() {
    let pipeline = r#"# Model calls in a fn, a filter, a group key and one branch of an if.
fn ask(x: str) -> str = complete("say " + x)
source xs: str = lines("in.txt")
stage kept = xs
  |> filter(x => len(ask(x)) > 14)
  |> map(x => { x: x, a: if ends_with(x, "1") { ask(x) } else { "-" } })
stage groups = xs |> group_by(x => len(complete(x)), n: count())
sink kept -> jsonl("kept.jsonl")
sink groups -> jsonl("groups.jsonl")
"#;
    let mut outs = Vec::new();
    for engine in ["interp", "jit"] {
        let server = FakeLlm::echo();
        let dir = setup(&server, "", pipeline, 12);
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        outs.push((read(dir.path(), "kept.jsonl"), read(dir.path(), "groups.jsonl")));
    }
    assert_eq!(outs[0], outs[1]);
    assert!(outs[0].0.contains(r#"{"x":"line 11","a":"echo: say line 11"}"#), "{}", outs[0].0);
    assert_eq!(outs[0].1, "{\"key\":12,\"n\":10}\n{\"key\":13,\"n\":2}\n");
}

#[test]
fn an_untyped_prompt_files_temperature_and_max_tokens_reach_complete_on_both_engines() {
    let pipeline = r#"prompt ask = "ask.prompt"
source xs: str = lines("in.txt")
stage a = xs |> map(x => complete(ask(x)))
stage b = xs |> map(x => complete(ask(x), model: "default"))
stage c = xs |> map(x => complete("plain " + x))
sink a -> lines("a.txt")
sink b -> lines("b.txt")
sink c -> lines("c.txt")
"#;
    for engine in ["interp", "jit"] {
        let server = FakeLlm::echo();
        let dir = setup(&server, "max_tokens = 100", pipeline, 2);
        write(
            dir.path(),
            "ask.prompt",
            "---\nparams:\n  x: str\ntemperature: 0.7\nmax_tokens: 9\n---\nAsk {{ x }}\n",
        );
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(
            read(dir.path(), "a.txt"),
            "echo: Ask line 0\n\necho: Ask line 1\n\n",
            "{engine}"
        );
        let log = server.log();
        assert_eq!(log.len(), 6, "{engine}");
        for s in &log {
            let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
            let got = (body["temperature"].as_f64(), body["max_tokens"].as_u64());
            // The front matter's settings win over kiln.toml's (0.0, 100); a prompt that
            // is not a prompt file's call keeps the model's.
            let want = if s.prompt.starts_with("Ask ") {
                (Some(0.7), Some(9))
            } else {
                (Some(0.0), Some(100))
            };
            assert_eq!(got, want, "{engine}: {}", s.body);
        }
    }
}

#[test]
fn both_engines_trace_the_same_records_stages_and_attempts() {
    let pipeline = r#"fn ask(x: str) -> str = complete("say " + x)
source xs: str = lines("in.txt")
stage first = xs |> map(x => ask(x))
stage second = first |> filter(x => len(complete("again " + x)) > 0)
stage groups = xs |> group_by(x => len(complete(x)), n: count())
sink second -> lines("out.txt")
sink groups -> jsonl("groups.jsonl")
"#;
    let mut traces = Vec::new();
    for engine in ["interp", "jit"] {
        // The first attempt of every call fails (a 500), so attempts 1 and 2 both show.
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        let server = FakeLlm::start(move |s, _| {
            if seen.lock().unwrap().insert(s.prompt.clone()) {
                Reply::error(500, "hiccup")
            } else {
                fake_llm::echo(&s.prompt)
            }
        });
        let dir = setup(&server, "retries = 2", pipeline, 5);
        let r = run(dir.path(), &["--engine", engine, "--no-cache", "--trace", "t.jsonl"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        let mut lines: Vec<String> = jsonl(&read(dir.path(), "t.jsonl"))
            .into_iter()
            .map(|mut l| {
                // Latency differs from run to run; the order of the lines too (compiled
                // code runs calls concurrently).
                l.as_object_mut().unwrap().remove("latency_ms");
                l.to_string()
            })
            .collect();
        lines.sort();
        traces.push(lines);
    }
    let jit = &traces[1];
    assert!(
        jit.iter().all(|l| !l.contains("\"record\":\"\"") && !l.contains("\"stage\":\"\"")),
        "{jit:?}"
    );
    for want in [
        r#""record":"in.txt:1","stage":"first""#,
        r#""record":"in.txt:5","stage":"second""#,
        r#""record":"in.txt:3","stage":"groups""#,
    ] {
        assert!(jit.iter().any(|l| l.contains(want)), "{want} in {jit:?}");
    }
    // 15 calls, each failing once: the same lines on both engines (latency aside).
    assert_eq!(traces[0].len(), 30, "{:?}", traces[0]);
    assert_eq!(traces[0].iter().filter(|l| l.contains("HTTP 500: hiccup")).count(), 15);
    assert_eq!(&traces[0], jit);
}

#[test]
fn an_untyped_prompt_files_model_is_the_model_of_complete_unless_the_call_names_one() {
    let pipeline = r#"prompt ask = "ask.prompt"
source xs: str = lines("in.txt")
stage a = xs |> map(x => complete(ask(x)))
stage b = xs |> map(x => complete(ask(x), model: "default"))
sink a -> lines("a.txt")
sink b -> lines("b.txt")
"#;
    for engine in ["interp", "jit"] {
        let server = FakeLlm::echo();
        let dir = setup(&server, "", pipeline, 2);
        // A second model on the same server, told apart by the request's `model`.
        let config = format!(
            "{}\n[models.other]\nbase_url = \"{}\"\nmodel = \"fake-2\"\n",
            toml(&server, ""),
            server.base_url()
        );
        write(dir.path(), "kiln.toml", &config);
        write(
            dir.path(),
            "ask.prompt",
            "---\nparams:\n  x: str\nmodel: \"other\"\n---\nAsk {{ x }}",
        );
        let r = run(dir.path(), &["--engine", engine, "--no-cache"]);
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(read(dir.path(), "a.txt"), "echo: Ask line 0\necho: Ask line 1\n", "{engine}");
        let mut models: Vec<String> = server
            .log()
            .iter()
            .map(|s| {
                let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
                body["model"].as_str().unwrap().to_string()
            })
            .collect();
        models.sort();
        assert_eq!(models, ["fake-1", "fake-1", "fake-2", "fake-2"], "{engine}");
        assert!(r.stderr.contains("model `other`: 2 calls"), "{engine}: {}", r.stderr);
    }
}

#[test]
fn complete_of_a_prompt_file_naming_a_model_needs_a_kiln_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ask.prompt", "---\nparams:\n  x: str\nmodel: \"other\"\n---\nAsk {{ x }}");
    write(
        dir.path(),
        "p.kiln",
        "prompt ask = \"ask.prompt\"\nsource xs: str = lines(\"in.txt\")\nstage a = xs |> map(x => complete(ask(x)))\nsink a -> lines(\"a.txt\")\n",
    );
    write(dir.path(), "in.txt", "a\n");
    let r = kiln(dir.path(), &["check", "p.kiln"], &[], None);
    // `kiln check` writes its diagnostics to standard output.
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("E0706") && r.stdout.contains("model `other`"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("E0706").count(), 1, "{}", r.stdout);
}
