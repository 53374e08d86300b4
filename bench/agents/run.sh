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
cc -O2 -mavx2 -mfma -mno-avx512f "$here/fma_peak.c" -o "$work/fma_peak_avx2"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
read -r _ peak < <("$work/fma_peak")
read -r _ peak2 < <("$work/fma_peak_avx2")
# The machine may be shared: load that comes and goes between one engine's run and the
# next would skew the ratios, so Kiln and FANN run in turns, three rounds, and each keeps
# its best latency and best throughput. Kiln runs at the CPU's best kernel level and again
# forced to AVX2 + FMA (KILN_KERNEL_LEVEL=v3, docs/agents.md), on 2 threads and on 1.
min() { python3 -c "import sys; print(min(sys.argv[1:], key=float))" "$@"; }
max() { python3 -c "import sys; print(max(sys.argv[1:], key=float))" "$@"; }
k1l=() k1r=() kl=() kr=() fl=() fr=() v1l=() v1r=() vl=() vr=()
for round in 1 2 3; do
  read -r _ a b lvl1 < <(KILN_THREADS=1 "$work/bench_kiln"); k1l+=("$a"); k1r+=("$b")
  read -r kt a b lvl < <("$work/bench_kiln"); kl+=("$a"); kr+=("$b")
  read -r _ a b lv3a < <(KILN_KERNEL_LEVEL=v3 KILN_THREADS=1 "$work/bench_kiln"); v1l+=("$a"); v1r+=("$b")
  read -r _ a b lv3 < <(KILN_KERNEL_LEVEL=v3 "$work/bench_kiln"); vl+=("$a"); vr+=("$b")
  read -r _ a b < <("$work/bench_fann"); fl+=("$a"); fr+=("$b")
done
k1_lat=$(min "${k1l[@]}"); k1_rows=$(max "${k1r[@]}")
k_lat=$(min "${kl[@]}"); k_rows=$(max "${kr[@]}")
v1_lat=$(min "${v1l[@]}"); v1_rows=$(max "${v1r[@]}")
v_lat=$(min "${vl[@]}"); v_rows=$(max "${vr[@]}")
f_lat=$(min "${fl[@]}"); f_rows=$(max "${fr[@]}")
read -r _ n_lat n_rows < <(python3 "$here/bench_numpy.py")
# numpy's OpenBLAS forced to its AVX2 (Haswell) kernels, for the AVX2 rows.
read -r _ n2_lat n2_rows < <(OPENBLAS_CORETYPE=Haswell python3 "$here/bench_numpy.py")
level_name() { case "$1" in 4) echo "AVX-512";; 3) echo "AVX2+FMA";; *) echo "baseline (SSE2)";; esac; }

# FLOPs of one row: 2 per multiply-add (784*128 + 128*64 + 64*32 + 32*10).
flops=$(( 2 * (784*128 + 128*64 + 64*32 + 32*10) ))
# GFLOP/s of a rate, against one core's peak at a level (and, with a third argument of 2
# threads, against the peak of two cores too).
pct() { python3 -c "g = $1; t = $3; s = f'{g:.1f} GFLOP/s ({g / $2 * 100:.0f}% of one core\'s peak'; print(s + (f', {g / $2 / t * 100:.0f}% of {t} cores\')' if t > 1 else ')'))"; }
gf() { pct "$1 * $flops / 1e9" "$2" "${3:-1}"; }
lat_gf() { pct "$flops / ($1 * 1e-6) / 1e9" "$2" "${3:-1}"; }
# The peak that applies to a level: 512-bit FMAs with AVX-512, 256-bit ones otherwise.
peak_of() { if [ "$1" = 4 ]; then echo "$peak"; else echo "$peak2"; fi; }
goals() {  # level-name lat1 rows1 lat2 rows2 threads numpy-rows level-peak
  python3 -c "
f, n, pk, fl = $f_lat, $7, $8, $flops
l1, r1, l2, r2, t = $2, $3, $4, $5, $6
print(f'{\"$1\"}: batch-256 on one thread {r1 * fl / 1e9 / pk * 100:.0f}% of the level\'s one-core peak (goal 85%), {r1 / n:.2f}x numpy (goal 1.1x); on {t} threads {r2 / n:.2f}x numpy (goal 2x); batch-1 latency on {t} threads 1/{f / l2:.1f} of FANN\'s (goal 1/20, i.e. {f / 20:.2f} µs), on one thread 1/{f / l1:.1f}.')"
}

