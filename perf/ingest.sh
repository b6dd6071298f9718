#!/usr/bin/env bash
# Ingest benchmark: `nextevent-train ingest` against pandas (perf/ingest_pandas.py) on the same
# generated Kaggle-size file, warm cache, one after the other; wall time and peak memory from
# /usr/bin/time -v; the window counts must be equal. Writes the `ingest` part of BENCHMARKS.md.
#   bash perf/ingest.sh [file]   (default: generates target/nextevent-data/full-20692840-seed7.csv.gz)
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-target/nextevent-data/full-20692840-seed7.csv.gz}
cargo build --release --features train --bin nextevent-train --quiet
if [ ! -f "$file" ]; then
  target/release/nextevent-train generate --rows 20692840 --seed 7 --out "$file"
fi
python3 -c 'import pandas' 2>/dev/null || python3 -m pip install -q pandas
cat "$file" > /dev/null   # warm the page cache
out=target/bench-ingest; mkdir -p $out
/usr/bin/time -v target/release/nextevent-train ingest "$file" > $out/ours.txt 2> $out/ours.time
/usr/bin/time -v python3 perf/ingest_pandas.py "$file" > $out/pandas.json 2> $out/pandas.time
python3 perf/ingest_report.py "$file" $out
