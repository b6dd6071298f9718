"""Reads fuzz/logs/<target>.log (libFuzzer -print_final_stats) and writes docs/FUZZING.md."""
import datetime, os, platform, re, subprocess, sys

secs, sanitizer, targets = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
rows, total = [], 0
for t in targets:
    log = open(f"fuzz/logs/{t}.log", errors="replace").read()
    rc = open(f"fuzz/logs/{t}.rc").read().strip()
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    execs = int(execs[-1]) if execs else 0
    peak = re.findall(r"stat::peak_rss_mb:\s*(\d+)", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    corpus = re.findall(r"corp: (\d+)/", log)
    crash = "crash" if ("SUMMARY:" in log or "panicked" in log or rc != "0") else "none"
    secs_run = re.findall(r"Done \d+ runs in (\d+) second", log)
    secs_t = int(secs_run[-1]) if secs_run else secs
    total += execs
    rows.append((t, execs, execs / max(secs_t, 1), cov[-1][0] if cov else "?", corpus[-1] if corpus else "?",
                 peak[-1] if peak else "?", crash))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rustc = subprocess.run(["rustc", "+nightly", "--version"], capture_output=True, text=True).stdout.strip()
lines = [
    "# Fuzzing",
    "",
    "libFuzzer through cargo-fuzz, native, release build with debug assertions (overflow checks",
    f"included), sanitizer: {sanitizer}. Inputs up to 8 KiB. Targets live in `fuzz/fuzz_targets/`;",
    "seed corpora are built from `../shared/data/` at run time. Rerun with:",
    "",
    "```sh",
    "rustup toolchain install nightly && cargo install cargo-fuzz   # once",
    f"bash fuzz/run.sh {secs}   # seconds per target; writes this file",
    "```",
    "",
    f"Last run: {datetime.date.today()}, {secs} s per target, one core each, on {cpu}",
    f"({os.cpu_count()} cores), {rustc}.",
    "",
    "| target | what it feeds | executions | per second | coverage (edges) | corpus | peak RSS MB | crashes |",
    "|---|---|---:|---:|---:|---:|---:|---|",
]
what = {
    "csv_rows": "Kaggle CSV text → row parser; accepted + rejected = records",
    "json_events": "JSON text → events (the JS API's parser)",
    "encoder": "fuzzer-built events (any time, price bits, brand) → encoder",
    "predictor": "CSV or fuzzer-built sequences (0–1,100 events) → predictor",
    "model_load": "mutated ONNX bytes → protobuf, metadata, spec check, tract",
}
for t, e, r, c, k, m, x in rows:
    lines.append(f"| `{t}` | {what.get(t, '')} | {e:,} | {r:,.0f} | {c} | {k} | {m} | {x} |")
lines += ["", f"Total: **{total:,} executions**, "
          + ("no crash." if all(r[-1] == "none" for r in rows) else "CRASHES — see fuzz/artifacts/."), ""]
# The generated part sits between markers; the findings below it are kept as written.
text = "\n".join(lines[2:]).strip()
doc = open("docs/FUZZING.md").read() if os.path.exists("docs/FUZZING.md") else "# Fuzzing\n\n<!-- fuzz:start -->\n<!-- fuzz:end -->\n"
if "<!-- fuzz:start -->" not in doc:
    doc = "# Fuzzing\n\n<!-- fuzz:start -->\n<!-- fuzz:end -->\n"
doc = re.sub(r"<!-- fuzz:start -->.*<!-- fuzz:end -->", lambda _: f"<!-- fuzz:start -->\n{text}\n<!-- fuzz:end -->", doc, flags=re.S)
open("docs/FUZZING.md", "w").write(doc)
print("\n".join(lines))
