#!/usr/bin/env bash
# Page-load figures (BENCHMARKS.md §9): installs Lighthouse 12.2.3 from npm into
# target/lighthouse/ if missing (kept out of package.json: CI does not need it), then runs
# perf/pageload.mjs on the given builds, e.g.
#   bash perf/pageload.sh                          # dist/ (run `trunk build` first)
#   bash perf/pageload.sh before=/tmp/old-dist after=dist --runs 7
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
lh=target/lighthouse
if [ ! -f "$lh/node_modules/lighthouse/core/index.js" ]; then
  mkdir -p "$lh"
  (cd "$lh" && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm i -E --no-audit --no-fund lighthouse@12.2.3)
fi
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
[ -f dist/shop/products.json ] || { echo "dist/ has no build: run \`trunk build\` first" >&2; exit 2; }
exec node perf/pageload.mjs "$@"