{
  echo "## Agents: 784-128-64-32-10 relu/softmax ($(date -u +%Y-%m-%d), ${cores} cores, ${cpu})"
  echo
  echo "CPU: ${cpu}; best kernel level $(level_name "$lvl"). One core's FP32 FMA peak"
  echo "(fma_peak.c: 12 independent FMA chains in registers): ${peak} GFLOP/s with $(level_name "$lvl") vectors"
  echo "(-march=native), ${peak2} GFLOP/s with 256-bit AVX2 FMAs."
  echo
  echo "Method: FANN and numpy run on one thread (numpy with one BLAS thread) and are timed with"
  echo "that thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, Python's time.thread_time), so time"
  echo "spent descheduled on the shared machine does not count. Kiln runs once with"
  echo "KILN_THREADS=1 (all on the calling thread, timed with its CPU clock like the peers) and"
  echo "once with the default (${kt} threads: the calling thread plus the library's worker),"
  echo "timed wall-clock (CLOCK_MONOTONIC), since a CPU clock of the calling thread would not"
  echo "see the worker: on a loaded machine the two-thread rows are pessimistic. Kiln runs at the CPU's best level and forced to AVX2+FMA (KILN_KERNEL_LEVEL=v3);"
  echo "numpy's OpenBLAS likewise (OPENBLAS_CORETYPE=Haswell for the AVX2 row). Kiln and FANN"
  echo "run in turns, three rounds of 40 trials each, so that load coming and going on"
  echo "the shared machine hits both; numpy runs once per level. Best trial. Batch-1 latency is the mean of thousands of single-row calls"
  echo "cycling through 256 different rows. Percentages are of the peak of the row's level."
  echo
  echo "| engine | level | threads | batch-1 latency | batch-1 GFLOP/s | batch-256 rows/s | batch-256 GFLOP/s |"
  echo "|---|---|---|---|---|---|---|"
  echo "| Kiln (static library, C) | $(level_name "$lvl") | ${kt} | ${k_lat} µs | $(lat_gf "$k_lat" "$(peak_of "$lvl")" "$kt") | ${k_rows} | $(gf "$k_rows" "$(peak_of "$lvl")" "$kt") |"
  echo "| Kiln (static library, C) | $(level_name "$lvl1") | 1 | ${k1_lat} µs | $(lat_gf "$k1_lat" "$(peak_of "$lvl1")") | ${k1_rows} | $(gf "$k1_rows" "$(peak_of "$lvl1")") |"
  echo "| Kiln (static library, C) | $(level_name "$lv3") (forced) | ${kt} | ${v_lat} µs | $(lat_gf "$v_lat" "$peak2" "$kt") | ${v_rows} | $(gf "$v_rows" "$peak2" "$kt") |"
  echo "| Kiln (static library, C) | $(level_name "$lv3a") (forced) | 1 | ${v1_lat} µs | $(lat_gf "$v1_lat" "$peak2") | ${v1_rows} | $(gf "$v1_rows" "$peak2") |"
  echo "| FANN 2.2 (C) | scalar | 1 | ${f_lat} µs | $(lat_gf "$f_lat" "$peak2") | ${f_rows} | $(gf "$f_rows" "$peak2") |"
  echo "| numpy, 1 BLAS thread | OpenBLAS native | 1 | ${n_lat} µs | $(lat_gf "$n_lat" "$(peak_of "$lvl")") | ${n_rows} | $(gf "$n_rows" "$(peak_of "$lvl")") |"
  echo "| numpy, 1 BLAS thread | OpenBLAS Haswell (AVX2) | 1 | ${n2_lat} µs | $(lat_gf "$n2_lat" "$peak2") | ${n2_rows} | $(gf "$n2_rows" "$peak2") |"
  echo
  goals "$(level_name "$lvl")" "$k1_lat" "$k1_rows" "$k_lat" "$k_rows" "$kt" "$n_rows" "$(peak_of "$lvl")"
  echo
  goals "$(level_name "$lv3") (forced)" "$v1_lat" "$v1_rows" "$v_lat" "$v_rows" "$kt" "$n2_rows" "$peak2"
  echo
  python3 -c "print(f'Batch 1 streams the {4 * (784*128 + 128*64 + 64*32 + 32*10 + 128 + 64 + 32 + 10) / 1024:.0f} KiB of weights from L2 on every call: Kiln reads them at {4 * (784*128 + 128*64 + 64*32 + 32*10) / ($k1_lat * 1e-6) / 1e9:.0f} GB/s on one thread, {4 * (784*128 + 128*64 + 64*32 + 32*10) / ($k_lat * 1e-6) / 1e9:.0f} GB/s on {$kt} (best level).')"
} > "$here/RESULTS.md"
cat "$here/RESULTS.md"
