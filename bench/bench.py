"""Kiln benchmark driver; run it through bench/run, which installs the peers first.

Generates the data, times Q1/Q2 on Kiln, jq, DuckDB, Polars and plain Python (best of
--repeat), checks that their outputs agree, times `kiln check` on a generated 10,000-line
file (with its time per phase), measures the peak memory of a sort, a distinct and a join
(bench/mem/run.sh), and rewrites the `## Queries`, `## Check` and `## Materialization
memory` sections of BENCHMARKS.md.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zlib

import gen_data
import gen_kiln

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
DATA = os.path.join(BENCH, "data")
OUT = os.path.join(DATA, "out")
PY = sys.executable
THREADS = 2
ENGINES = ["kiln", "jq", "duckdb", "polars", "python"]
JQ = {
    "q1": "select(.stars >= 4) | {id, user: (.user | ascii_upcase), text_len: (.text | length)}",
    "q2": "reduce inputs as $r ({}; ($r.stars | tostring) as $k | .[$k].n += 1"
          " | .[$k].sum += $r.price | .[$k].max = ([.[$k].max // 0, ($r.text | length)] | max))"
          " | to_entries[] | {key: (.key | tonumber), n: .value.n,"
          " mean_price: (.value.sum / .value.n), max_text_len: .value.max}",
}
problems = []  # every mismatch or failure, printed loudly and written to BENCHMARKS.md


def loud(msg):
    problems.append(msg)
    print(f"\n!!!!!! {msg}\n", file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ensure_data(records):
    """Generate bench/data/reviews.jsonl unless it is already there with the right checksum."""
    path = os.path.join(DATA, "reviews.jsonl")
    meta_path = path + ".meta.json"
    want = {"records": records, "seed": gen_data.SEED,
            "generator": sha256_file(os.path.join(BENCH, "gen_data.py"))}
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if {k: meta.get(k) for k in want} == want:
            digest = sha256_file(path)
            if digest == meta["sha256"]:
                print(f"data: {path} is current ({records} records), sha256 {digest}")
                return path, digest
            print("data: checksum differs from the recorded one; regenerating")
    print(f"data: generating {records} records ...", flush=True)
    t0 = time.perf_counter()
    digest = gen_data.generate(path, records)
    with open(meta_path, "w") as f:
        json.dump(dict(want, sha256=digest), f)
    print(f"data: wrote {path} in {time.perf_counter() - t0:.1f} s, sha256 {digest}")
    return path, digest


def kiln_binary():
    path = os.environ.get("KILN", os.path.join(ROOT, "target", "release", "kiln"))
    return path if os.access(path, os.X_OK) else None


def command(engine, query, inp, out):
    """(argv, stdout file or None, extra env) for one run; Python peers report their own time."""
    if engine == "kiln":
        return ([kiln_binary(), "run", os.path.join(BENCH, f"{query}.kiln"), "--param",
                 f"input={inp}", "--param", f"output={out}", "--threads", str(THREADS)], None, {})
    if engine == "jq":
        flags = ["-c"] if query == "q1" else ["-nc"]
        return (["jq", *flags, JQ[query], inp], out, {})
    env = {"POLARS_MAX_THREADS": str(THREADS), "KILN_BENCH_THREADS": str(THREADS)}
    return ([PY, os.path.join(BENCH, "peers.py"), engine, query, inp, out], None, env)


def time_engine(engine, query, inp, repeat):
    """Best of `repeat` runs: {'best', 'wall', 'output'}, or None if the engine is unavailable."""
    out = os.path.join(OUT, f"{engine}_{query}.jsonl")
    if engine == "kiln" and not kiln_binary():
        print(f"  kiln: not available yet (no binary at target/release/kiln)")
        return None
    best = wall_best = None
    for _ in range(repeat):
        if os.path.exists(out):
            os.remove(out)
        argv, stdout_path, env = command(engine, query, inp, out)
        stdout = open(stdout_path, "w") if stdout_path else subprocess.PIPE
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, **env))
        wall = time.perf_counter() - t0
        if stdout_path:
            stdout.close()
        if p.returncode != 0 or not os.path.exists(out):
            why = (p.stderr.strip().splitlines() or [f"exit {p.returncode}, no output"])[-1]
            if engine == "kiln":
                print(f"  kiln: not available yet (kiln run: {why[:200]})")
                return None
            loud(f"{engine} {query} FAILED: {why[:300]}")
            return None
        secs = json.loads(p.stdout)["seconds"] if engine in ("duckdb", "polars", "python") else wall
        best = secs if best is None else min(best, secs)
        wall_best = wall if wall_best is None else min(wall_best, wall)
    print(f"  {engine:7s} {query}: best {best:.3f} s (process wall {wall_best:.3f} s)", flush=True)
    return {"best": best, "wall": wall_best, "output": out}


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def q1_digest(path):
    """Order-independent summary of Q1 output: rows, sum of ids, sum of lengths, row hash."""
    rows = sum_id = sum_len = h = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            rows += 1
            sum_id += r["id"]
            sum_len += r["text_len"]
            h = (h + zlib.crc32(f'{r["id"]}|{r["user"]}|{r["text_len"]}'.encode())) % (1 << 64)
    return {"rows": rows, "sum_id": sum_id, "sum_text_len": sum_len, "row_hash": h}


def q2_table(path):
    return {r["key"]: r for r in read_rows(path)}


def verify(results):
    """Compare every engine's outputs with the first engine's (Kiln's when it ran)."""
    for query in ("q1", "q2"):
        ran = [(e, r[query]) for e, r in results.items() if r.get(query)]
        if len(ran) < 2:
            continue
        summarize = q1_digest if query == "q1" else q2_table
        summaries = {}
        for e, r in ran:
            try:
                summaries[e] = summarize(r["output"])
            except (ValueError, KeyError, TypeError) as exc:
                loud(f"{query.upper()} OUTPUT OF {e} IS NOT IN THE EXPECTED SHAPE: {exc!r}")
        if len(summaries) < 2:
            continue
        ref_name = next(iter(summaries))
        if query == "q1":
            digests = summaries
            ref = digests[ref_name]
            print(f"  q1 reference ({ref_name}): {ref}")
            for e, d in digests.items():
                if d["rows"] != ref["rows"]:
                    loud(f"Q1 ROW COUNT MISMATCH: {e} has {d['rows']} rows, "
                         f"{ref_name} has {ref['rows']}")
                elif d != ref:
                    loud(f"Q1 CONTENT MISMATCH: {e} {d} vs {ref_name} {ref}")
        else:
            tables = summaries
            ref = tables[ref_name]
            for e, t in tables.items():
                if sorted(t) != sorted(ref):
                    loud(f"Q2 KEY MISMATCH: {e} has keys {sorted(t)}, {ref_name} {sorted(ref)}")
                    continue
                for k in ref:
                    a, b = t[k], ref[k]
                    rel = abs(a["mean_price"] - b["mean_price"]) / max(abs(b["mean_price"]), 1e-300)
                    if a["n"] != b["n"] or a["max_text_len"] != b["max_text_len"] or rel > 1e-9:
                        loud(f"Q2 MISMATCH for stars={k}: {e} {a} vs {ref_name} {b}")
    if not problems:
        print("  outputs agree (Q1: rows, id sum, length sum, row hash; Q2: counts, max "
              "lengths exactly, means within 1e-9 relative)")


def check_section(repeat):
    """Time `kiln check` on a generated 10,000-line file; returns markdown lines."""
    big = os.path.join(DATA, "big.kiln")
    with open(big, "w", encoding="utf-8") as f:
        f.write(gen_kiln.generate(10000))
    lines = [f"Input: `bench/data/big.kiln`, 10,000 lines generated by `bench/gen_kiln.py` "
             f"(sha256 `{sha256_file(big)[:16]}…`). Goal: `kiln check` under 100 ms.", ""]
    kiln = kiln_binary()
    if not kiln:
        print("check: kiln: not available yet (no binary at target/release/kiln)")
        return lines + ["kiln: not available yet (no binary at `target/release/kiln`)."]
    # `kiln check` must accept a tiny valid file and reject a broken one, else it is not there yet.
    probes = {}
    for name, src in (("tiny.kiln", "const A = 1\n"), ("broken.kiln", "stage = = 1\n")):
        with open(os.path.join(DATA, name), "w") as f:
            f.write(src)
        probes[name] = subprocess.run([kiln, "check", os.path.join(DATA, name)],
                                      capture_output=True).returncode
    if probes["tiny.kiln"] != 0 or probes["broken.kiln"] == 0:
        print(f"check: kiln: not available yet (kiln check exit codes: {probes})")
        return lines + [f"kiln: not available yet (`kiln check` gave exit codes {probes} "
                        "on a valid and a broken file)."]
    best, status = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run([kiln, "check", big], capture_output=True, text=True)
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
        status = p
    if status.returncode != 0:
        first = (status.stdout + status.stderr).strip().splitlines()[:5]
        loud("kiln check rejected the generated big.kiln: " + " | ".join(first))
    verdict = "met" if best < 0.1 else "NOT met"
    print(f"check: best {best * 1000:.1f} ms (exit {status.returncode}), goal {verdict}")
    # Per phase (`kiln check --timings`): the median of `repeat` runs for each phase.
    phases = {}
    for _ in range(repeat):
        p = subprocess.run([kiln, "check", "--timings", big], capture_output=True, text=True)
        for line in p.stderr.splitlines():
            if line.startswith("timings: "):
                for part in line[len("timings: "):].split(", "):
                    name, ms, _ = part.rsplit(" ", 2)
                    phases.setdefault(name, []).append(float(ms))
    per_phase = ", ".join(f"{name} {statistics.median(v):.1f} ms" for name, v in phases.items())
    print(f"check: per phase (median of {repeat}): {per_phase}")
    return lines + [f"| file | lines | best of {repeat} | exit code | goal < 100 ms |",
                    "|---|---:|---:|---:|---|",
                    f"| big.kiln | 10,000 | {best * 1000:.1f} ms | {status.returncode} | {verdict} |",
                    "", f"Per phase (`kiln check --timings`, median of {repeat} runs; `total` is "
                    f"inside the process, from argument parsing to the last byte written): "
                    f"{per_phase or 'not available'}.",
                    "", f"Machine: {machine()}."]


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 2**20:.1f} GiB RAM, {platform.platform()}"


