#!/usr/bin/env python3
"""Time from Enter to printed result in `kiln repl` (issue 16).

Starts `kiln repl` with pipes (the scripted mode: same work as at a terminal, no prompt),
writes one input at a time and times until its result line has been read. Cases: a
one-line expression, a small `fn` (a new name each time, so each is a definition), a
call of it, and an expression after `:load examples/reviews/reviews.kiln` (a session of
19 declarations). Prints median / p90 / max per case in milliseconds, as a Markdown table.

Usage: python3 bench/repl_latency.py [--n 50] [--kiln target/release/kiln]
"""
import argparse
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def session(kiln):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("KILN_HISTORY", None)
    return subprocess.Popen([kiln, "repl"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1, env=env)


def ask(p, line, until):
    """Sends `line`, returns (ms, output lines) once a line starting with `until` came."""
    t0 = time.perf_counter()
    p.stdin.write(line + "\n")
    p.stdin.flush()
    out = []
    while True:
        got = p.stdout.readline()
        if not got:
            raise SystemExit(f"kiln repl ended; output so far: {out}")
        out.append(got)
        if got.startswith(until):
            return (time.perf_counter() - t0) * 1000, out


def case(kiln, n, setup, make):
    p = session(kiln)
    for line, until in setup:
        ask(p, line, until)
    times = []
    for i in range(n + 5):
        line, until = make(i)
        ms, _ = ask(p, line, until)
        if i >= 5:
            times.append(ms)
    p.stdin.close()
    p.wait()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], times[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "target/release/kiln"))
    a = ap.parse_args()
    cases = [
        ("expression `1 + 2`", [], lambda i: ("1 + 2", "3 : int")),
        ("`fn f_i(x: int) -> int = x * i + 1` (a new fn)", [],
         lambda i: (f"fn f_{i}(x: int) -> int = x * {i} + 1", "defined")),
        ("call `sq(i)` of a fn", [("fn sq(x: int) -> int = x * x", "defined")],
         lambda i: (f"sq({i})", f"{i * i} : int")),
        ("`clean(\"  Hi \")` after loading examples/reviews (19 declarations)",
         [(":load examples/reviews/reviews.kiln", "loaded")],
         lambda i: ('clean("  Hi ")', '"hi" : str')),
    ]
    print("| input | median (ms) | p90 (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    for name, setup, make in cases:
        med, p90, mx = case(a.kiln, a.n, setup, make)
        print(f"| {name} | {med:.1f} | {p90:.1f} | {mx:.1f} |")


if __name__ == "__main__":
    main()
