#!/usr/bin/env bash
# `nextevent score` benchmarks, side by side in one run:
#  1. the prediction stage (windows/s at batch 1 and 256, 1 and 2 threads) against onnxruntime's
#     Python package on the same encoded inputs and the same ONNX file (graph optimisation all,
#     intra- and inter-op threads equal to ours);
#  2. end to end from .csv.gz to the churn list: rows/s and peak RSS at 1 M and 20.7 M generated
#     rows, beside `nextevent ingest` (which holds every event) on the same files.
# Writes the `score` part of BENCHMARKS.md.   bash perf/score.sh [rows...]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 20692840)
python3 -c 'import onnxruntime' 2>/dev/null || python3 -m pip install -q onnxruntime
cargo bench --features data --bench score --quiet 2>&1 | grep -v '^$'
python3 perf/score_ort.py
cargo build --release --features data --bin nextevent --quiet
cargo build --release --features train --bin nextevent-train --quiet
out=target/bench-score; mkdir -p "$out" target/nextevent-data
for rows in "${sizes[@]}"; do
  file=target/nextevent-data/score-$rows-seed7.csv.gz
  [ -f "$file" ] || target/release/nextevent-train generate --rows "$rows" --seed 7 --no-bayes --out "$file"
  cat "$file" > /dev/null   # warm the page cache
  /usr/bin/time -v target/release/nextevent score --quiet --out "$out/churn-$rows.csv" "$file" 2> "$out/score-$rows.time"
  /usr/bin/time -v target/release/nextevent ingest "$file" > /dev/null 2> "$out/ingest-$rows.time"
done
python3 perf/score_report.py "${sizes[@]}"
