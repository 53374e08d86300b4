//! Throughput of the JSONL decoder and writer on review-like records (~300 bytes).
//! `cargo run --release -p kiln_runtime --example bench_io`

/// CPU time of this thread in seconds (wall time is meaningless on a shared, loaded
/// machine): the first field of /proc/thread-self/schedstat, in nanoseconds.
fn cpu_now() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|t| t.parse::<f64>().ok()))
        .map_or(0.0, |ns| ns / 1e9)
}

struct Instant(f64);
impl Instant {
    fn now() -> Instant {
        Instant(cpu_now())
    }
    fn elapsed(&self) -> Secs {
        Secs(cpu_now() - self.0)
    }
}
struct Secs(f64);
impl Secs {
    fn as_secs_f64(&self) -> f64 {
        self.0
    }
}

use kiln_runtime::arena::Arena;
use kiln_runtime::io::sig::parse_type;
use kiln_runtime::io::{ChunkReader, Format, JsonDecoder, JsonEncoder};

fn main() {
    let words = [
        "great", "product", "arrived", "late", "but", "works", "fine", "would", "buy", "again",
        "the",
    ];
    let mut input = Vec::new();
    let mut seed = 42u64;
    let n = 400_000;
    for i in 0..n {
        let mut text = String::new();
        while text.len() < 150 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(words[(seed >> 33) as usize % words.len()]);
            text.push(' ');
        }
        if i % 10 == 0 {
            text.push_str("\\\"quoted\\\" é");
        }
        input.extend_from_slice(
            format!(
                "{{\"id\": {}, \"user\": \"user_{}\", \"stars\": {}, \"text\": \"{}\", \"tags\": [\"fast\", \"cheap\"], \"helpful\": {}, \"score\": {:.3}, \"verified\": {}, \"created\": \"2024-05-01T12:00:00Z\"}}\n",
                1_000_000 + i,
                seed % 10_000,
                1 + seed % 5,
                text.trim_end(),
                seed % 100,
                (seed % 1000) as f64 / 7.0,
                i % 2 == 0
            )
            .as_bytes(),
        );
    }
    let input = std::sync::Arc::new(input);
    let mb = input.len() as f64 / 1e6;
    println!("{} records, {:.1} MB, {:.0} bytes/record", n, mb, input.len() as f64 / n as f64);

    for (label, sig) in [
        ("4 of 9 fields", "{ id: int, text: str, stars: int, tags: [str]? }"),
        (
            "all 9 fields",
            "{ id: int, user: str, stars: int, text: str, tags: [str]?, helpful: int, score: float, verified: bool, created: str }",
        ),
        ("1 field", "{ stars: int }"),
    ] {
        let t = parse_type(sig).unwrap();
        let dec = JsonDecoder::new(&t);
        let enc = JsonEncoder::new(&t);
        let mut out = vec![0u64; dec.size().div_ceil(8)];
        let mut best = f64::MAX;
        let mut best_w = f64::MAX;
        for _ in 0..3 {
            let mut reader = ChunkReader::from_shared(input.clone(), Format::Jsonl);
            let mut arena = Arena::new();
            let mut wbuf = Vec::with_capacity(1 << 22);
            let mut write_time = 0.0;
            let start = Instant::now();
            let mut count = 0;
            while let Some(chunk) = reader.next_chunk().unwrap() {
                for (_, line) in chunk.records(Format::Jsonl) {
                    // SAFETY: `out` is u64-backed and holds the decoder's size.
                    let bytes = unsafe {
                        std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), dec.size())
                    };
                    dec.decode(line, bytes, &mut arena).unwrap();
                    count += 1;
                }
                arena.reset();
            }
            let el = start.elapsed().as_secs_f64();
            assert_eq!(count, n);
            best = best.min(el);
            // Writer: decode every record side by side (arena kept), then time encoding them.
            let mut reader = ChunkReader::from_shared(input.clone(), Format::Jsonl);
            let words = dec.size().div_ceil(8);
            let mut written = 0;
            let mut values: Vec<u64> = Vec::new();
            let mut chunks = Vec::new();
            while let Some(chunk) = reader.next_chunk().unwrap() {
                for (_, line) in chunk.records(Format::Jsonl) {
                    let at = values.len();
                    values.resize(at + words, 0);
                    // SAFETY: `values[at..]` is u64-backed and holds the decoder's size.
                    let bytes = unsafe {
                        std::slice::from_raw_parts_mut(
                            values[at..].as_mut_ptr().cast::<u8>(),
                            dec.size(),
                        )
                    };
                    dec.decode(line, bytes, &mut arena).unwrap();
                }
                chunks.push(chunk);
            }
            let s = Instant::now();
            for v in values.chunks(words) {
                // SAFETY: decoded above; the chunks and the arena are alive.
                unsafe { enc.write_line(v.as_ptr().cast(), &mut wbuf) };
                if wbuf.len() > 1 << 21 {
                    written += wbuf.len();
                    wbuf.clear();
                }
            }
            write_time += s.elapsed().as_secs_f64();
            drop(chunks);
            arena.reset();
            written += wbuf.len();
            best_w = best_w.min(write_time);
            std::hint::black_box(written);
        }
        println!(
            "decode {label:14}: {:7.1} MB/s input ({:.0} ns/record, CPU time); write: {:.0} ns/record",
            mb / best,
            best * 1e9 / n as f64,
            best_w * 1e9 / n as f64
        );
    }
}
