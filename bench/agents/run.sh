#!/usr/bin/env bash
# Benchmark of the 784-128-64-32-10 relu/softmax network: Kiln (static library from C),
# FANN (C) and numpy with one BLAS thread, side by side; results go to RESULTS.md.
# Needs: cc, libfann-dev (apt-get install libfann-dev), python3 with numpy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)  # before OMP_NUM_THREADS, which nproc obeys
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

python3 "$here/make_model.py" "$work/bench.af"
(cd "$root" && cargo run -q --release -p kiln --example agent_build -- "$work/bench.af" "$work/libbench.a")
cc -O2 -I"$work" "$here/bench_kiln.c" "$work/libbench.a" -lm -o "$work/bench_kiln"
cc -O2 "$here/bench_fann.c" -lfann -lm -o "$work/bench_fann"
cc -O2 -march=native "$here/fma_peak.c" -o "$work/fma_peak"

read -r _ peak < <("$work/fma_peak")
# The machine may be shared: load that comes and goes between one engine's run and the
# next would skew the ratios, so Kiln and FANN run in turns, three rounds, and each keeps
# its best latency and best throughput.
min() { python3 -c "import sys; print(min(sys.argv[1:], key=float))" "$@"; }
max() { python3 -c "import sys; print(max(sys.argv[1:], key=float))" "$@"; }
k1l=() k1r=() kl=() kr=() fl=() fr=()
for round in 1 2 3; do
  read -r _ a b < <(KILN_THREADS=1 "$work/bench_kiln"); k1l+=("$a"); k1r+=("$b")
  read -r kt a b < <("$work/bench_kiln"); kl+=("$a"); kr+=("$b")
  read -r _ a b < <("$work/bench_fann"); fl+=("$a"); fr+=("$b")
done
k1_lat=$(min "${k1l[@]}"); k1_rows=$(max "${k1r[@]}")
k_lat=$(min "${kl[@]}"); k_rows=$(max "${kr[@]}")
f_lat=$(min "${fl[@]}"); f_rows=$(max "${fr[@]}")
read -r _ n_lat n_rows < <(python3 "$here/bench_numpy.py")

# FLOPs of one row: 2 per multiply-add (784*128 + 128*64 + 64*32 + 32*10).
flops=$(( 2 * (784*128 + 128*64 + 64*32 + 32*10) ))
# GFLOP/s of a rate, against one core's peak (and, with a second argument of 2 threads,
# against the peak of two cores too).
pct() { python3 -c "g = $1; t = $2; s = f'{g:.1f} GFLOP/s ({g / $peak * 100:.0f}% of one core\'s peak'; print(s + (f', {g / $peak / t * 100:.0f}% of {t} cores\')' if t > 1 else ')'))"; }
gf() { pct "$1 * $flops / 1e9" "${2:-1}"; }
lat_gf() { pct "$flops / ($1 * 1e-6) / 1e9" "${2:-1}"; }

{
  echo "## Agents: 784-128-64-32-10 relu/softmax ($(date -u +%Y-%m-%d), ${cores} cores)"
  echo
  echo "One core's FP32 FMA peak (fma_peak.c: 12 independent 512-bit FMA chains in registers): ${peak} GFLOP/s."
  echo
  echo "Method: FANN and numpy run on one thread (numpy with one BLAS thread) and are timed with"
  echo "that thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, Python's time.thread_time), so time"
  echo "spent descheduled on the shared machine does not count. Kiln runs once with"
  echo "KILN_THREADS=1 and once with the default (${kt} threads: the calling thread plus the"
  echo "library's worker); its times are wall-clock (CLOCK_MONOTONIC), since a CPU clock of the"
  echo "calling thread would not see the worker, which makes the comparison conservative for"
  echo "Kiln. Kiln and FANN run in turns, three rounds of 40 trials each, so that load coming and going on"
  echo "the shared machine hits both; numpy runs once. Best trial. Batch-1 latency is the mean of thousands of single-row calls"
  echo "cycling through 256 different rows. The machine has no hardware counters (perf stat"
  echo "reports cycles and instructions as not supported)."
  echo
  echo "| engine | threads | batch-1 latency | batch-1 GFLOP/s | batch-256 rows/s | batch-256 GFLOP/s |"
  echo "|---|---|---|---|---|---|"
  echo "| Kiln (static library, C) | ${kt} | ${k_lat} µs | $(lat_gf "$k_lat" "$kt") | ${k_rows} | $(gf "$k_rows" "$kt") |"
  echo "| Kiln (static library, C) | 1 | ${k1_lat} µs | $(lat_gf "$k1_lat") | ${k1_rows} | $(gf "$k1_rows") |"
  echo "| FANN 2.2 (C) | 1 | ${f_lat} µs | $(lat_gf "$f_lat") | ${f_rows} | $(gf "$f_rows") |"
  echo "| numpy, 1 BLAS thread | 1 | ${n_lat} µs | $(lat_gf "$n_lat") | ${n_rows} | $(gf "$n_rows") |"
  echo
  python3 -c "print(f'Kiln ({$kt} threads): batch-1 latency is 1/{$f_lat / $k_lat:.1f} of FANN\'s (goal: 1/20, i.e. {$f_lat / 20:.2f} µs); batch-256 throughput is {$k_rows / $n_rows:.2f}x numpy\'s (goal: 2x). On one thread: 1/{$f_lat / $k1_lat:.1f} and {$k1_rows / $n_rows:.2f}x.')"
  echo
  python3 -c "print(f'Bounds: 2x numpy is {2 * $n_rows * $flops / 1e9:.0f} GFLOP/s, {2 * $n_rows * $flops / 1e9 / $peak * 100:.0f}% of one core\'s FMA peak; at 100% of peak one thread does {$peak * 1e9 / $flops:.0f} rows/s. Batch 1 streams the {4 * (784*128 + 128*64 + 64*32 + 32*10 + 128 + 64 + 32 + 10) / 1024:.0f} KiB of weights from L2 on every call: Kiln reads them at {4 * (784*128 + 128*64 + 64*32 + 32*10) / ($k1_lat * 1e-6) / 1e9:.0f} GB/s on one thread, {4 * (784*128 + 128*64 + 64*32 + 32*10) / ($k_lat * 1e-6) / 1e9:.0f} GB/s on {$kt}.')"
} > "$here/RESULTS.md"
cat "$here/RESULTS.md"
