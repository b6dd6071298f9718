#!/usr/bin/env bash
# `nextevent score` benchmarks, side by side in one run:
#  1. the prediction stage (windows/s at batch 1 and 256, 1 and 2 threads) against onnxruntime's
#     Python package on the same encoded inputs and the same ONNX file (graph optimisation all,
#     intra- and inter-op threads equal to ours);
#  2. end to end from .csv.gz to the churn list: rows/s and peak RSS at 1 M and 20.7 M generated
#     rows, beside `nextevent ingest` (which holds every event) on the same files.
#  3. where the prediction stage's time goes: tract's plan and onnxruntime's, node by node.
# Writes the `score` and `profile` parts of BENCHMARKS.md.   bash perf/score.sh [rows...]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 20692840)
python3 -c 'import onnxruntime' 2>/dev/null || python3 -m pip install -q onnxruntime
cargo bench --features data --bench score --quiet 2>&1 | grep -v '^$'
python3 perf/score_ort.py
# Per-operator profiles, tract's and onnxruntime's, and the conv-as-MatMul experiment.
python3 -c 'import onnx' 2>/dev/null || python3 -m pip install -q onnx
python3 perf/conv_as_matmul.py
# Three of each, alternating, so a busy moment of a shared machine hits one run of one side:
# the report keeps each node's lowest median.
rm -f target/score-bench/profile-tract-*.json target/score-bench/profile-ort-*.json
for i in 1 2 3; do
  NEXTEVENT_PROFILE_OUT=profile-tract-$i.json cargo bench --features data --bench profile --quiet > target/score-bench/profile-tract-$i.txt
  python3 perf/profile_ort.py profile-ort-$i.json > target/score-bench/profile-ort-$i.txt
  grep -h '^==' target/score-bench/profile-tract-$i.txt target/score-bench/profile-ort-$i.txt
done
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
python3 perf/profile_report.py
