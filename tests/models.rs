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
