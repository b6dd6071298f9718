#!/usr/bin/env bash
# Runs every fuzz target for a set time and records the figures in docs/FUZZING.md.
#   bash fuzz/run.sh [seconds per target, default 300] [targets...]
# FUZZ_SANITIZER=address runs under AddressSanitizer (about 3× slower; the crate and its
# dependencies' unsafe code are then checked too); the default is none, for throughput.
# FUZZ_FORK=1 runs in libFuzzer's fork mode with -ignore_crashes=1: the campaign goes on past a
# crash and keeps every crashing input (for the unchecked model target, where tract's own panics
# are expected); `bash fuzz/triage.sh` then groups them by panic site.
# Needs a nightly toolchain (`rustup toolchain install nightly`) and `cargo install cargo-fuzz`.
# Seed corpora are made from ../shared/data at run time (never committed). A crash leaves its
# input in fuzz/artifacts/<target>/; turn it into a regression test in tests/ and fix it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift || true
targets=("$@")
sanitizer=${FUZZ_SANITIZER:-none}
# model_graph_unchecked is model_graph built with --features unchecked (no graph check).
all=(csv_rows json_events encoder predictor model_load model_graph model_graph_unchecked)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
data=../shared/data
mkdir -p fuzz/logs
python3 fuzz/seeds.py "$data" fuzz/corpus
for t in "${targets[@]}"; do
  bin=$t features=()
  if [ "$t" = model_graph_unchecked ]; then bin=model_graph features=(--features unchecked); fi
  # Built right before its run: the two model_graph builds share one binary name.
  cargo +nightly fuzz build --release --debug-assertions -s "$sanitizer" "${features[@]}" "$bin"
  echo "==> $t for $secs s"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  fork=()
  if [ "${FUZZ_FORK:-0}" = 1 ]; then fork=(-fork=1 -ignore_crashes=1); fi
  rm -f "fuzz/logs/$t.stats"
  set +e
  NEXTEVENT_FUZZ_STATS="$PWD/fuzz/logs/$t.stats" cargo +nightly fuzz run --release --debug-assertions -s "$sanitizer" "${features[@]}" "$bin" \
    "fuzz/corpus/$t" -- -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=4096 -max_len=8192 "${fork[@]}" \
    > "fuzz/logs/$t.log" 2>&1
  rc=$?
  set -e
  tail -n 12 "fuzz/logs/$t.log"
  echo "$rc" > "fuzz/logs/$t.rc"
done
# The report covers every target with a log, so running one target updates its row only.
python3 fuzz/report.py "$secs" "$sanitizer" "${all[@]}"
