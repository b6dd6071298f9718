"""Reads fuzz/logs/<target>.log (libFuzzer -print_final_stats) and writes docs/FUZZING.md."""
import datetime, os, platform, re, subprocess, sys

secs, sanitizer, targets = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
rows, total, reach = [], 0, {}
targets = [t for t in targets if os.path.exists(f"fuzz/logs/{t}.log")]
for t in targets:
    log = open(f"fuzz/logs/{t}.log", errors="replace").read()
    stats = re.findall(r"model_graph stats: runs (\d+), loaded by tract (\d+), predicted (\d+)", log)
    if stats:
        reach[t] = tuple(int(x) for x in stats[-1])
    # Fork mode (FUZZ_FORK=1): each job is a process that appended `pid runs loaded ran` lines.
    if os.path.exists(f"fuzz/logs/{t}.stats"):
        last = {}
        for line in open(f"fuzz/logs/{t}.stats"):
            pid, *counts = line.split()
            last[pid] = tuple(int(x) for x in counts)
        if last:
            reach[t] = tuple(sum(c[i] for c in last.values()) for i in range(3))
    rc = open(f"fuzz/logs/{t}.rc").read().strip()
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    fork = re.findall(r"^#(\d+): cov: .* oom/timeout/crash: (\d+)/(\d+)/(\d+)", log, flags=re.M)
    kept = 0
    if fork and not execs:
        execs = [fork[-1][0]]
        kept = sum(int(x) for x in fork[-1][1:])
    execs = int(execs[-1]) if execs else 0
    peak = re.findall(r"stat::peak_rss_mb:\s*(\d+)", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    corpus = re.findall(r"corp: (\d+)", log)
    if fork:
        crash = f"{kept} kept (fork mode: went on past them)" if kept else "none"
    else:
        crash = "crash" if ("SUMMARY:" in log or "panicked" in log or rc != "0") else "none"
    secs_run = re.findall(r"Done \d+ runs in (\d+) second", log) or re.findall(r"^INFO: exiting: \d+ time: (\d+)s", log, flags=re.M)
    secs_t = int(secs_run[-1]) if secs_run else secs
    total += execs
    rows.append((t, execs, execs / max(secs_t, 1), cov[-1][0] if cov else "?", corpus[-1] if corpus else "?",
                 peak[-1] if peak else "—", crash, secs_t))
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
    "bash fuzz/run.sh 150 csv_rows json_events encoder predictor   # seconds per target",
    "bash fuzz/run.sh 1100 model_load model_graph   # writes this file",
    "FUZZ_FORK=1 bash fuzz/run.sh 1200 model_graph_unchecked   # on past crashes; then:",
    "bash fuzz/triage.sh   # groups the kept crashes by panic site, checks the graph check refuses them",
    "```",
    "",
    f"Last run: {datetime.date.today()}, the seconds per target in the table, one core each, on {cpu}",
    f"({os.cpu_count()} cores), {rustc}.",
    "",
    "| target | what it feeds | seconds | executions | per second | coverage (edges) | corpus | peak RSS MB | crashes |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
]
what = {
    "csv_rows": "Kaggle CSV text → row parser; accepted + rejected = records",
    "json_events": "JSON text → events (the JS API's parser)",
    "encoder": "fuzzer-built events (any time, price bits, brand) → encoder",
    "predictor": "CSV or fuzzer-built sequences (0–1,100 events) → predictor",
    "model_load": "mutated ONNX bytes → protobuf, metadata, spec check, tract",
    "model_graph": "graph mutations of decoded exports → spec and graph checks, tract",
    "model_graph_unchecked": "the same mutations with the graph check off → tract itself",
}
for t, e, r, c, k, m, x, sec in rows:
    lines.append(f"| `{t}` | {what.get(t, '')} | {sec:,} | {e:,} | {r:,.0f} | {c} | {k} | {m} | {x} |")
for t, (runs, loaded, ran) in reach.items():
    lines.append(f"\n`{t}` (its own counters, over every process of the run): {loaded:,} of {runs:,} "
                 f"mutated models ({100 * loaded / max(runs, 1):.1f} %) loaded through tract's optimisation; "
                 f"{ran:,} predictions ran.")
models = sum(r[1] for r in rows if r[0].startswith("model_"))
lines += ["", f"Model targets: **{models:,} executions**."]
lines += ["", f"Total: **{total:,} executions**, "
          + ("no crash." if all(r[6] == "none" for r in rows)
             else "no crash with the graph check on; the unchecked target's kept crashes are tract's (see the findings)."
             if all(r[6] == "none" or r[0] == "model_graph_unchecked" for r in rows)
             else "CRASHES — see fuzz/artifacts/."), ""]
# The generated part sits between markers; the findings below it are kept as written.
text = "\n".join(lines[2:]).strip()
doc = open("docs/FUZZING.md").read() if os.path.exists("docs/FUZZING.md") else "# Fuzzing\n\n<!-- fuzz:start -->\n<!-- fuzz:end -->\n"
if "<!-- fuzz:start -->" not in doc:
    doc = "# Fuzzing\n\n<!-- fuzz:start -->\n<!-- fuzz:end -->\n"
doc = re.sub(r"<!-- fuzz:start -->.*<!-- fuzz:end -->", lambda _: f"<!-- fuzz:start -->\n{text}\n<!-- fuzz:end -->", doc, flags=re.S)
open("docs/FUZZING.md", "w").write(doc)
print("\n".join(lines))
