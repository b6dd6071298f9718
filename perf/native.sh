#!/usr/bin/env bash
# Native benchmarks with criterion: the predictor (encode + predict, batch 1 and 256) and the
# training loop's throughput per architecture. Writes the `native` part of BENCHMARKS.md.
#   bash perf/native.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/bench-native
cargo bench --bench predict 2>&1 | tee target/bench-native/predict.txt
cargo bench --features train --bench train 2>&1 | tee target/bench-native/train.txt
python3 perf/native_report.py target/bench-native/predict.txt target/bench-native/train.txt
