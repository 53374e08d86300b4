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
    assert_eq!(server.max_in_flight(), 3, "calls overlap up to the limit and never beyond");
}

#[test]
fn one_slow_call_among_a_thousand_keeps_order_and_costs_only_its_latency() {
    let slow = Duration::from_millis(1500);
    let server = FakeLlm::start(move |s, _| {
        let r = fake_llm::echo(&s.prompt);
        if s.prompt == "say line 10" { r.delay(slow) } else { r }
    });
    let dir = setup(&server, "max_concurrency = 16", ECHO, 1000);
    let t0 = Instant::now();
    let r = run(dir.path(), &["--engine", "jit", "--no-cache"]);
    let took = t0.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path(), "out.txt"), expected(1000));
    assert_eq!(server.log().len(), 1000);
    // 999 fast calls on 16 connections take well under a second here; waiting for the
    // slow one in line would add them up behind it.
    assert!(took < slow + Duration::from_millis(1500), "took {took:?}");
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
        let quiet_from = t429 + Duration::from_millis(150);
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