def versions():
    v = {"jq": subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip(),
         "python": platform.python_version()}
    for mod in ("duckdb", "polars", "numpy"):
        v[mod] = subprocess.run([PY, "-c", f"import {mod}; print({mod}.__version__)"],
                                capture_output=True, text=True).stdout.strip()
    kiln = kiln_binary()
    v["kiln"] = (subprocess.run([kiln, "--version"], capture_output=True, text=True)
                 .stdout.strip().removeprefix("kiln ") or "present") if kiln else "not built"
    return v


def queries_section(args, results, digest, size, load_before, load_after):
    ref, label = {}, {}  # per query: Kiln's time if it ran, else the fastest peer's
    for q in ("q1", "q2"):
        times = {e: r[q]["best"] for e, r in results.items() if r.get(q)}
        ref[q] = times.get("kiln") or min(times.values(), default=None)
        label[q] = "vs Kiln" if "kiln" in times else "vs fastest peer"
    v = versions()
    L = [f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {machine()}.",
         f"Load average before / after the run: {load_before} / {load_after}.",
         f"Data: `bench/data/reviews.jsonl`, {args.records:,} records, {size / 1e6:.1f} MB, "
         f"sha256 `{digest}` (seed {gen_data.SEED}; the same for every run with the same "
         "record count).", ""]
    if args.note:
        L += [f"Conditions: {args.note}", ""]
    L += ["Versions: " + ", ".join(f"{k} {v[k]}" for k in
                                   ("kiln", "jq", "duckdb", "polars", "numpy", "python")), "",
          "- Q1: `filter stars >= 4`, project `id`, `upper(user)`, `len(text)` (chars) -> JSONL file.",
          "- Q2: `group_by stars`: count, mean price, max text length -> JSONL file.",
          f"- Best of {args.repeat} runs, {THREADS} threads where the engine has a setting "
          "(Kiln `--threads 2`, DuckDB `SET threads=2`, `POLARS_MAX_THREADS=2`); jq and plain "
          "Python are single-threaded. The file is in the page cache after the first run.",
          "- Kiln and jq: wall time of the whole process. DuckDB, Polars, Python: time inside "
          "the process from opening the input to closing the output (interpreter start-up and "
          "imports excluded, which favours them); the process wall time is in brackets.",
          "- Ratio = engine time / Kiln time, or / the fastest peer's time while Kiln cannot "
          "run the query (above 1 means slower).", "",
          f"| engine | Q1 (s) | Q1 {label['q1']} | Q2 (s) | Q2 {label['q2']} |",
          "|---|---:|---:|---:|---:|"]
    for e, r in results.items():
        row = [e]
        for q in ("q1", "q2"):
            t = r.get(q)
            if t is None:
                row += ["not available yet" if e == "kiln" else "failed", ""]
                continue
            wall = f" ({t['wall']:.3f})" if e in ("duckdb", "polars", "python") else ""
            row += [f"{t['best']:.3f}{wall}", f"{t['best'] / ref[q]:.2f}×" if ref[q] else ""]
        L.append("| " + " | ".join(row) + " |")
    L += ["", "Goals: Q1 and Q2 — Kiln at least as fast as the faster of DuckDB and Polars, both "
          "at 2 threads (later: 3× faster); `kiln check` on 10,000 lines under 100 ms."]
    for q in ("q1", "q2"):
        peers = [results[e][q]["best"] for e in ("duckdb", "polars")
                 if results.get(e, {}).get(q)]
        k = results.get("kiln", {}).get(q)
        if not k:
            L.append(f"- {q.upper()}: Kiln not available yet.")
        elif peers:
            fast = min(peers)
            L.append(f"- {q.upper()}: Kiln {k['best']:.3f} s vs {fast:.3f} s → "
                     f"{'met' if k['best'] <= fast else 'NOT met'} ({fast / k['best']:.2f}× "
                     f"the faster peer's speed; 3× goal {'met' if k['best'] * 3 <= fast else 'not met'}).")
    L += ["", "Output agreement: " + ("all engines agree." if not problems else
                                     "**PROBLEMS:** " + "; ".join(problems)), "",
          "Reproduce: `bench/run` (full size; installs jq and a venv with duckdb, polars, numpy "
          "at bench/.venv if missing), or `bench/run --records 100000` for a quick run; "
          "`bench/run --help` lists the options."]
    return L


