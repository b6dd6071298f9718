#!/usr/bin/env bash
# Page-weight steps: builds the embed package under variants of the release profile, wasm-opt
# level and wasm SIMD, and records each one's wasm size (raw / gzip / brotli) into
# target/size-steps/<variant>/; `node perf/run.mjs --pkg /target/size-steps/<variant>/ --quick`
# then measures its speed. `node perf/steps.mjs` puts both in BENCHMARKS.md.
#   bash perf/size-steps.sh [variant...]
# The first variant compiles every crate (~15 min on 2 cores); variants that change only
# wasm-opt reuse that build; a profile or SIMD variant rebuilds every crate (~10 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR=$PWD/target/size-steps-build
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(shipped no-wasm-opt wasm-opt-O3 opt-3 no-simd)
for v in "${variants[@]}"; do
  (
    opt=z lto=fat cgu=1 wopt=-Oz simd=1 extra=()
    case $v in
      shipped) ;;
      no-wasm-opt) wopt= ;;
      wasm-opt-O3) wopt=-O3 ;;
      opt-s) opt='"s"' ;;
      opt-3) opt=3 ;;
      no-simd) simd=0 ;;
      no-lto) lto=false cgu=16 ;;
      tract-3)  # only the crates that run the model at opt-level 3
        for c in tract-core tract-linalg tract-data; do
          extra+=(--config "profile.wasm-release.package.$c.opt-level=3")
        done ;;
      *) echo "unknown variant $v"; exit 2 ;;
    esac
    [ "$opt" = z ] && opt='"z"'
    export CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=${opt//\"/}
    export CARGO_PROFILE_WASM_RELEASE_LTO=$lto
    export CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=$cgu
    if [ $simd = 0 ]; then
      export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Ctarget-feature=-simd128"
    fi
    out=target/size-steps/$v
    rm -rf "$out"; mkdir -p "$out"
    echo "==> $v (opt-level $CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL, lto $lto, codegen-units $cgu, wasm-opt ${wopt:-off}, simd128 $simd)"
    cargo "${extra[@]}" rustc --lib --crate-type cdylib --target wasm32-unknown-unknown \
      --profile wasm-release --features embed --quiet
    wasm-bindgen --target web --out-dir "$out" --out-name nextevent \
      "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/nextevent.wasm"
    if [ -n "$wopt" ]; then
      # shellcheck disable=SC2046 # one flag per word
      wasm-opt "$wopt" $(cat .ci/wasm-opt-flags) "$out/nextevent_bg.wasm" -o "$out/nextevent_bg.wasm"
    fi
    [ "$v" = tract-3 ] && CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL="z; 3 for tract-core, -linalg, -data"
    printf '{"variant":"%s","opt_level":"%s","lto":"%s","codegen_units":%s,"wasm_opt":"%s","simd128":%s}\n' \
      "$v" "$CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL" "$lto" "$cgu" "${wopt:-off}" "$simd" > "$out/variant.json"
  )
done
