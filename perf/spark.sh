#!/usr/bin/env bash
# The churn list on Spark against the native command, side by side in one run, on one file
# of generated rows (plain CSV, so Spark can split the read): `python -m nextevent.spark` on
# local[1] and local[2], and `nextevent score` with 1 and 2 threads. Prints wall time, rows/s
# and peak RSS (of the largest process: the JVM, for Spark) and checks the row counts agree.
# The generator plants rows the reader rejects (negative purchase prices); the CLI counts and
# skips them, the Spark job (like the Python package) fails on the first, so they are
# filtered out first: every run reads the same clean file.
#   bash perf/spark.sh [rows]   (default 5000000; the file is generated once, seed 7)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
mkdir -p target/nextevent-data target/bench-spark
gz=target/nextevent-data/score-$rows-seed7.csv.gz
csv=target/nextevent-data/score-$rows-seed7.csv
[ -f "$gz" ] || target/release/nextevent-train generate --rows "$rows" --seed 7 --no-bayes --out "$gz"
# Column 7 is the price: drop the planted negative ones.
[ -f "$csv" ] || gzip -dc "$gz" | awk -F, 'NR == 1 || substr($7, 1, 1) != "-"' > "$csv"
read_rows=$(( $(wc -l < "$csv") - 1 ))
cat "$csv" > /dev/null
out=target/bench-spark
report=$out/report.md
{
  echo "## Spark (local mode) against the native scorer"
  echo
  echo "\`bash perf/spark.sh $rows\` on this machine ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(python3 -c 'import pyspark; print("PySpark", pyspark.__version__)'), $(java -version 2>&1 | head -1)); $read_rows rows generated with seed 7, planted negative prices dropped ($(du -h "$csv" | cut -f1) of CSV), one run each, one after the other:"
  echo
  echo "| run | wall s | rows/s | peak RSS MB | churn rows |"
  echo "|---|---|---|---|---|"
} > "$report"
measure() {
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  /usr/bin/time -v "$@" 2> "$out/$name.time" > "$out/$name.out" || { grep -m3 -i error "$out/$name.time" >&2; echo "$name failed" >&2; return 1; }
  local wall; wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
  local rss; rss=$(awk '/Maximum resident/{printf "%.0f", $6/1024}' "$out/$name.time")
  echo "$name,$wall,$rss"
}
count_csv() { echo $(( $(wc -l < "$1") - 1 )); }
count_parquet() { python3 -c 'import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).num_rows)' "$1"; }
for threads in 1 2; do
  line=$(measure "native-$threads" target/release/nextevent score --quiet --threads "$threads" --out "$out/native-$threads.csv" "$csv"); IFS=, read -r name wall rss <<< "$line"
  n=$(count_csv "$out/native-$threads.csv")
  echo "| \`nextevent score --threads $threads\` | $wall | $(python3 -c "print(f'{$read_rows / $wall:,.0f}')") | $rss | $n |" >> "$report"
done
for cores in 1 2; do
  rm -rf "$out/spark-$cores.parquet"
  line=$(measure "spark-$cores" python3 -m nextevent.spark "$csv" --master "local[$cores]" --out "$out/spark-$cores.parquet"); IFS=, read -r name wall rss <<< "$line"
  n=$(count_parquet "$out/spark-$cores.parquet")
  echo "| \`python -m nextevent.spark --master 'local[$cores]'\` | $wall | $(python3 -c "print(f'{$read_rows / $wall:,.0f}')") | $rss | $n |" >> "$report"
done
cat "$report"
