"""Ahead-of-time executables against `kiln run` (issue "kiln build for pipelines").

    python3 bench/aot.py [--records N] [--repeat R] [--starts S]

Builds, with the release `kiln` (target/release/kiln, or $KILN), an executable of a trivial
pipeline and of the Q1/Q2 queries (bench/q1.kiln, bench/q2.kiln), then measures in the same
run:
- cold start: the median wall time of S runs of the trivial pipeline's executable against
  `kiln run` of the same file (goal: the executable under 2 ms);
- Q1/Q2 throughput at 2 threads on bench/data/reviews.jsonl (made by bench/run or
  gen_data.py; N records): best of R for the executable and for `kiln run` (goal: equal or
  better), with the outputs compared byte for byte;
- the executable's size.
Prints a Markdown section for BENCHMARKS.md with the CPU model and the load average.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import gen_data  # noqa: E402

TRIVIAL = 'stage one = range(0, 1) |> map(i => { i: i })\nsink one -> stdout()\n'


def kiln():
    k = os.environ.get("KILN", os.path.join(ROOT, "target", "release", "kiln"))
    if not os.access(k, os.X_OK):
        sys.exit(f"no kiln binary at {k}: cargo build --release -p kiln")
    return k


def cpu():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def build(src, out, cwd):
    subprocess.run([kiln(), "build", src, "-o", out], cwd=cwd, check=True)


def wall(cmd, cwd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--starts", type=int, default=50)
    a = ap.parse_args()
    data = os.path.join(BENCH, "data", "reviews.jsonl")
    if not os.path.exists(data):
        os.makedirs(os.path.dirname(data), exist_ok=True)
        gen_data.generate(data, a.records)
    records = sum(1 for _ in open(data, "rb"))
    tmp = tempfile.mkdtemp(prefix="kiln-aot-bench-")
    with open(os.path.join(tmp, "trivial.kiln"), "w") as f:
        f.write(TRIVIAL)
    build("trivial.kiln", os.path.join(tmp, "trivial"), tmp)
    for q in ("q1", "q2"):
        build(os.path.join(BENCH, f"{q}.kiln"), os.path.join(tmp, q), ROOT)
    load0 = os.getloadavg()[0]
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu()}, "
             f"{os.cpu_count()} CPUs, load average {load0:.1f} at the start "
             f"(`python3 bench/aot.py --repeat {a.repeat} --starts {a.starts}`).", ""]
    exe = [wall([os.path.join(tmp, "trivial")], tmp) for _ in range(a.starts)]
    run = [wall([kiln(), "run", "trivial.kiln"], tmp) for _ in range(a.starts)]
    size = os.path.getsize(os.path.join(tmp, "q1"))
    lines += ["| | executable | `kiln run` |", "|---|---:|---:|",
              f"| cold start, trivial pipeline (median of {a.starts}) | "
              f"{statistics.median(exe) * 1000:.2f} ms | {statistics.median(run) * 1000:.2f} ms |"]
    for q in ("q1", "q2"):
        outs = {}
        best = {}
        for who in ("exe", "run"):
            out = os.path.join(tmp, f"{q}_{who}.jsonl")
            params = ["--param", f"input={data}", "--param", f"output={out}", "--threads", "2"]
            cmd = ([os.path.join(tmp, q)] if who == "exe"
                   else [kiln(), "run", os.path.join(BENCH, f"{q}.kiln")]) + params
            best[who] = min(wall(cmd, ROOT) for _ in range(a.repeat))
            outs[who] = open(out, "rb").read()
        same = "same output" if outs["exe"] == outs["run"] else "OUTPUTS DIFFER"
        mb = os.path.getsize(data) / 1e6
        lines.append(f"| {q.upper()} on {records:,} records ({mb:.0f} MB), 2 threads, best of "
                     f"{a.repeat} ({same}) | {best['exe']:.3f} s ({mb / best['exe']:.0f} MB/s) | "
                     f"{best['run']:.3f} s ({mb / best['run']:.0f} MB/s) |")
    lines += ["", f"Executable size (Q1): {size / 1e6:.1f} MB; load average at the end "
              f"{os.getloadavg()[0]:.1f}."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
