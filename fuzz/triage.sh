#!/usr/bin/env bash
# Groups the crashes a model campaign kept by panic site, and shows the graph check guards them.
#   bash fuzz/triage.sh
# 1. Every input in fuzz/artifacts/model_graph_unchecked/ is replayed through model_graph built
#    with the graph check off: its panic site (file:line and message) is printed, one row per
#    site with the count and one example's mutation steps.
# 2. The same inputs go through the checked build: each must now be refused (exit 0, no panic).
# 3. The bad-model table (target/bad-models/, written by `cargo test --release --test
#    predictor`) is fed to model_load built with the check off: the cases that panic there are
#    the ones only the graph check stops.
# Exits non-zero if any input still panics with the check on.
set -euo pipefail
cd "$(dirname "$0")/.."
build() { cargo +nightly fuzz build --release --debug-assertions -s none "$@" >/dev/null 2>&1; }
bin=fuzz/target/x86_64-unknown-linux-gnu/release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shopt -s nullglob
crashes=(fuzz/artifacts/model_graph_unchecked/crash-*)
echo "== ${#crashes[@]} crash inputs of model_graph_unchecked, replayed with the check off"
build --features unchecked model_graph
cp "$bin/model_graph" "$tmp/unchecked"
for c in "${crashes[@]}"; do
  out=$(NEXTEVENT_FUZZ_DUMP="$tmp/model.onnx" "$tmp/unchecked" "$c" 2>&1 || true)
  site=$(grep -m1 -o 'panicked at [^ ]*' <<<"$out" | sed 's/panicked at //; s|.*/registry/src/[^/]*/||' || true)
  msg=$(grep -m1 -A1 'panicked at' <<<"$out" | tail -n1 || true)
  steps=$(grep -m1 '^base' <<<"$out" || true)
  printf '%s\t%s\t%s\t%s\n' "${site:-no panic}" "$msg" "$(basename "$c")" "$steps"
done | sort > "$tmp/sites"
cut -f1,2 "$tmp/sites" | sort | uniq -c | sort -rn
echo "-- one example per site:"
sort -u -t$'\t' -k1,1 "$tmp/sites" | cut -f1,3,4

echo "== the same inputs with the graph check on"
build model_graph
bad=0
for c in "${crashes[@]}"; do
  if ! "$bin/model_graph" "$c" >"$tmp/out" 2>&1; then
    bad=$((bad + 1))
    echo "STILL PANICS: $c"
    grep -m1 -A1 'panicked at' "$tmp/out" || true
  fi
done
echo "refused without a panic: $((${#crashes[@]} - bad)) of ${#crashes[@]}"

if [ -f target/bad-models/index.json ]; then
  echo "== the bad-model table through model_load with the check off"
  build --features unchecked model_load
  python3 - "$bin/model_load" <<'EOF'
import json, subprocess, sys
for case in json.load(open("target/bad-models/index.json")):
    r = subprocess.run([sys.argv[1], f"target/bad-models/{case['file']}"], capture_output=True, text=True)
    site = next((l.split("panicked at ")[1].split("/src/", 1)[-1] for l in r.stderr.splitlines() if "panicked at" in l), None)
    print(f"{case['name']:45} {'PANICS at ' + site if site else 'no panic'}")
EOF
  build model_load
fi
[ "$bad" = 0 ]
