#!/usr/bin/env bash
# Peak memory of what Kiln materializes (issue 18): `sort_by` of every record, `distinct`
# over every id, and a join whose large source is declared before its small one, beside
# a streaming pass over the same file. Peak RSS from /usr/bin/time -v (apt-get install time), best of 3 by wall time.
#   bench/mem/run.sh [RECORDS]     # default 500,000 (about 145 MB of JSONL)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
records=${1:-500000}
data=bench/data
mkdir -p "$data/out"
kiln=${KILN:-target/release/kiln}
[ -x "$kiln" ] || cargo build --release --quiet -p kiln
input="$data/mem_${records}.jsonl"
[ -s "$input" ] || python3 bench/gen_data.py "$input" "$records" >/dev/null
head -1000 "$input" > "$data/mem_users.jsonl"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')

measure() {  # name kiln-file [params...]
  local name=$1 file=$2; shift 2
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -v "$kiln" run "$file" --threads 2 "$@" 2> "$data/out/time.txt" >/dev/null
    local rss wall
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$data/out/time.txt")
    wall=$(awk -F': ' '/Elapsed/ {print $2}' "$data/out/time.txt")
    best="$best$rss $wall"$'\n'
  done
  printf '| %s | %s |\n' "$name" "$(printf '%s' "$best" | sort -n | head -1 | awk '{printf "%.1f MB | %s", $1 / 1000, $2}')"
}

echo "Peak memory, $(date -u '+%Y-%m-%d %H:%M UTC'), ${cpu}, $(nproc) cores, --threads 2;"
echo "input \`$input\` ($records records, $(stat -L -c %s "$input") bytes)."
echo
echo "| pipeline | peak RSS | wall (m:ss) |"
echo "|---|---:|---:|"
measure "streaming pass (\`bench/q1.kiln\`)" bench/q1.kiln \
  --param input="$input" --param output="$data/out/mem_q1.jsonl"
measure "\`sort_by\` of \`{ id, price }\` (\`bench/mem/sort.kiln\`)" bench/mem/sort.kiln \
  --param input="$input" --param output="$data/out/mem_sort.jsonl"
measure "\`distinct\` of every id (\`bench/mem/distinct.kiln\`)" bench/mem/distinct.kiln \
  --param input="$input" --param output="$data/out/mem_distinct.jsonl"
measure "join, large source declared first (\`bench/mem/join.kiln\`)" bench/mem/join.kiln \
  --param input="$input" --param small="$data/mem_users.jsonl" \
  --param output="$data/out/mem_join.jsonl"
