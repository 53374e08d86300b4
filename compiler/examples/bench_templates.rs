//! Prompt template rendering: Kiln's compiled templates against minijinja, on three
//! templates (small, loop-heavy, 4 KB of text), one thread.
//!
//! Kiln is timed as `kiln run --threads 1` of a pipeline that renders the template for
//! every record into a `discard()` sink, less the same pipeline writing only `r.id` (the
//! decoding and the executor, so what is left is rendering). minijinja renders the same
//! records, already parsed into its values (its best case), in a loop. Best of 7 each;
//! the baseline is run in turns with each template's pipeline (the machine may be shared,
//! so both see the same load) and the best of each is taken.
//!
//! `cargo run --release -p kiln --example bench_templates [-- N]` (N records, default
//! 200,000); `KILN` names the binary (default `target/release/kiln`).

use std::path::Path;
use std::time::Instant;

/// (name, Kiln template, Jinja template).
fn templates() -> Vec<(&'static str, String, String)> {
    let small = "Summarize review #{{ r.id }} by {{ r.name | upper }} in 20 words: {{ r.text }}";
    let loops_k = "{% for t in r.tags %}{{ loop.index }}:{{ t | upper }}{% if not loop.last %}, {% end %}{% end %}";
    let loops_j = "{% for t in r.tags %}{{ loop.index0 }}:{{ t | upper }}{% if not loop.last %}, {% endif %}{% endfor %}";
    let para = "You are a careful assistant that reads customer reviews and writes short, \
                factual summaries for the support team. Keep the customer's own words where \
                they matter, never invent details, and flag anything about safety. ";
    let mut big = String::new();
    while big.len() < 4000 {
        big.push_str(para);
    }
    let big_k = format!("{big}\nReview {{{{ r.id }}}} ({{{{ r.stars }}}} stars): {{{{ r.text }}}}");
    let big_j = big_k.clone();
    vec![
        ("small", small.to_string(), small.to_string()),
        ("loop-heavy (20 tags)", loops_k.to_string(), loops_j.to_string()),
        ("4 KB of text", big_k, big_j),
    ]
}

fn data(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let tags: Vec<String> = (0..20).map(|k| format!("\"tag{}\"", (i + k) % 97)).collect();
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{}\",\"text\":\"great value, would buy again {i}\",\"stars\":{},\"tags\":[{}]}}\n",
            i % 1000,
            i % 5 + 1,
            tags.join(",")
        ));
    }
    s
}

const HEAD: &str = "type R = { id: int, name: str, text: str, stars: int, tags: [str] }\n\
                    source rs: R = jsonl(\"data.jsonl\")\n";

const RUNS: usize = 7;

fn best<F: FnMut()>(mut f: F) -> f64 {
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// One `kiln run FILE --threads 1`, timed.
fn kiln_once(bin: &str, dir: &Path, file: &str) -> f64 {
    let t = Instant::now();
    let st = std::process::Command::new(bin)
        .args(["run", file, "--threads", "1", "--quiet"])
        .current_dir(dir)
        .status()
        .expect("the kiln binary runs");
    assert!(st.success(), "kiln run {file} failed");
    t.elapsed().as_secs_f64()
}

/// The best times of `base` and `file`, run in turns.
fn kiln(bin: &str, dir: &Path, base: &str, file: &str) -> (f64, f64) {
    let (mut b, mut f) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..RUNS {
        b = b.min(kiln_once(bin, dir, base));
        f = f.min(kiln_once(bin, dir, file));
    }
    (b, f)
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let bin = std::env::var("KILN").unwrap_or_else(|_| "target/release/kiln".into());
    let bin = std::fs::canonicalize(&bin).expect("build kiln first: cargo build --release");
    let bin = bin.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let text = data(n);
    std::fs::write(dir.path().join("data.jsonl"), &text).unwrap();
    let base = format!("{HEAD}stage s = rs |> map(r => r.id)\nsink s -> discard()\n");
    std::fs::write(dir.path().join("base.kiln"), base).unwrap();
    // minijinja's own values (built field by field: serde_json numbers do not convert
    // plainly when its `arbitrary_precision` feature is on in the workspace).
    let records: Vec<minijinja::Value> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let tags: Vec<String> = v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            minijinja::context! {
                id => v["id"].as_i64().unwrap(),
                name => v["name"].as_str().unwrap(),
                text => v["text"].as_str().unwrap(),
                stars => v["stars"].as_i64().unwrap(),
                tags => tags,
            }
        })
        .collect();
    println!("{n} records");
    println!();
    println!(
        "| template | bytes/render | Kiln baseline (s) | Kiln, whole run (s) | Kiln renders/s (run less baseline) | minijinja renders/s | Kiln ÷ minijinja |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (i, (name, k, j)) in templates().into_iter().enumerate() {
        let file = format!("t{i}.kiln");
        let src = format!(
            "{HEAD}prompt t(r: R) = \"\"\"{k}\"\"\"\nstage s = rs |> map(r => t(r))\nsink s -> discard()\n"
        );
        std::fs::write(dir.path().join(&file), src).unwrap();
        let (t_base, t_run) = kiln(&bin, dir.path(), "base.kiln", &file);
        let t_kiln = t_run - t_base;
        // One rendering written out, for the output size.
        let probe = format!(
            "{HEAD}prompt t(r: R) = \"\"\"{k}\"\"\"\nstage s = rs |> take(1) |> map(r => t(r))\nsink s -> lines(\"one.txt\")\n"
        );
        std::fs::write(dir.path().join("probe.kiln"), probe).unwrap();
        let st = std::process::Command::new(&bin)
            .args(["run", "probe.kiln", "--quiet"])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(st.success());
        let mut env = minijinja::Environment::new();
        env.add_template("t", &j).unwrap();
        let tpl = env.get_template("t").unwrap();
        let first = tpl.render(minijinja::context! { r => &records[0] }).unwrap();
        let kiln_first = std::fs::read_to_string(dir.path().join("one.txt")).unwrap();
        // Like is compared with like: both render the first record to the same text.
        assert_eq!(kiln_first.trim_end_matches('\n'), first, "{name}: the renderings differ");
        let mut jinja_bytes = 0;
        let t_jinja = best(|| {
            let mut total = 0usize;
            for r in &records {
                let out = tpl.render(minijinja::context! { r => r }).unwrap();
                total += out.len();
            }
            jinja_bytes = total / records.len().max(1);
        });
        let rj = n as f64 / t_jinja;
        // Rendering that costs less than 2% of the run is below what the subtraction can
        // tell apart from noise.
        let (rk, ratio) = if t_kiln > 0.02 * t_run {
            let rk = n as f64 / t_kiln;
            (format!("{rk:.0}"), format!("{:.1}×", rk / rj))
        } else {
            ("within noise".into(), "-".into())
        };
        println!(
            "| {name} | {jinja_bytes} | {t_base:.3} | {t_run:.3} | {rk} | {rj:.0} | {ratio} |"
        );
    }
}
