//! Benchmarks of the language-model client (issue 15) against the fake OpenAI-compatible
//! server of the tests (`tests/support/fake_llm.rs`, on 127.0.0.1): `bench/models` runs it
//! and records the figures in BENCHMARKS.md.
//!
//! 1. Client overhead: 10,000 sequential keep-alive calls, zero server latency; the p50
//!    round trip (client + the fake server's own handling) and the server's handling alone.
//! 2. Calls per second with `max_concurrency = 16`, zero server latency, 16 callers.
//! 3. Cache-hit latency: 10,000 calls answered from the disk cache.
//! 4. `kiln run` (JIT) of 800 calls at 50 ms latency with `max_concurrency = 16`.
//!
//! `cargo run --release --example bench_models -p kiln_runtime -- KILN_BINARY`

#[path = "../../tests/support/fake_llm.rs"]
mod fake_llm;

use kiln_runtime::model::{Call, Client, Config, ModelConfig, Options};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn client(
    server: &fake_llm::FakeLlm,
    concurrency: usize,
    cache: Option<&std::path::Path>,
) -> Client {
    let mut m = ModelConfig::new("default", &server.base_url(), "fake-1");
    m.max_concurrency = concurrency;
    m.temperature = Some(0.0);
    let config = Config { models: vec![m], ..Config::default() };
    let opts = Options { cache_dir: cache.map(|p| p.to_path_buf()), ..Options::default() };
    Client::new(&config, &opts).expect("a client")
}

fn call<'a>(prompt: &'a str) -> Call<'a> {
    let settings = Default::default();
    Call { model: "default", prompt, schema: None, settings, record: "", stage: "bench" }
}

fn pct(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort_unstable();
    xs[((xs.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let kiln = std::env::args().nth(1);
    // Warm up and measure the server's own handling time of an echo.
    let server = fake_llm::FakeLlm::echo();
    let c = client(&server, 1, None);
    for i in 0..500 {
        c.complete(&call(&format!("warm {i}"))).unwrap();
    }
    // 1. Sequential keep-alive calls.
    let mut lat = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let p = format!("prompt number {i}");
        let t = Instant::now();
        c.complete(&call(&p)).unwrap();
        lat.push(t.elapsed());
    }
    let p50 = pct(&mut lat, 0.5);
    let p99 = pct(&mut lat, 0.99);
    let served = server.handling();
    let mut handling: Vec<Duration> = served[served.len() - 10_000..].to_vec();
    let h50 = pct(&mut handling, 0.5);
    println!("overhead_calls=10000");
    println!("roundtrip_p50_us={:.1}", us(p50));
    println!("roundtrip_p99_us={:.1}", us(p99));
    println!("server_handling_p50_us={:.1}", us(h50));
    println!("client_overhead_p50_us={:.1}", us(p50.saturating_sub(h50)));
    println!("connections={}", server.connections());

    // 2. Throughput at max_concurrency 16.
    let server = fake_llm::FakeLlm::echo();
    let c = Arc::new(client(&server, 16, None));
    let n = 20_000usize;
    let t = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|k| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in (k..n).step_by(16) {
                    c.complete(&call(&format!("tp {i}"))).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!("throughput_calls={n}");
    println!("throughput_calls_per_s={:.0}", n as f64 / secs);
    println!("throughput_max_in_flight={}", server.max_in_flight());

    // 3. Cache hits.
    let dir = tempfile::tempdir().unwrap();
    let server = fake_llm::FakeLlm::echo();
    let c = client(&server, 4, Some(dir.path()));
    let prompts: Vec<String> = (0..10_000).map(|i| format!("cached prompt {i}")).collect();
    for p in &prompts {
        c.complete(&call(p)).unwrap();
    }
    let mut lat = Vec::with_capacity(prompts.len());
    for p in &prompts {
        let t = Instant::now();
        c.complete(&call(p)).unwrap();
        lat.push(t.elapsed());
    }
    println!("cache_hits=10000");
    println!("cache_hit_p50_us={:.1}", us(pct(&mut lat, 0.5)));
    println!("cache_hit_p99_us={:.1}", us(pct(&mut lat, 0.99)));
    println!("cache_requests_after_fill={}", server.log().len());

    // 4. kiln run: 800 calls at 50 ms, max_concurrency 16.
    let Some(kiln) = kiln else { return };
    let kiln = std::fs::canonicalize(&kiln).expect("the kiln binary");
    let server =
        fake_llm::FakeLlm::start(|s, _| fake_llm::echo(&s.prompt).delay(Duration::from_millis(50)));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("kiln.toml"),
        format!(
            "[models.default]\nbase_url = \"{}\"\nmodel = \"fake-1\"\nmax_concurrency = 16\n",
            server.base_url()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("p.kiln"),
        "source xs: str = lines(\"in.txt\")\nstage a = xs |> map(x => complete(\"say \" + x))\nsink a -> lines(\"out.txt\")\n",
    )
    .unwrap();
    let input: String = (0..800).map(|i| format!("line {i}\n")).collect();
    std::fs::write(d.join("in.txt"), input).unwrap();
    let t = Instant::now();
    let st = std::process::Command::new(&kiln)
        .args(["run", "p.kiln", "--no-cache", "--quiet", "--engine", "jit"])
        .current_dir(d)
        .status()
        .expect("kiln runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(st.success());
    let lines = std::fs::read_to_string(d.join("out.txt")).unwrap().lines().count();
    assert_eq!(lines, 800);
    println!("run800_s={secs:.3}");
    println!("run800_requests={}", server.log().len());
    println!("run800_max_in_flight={}", server.max_in_flight());
}