def memory_section(records):
    """Peak memory of a sort, a distinct and a join (bench/mem/run.sh); markdown lines."""
    kiln = kiln_binary()
    if not kiln:
        return ["kiln: not available yet (no binary at `target/release/kiln`)."]
    env = dict(os.environ, KILN=kiln)
    p = subprocess.run([os.path.join(BENCH, "mem", "run.sh"), str(records)], capture_output=True,
                       text=True, env=env)
    if p.returncode != 0:
        loud("bench/mem/run.sh failed: " + " | ".join(p.stderr.strip().splitlines()[-3:]))
        return ["`bench/mem/run.sh` failed."]
    print(p.stdout.rstrip())
    lines = p.stdout.rstrip().splitlines()
    return ["From `bench/mem/run.sh` (run by `bench/run`, 500,000 records unless "
            "`--mem-records`). Goal: `sort_by` of 500k `{ id, price }` under 60 MB; a join's "
            "peak independent of the declaration order.", ""] + lines


def write_markdown(queries, check, memory=None):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else \
        "# Benchmarks\n\nWritten by `bench/run`; other sections may come from other benchmarks.\n"
    sections = [("## Queries", queries), ("## Check", check)]
    if memory is not None:
        sections.append(("## Materialization memory", memory))
    for heading, body in sections:
        section = heading + "\n\n" + "\n".join(body).rstrip() + "\n"
        start = text.find(heading + "\n")
        if start < 0:
            text = text.rstrip() + "\n\n" + section
        else:
            end = text.find("\n## ", start + len(heading))
            text = text[:start] + section + (text[end:] if end >= 0 else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--records", type=int, default=1_000_000, help="records to generate")
    ap.add_argument("--repeat", type=int, default=3, help="runs per query and engine (best kept)")
    ap.add_argument("--check-repeat", type=int, default=5, help="runs of kiln check (best kept)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset")
    ap.add_argument("--mem-records", type=int, default=500_000,
                    help="records for the memory benchmark (bench/mem/run.sh)")
    ap.add_argument("--note", default="", help="conditions to record in BENCHMARKS.md")
    ap.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    load_before = open("/proc/loadavg").read().split()[0]
    inp, digest = ensure_data(args.records)
    results = {e: {} for e in ENGINES if e in args.engines.split(",")}  # Kiln first
    for q in ("q1", "q2"):
        print(f"{q}:", flush=True)
        for e in results:
            results[e][q] = time_engine(e, q, inp, args.repeat)
    print("verify:")
    verify(results)
    check = check_section(args.check_repeat)
    print("memory:")
    memory = memory_section(args.mem_records)
    load_after = open("/proc/loadavg").read().split()[0]
    if not args.no_write:
        write_markdown(queries_section(args, results, digest, os.path.getsize(inp),
                                       load_before, load_after), check, memory)
    if problems:
        print(f"\n{len(problems)} PROBLEM(S):\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
