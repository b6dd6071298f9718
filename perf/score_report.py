"""Writes BENCHMARKS.md's `score` part from perf/score.sh's outputs (target/score-bench/,
target/bench-score/)."""
import datetime, json, os, pathlib, re, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
sizes = [int(s) for s in sys.argv[1:]]
ours = json.loads((root / "target/score-bench/ours.json").read_text())
ort = json.loads((root / "target/score-bench/ort.json").read_text())
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")


def timing(path):
    t = pathlib.Path(path).read_text()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss, t


lines = [
    f"Measured {datetime.date.today()} on {cpu} ({os.cpu_count()} cores), one run after the other. "
    f"Commands: `bash perf/score.sh` (`cargo bench --bench score --features data`, `python3 perf/score_ort.py`, "
    f"`/usr/bin/time -v nextevent score`). onnxruntime {ort['onnxruntime']} (CPU, graph optimisation all, "
    f"intra = inter-op threads = ours), {ours['windows']} windows of the real sample, the shipped int8 model.",
    "",
    "| prediction stage | nextevent (tract) windows/s | onnxruntime windows/s | ratio |",
    "|---|---:|---:|---:|",
]
for k, label in [("batch1_threads1", "batch 1, 1 thread"), ("batch1_threads2", "batch 1, 2 threads"),
                 ("batch256_threads1", "batch 256, 1 thread"), ("batch256_threads2", "batch 256, 2 threads")]:
    lines.append(f"| {label} | {ours[k]:,.0f} | {ort[k]:,.0f} | {ours[k] / ort[k]:.2f}× |")
lines += ["", "| end to end (.csv.gz → churn list) | rows | wall s | rows/s | peak RSS MB | `ingest` peak RSS MB (holds every event) | churn-list rows |",
          "|---|---:|---:|---:|---:|---:|---:|"]
for rows in sizes:
    s, rss, t = timing(root / f"target/bench-score/score-{rows}.time")
    _, irss, _ = timing(root / f"target/bench-score/ingest-{rows}.time")
    n = sum(1 for _ in open(root / f"target/bench-score/churn-{rows}.csv")) - 1
    read = re.search(r"rows read\s+(\d+)", t)
    read = int(read.group(1)) if read else rows
    lines.append(f"| `nextevent score` | {read:,} | {s:.1f} | {read / s:,.0f} | {rss:,.0f} | {irss:,.0f} | {n:,} |")
md = root / "BENCHMARKS.md"
text = md.read_text()
block = "<!-- score:start -->\n" + "\n".join(lines) + "\n<!-- score:end -->"
if "<!-- score:start -->" in text:
    text = re.sub(r"<!-- score:start -->.*<!-- score:end -->", lambda _: block, text, flags=re.S)
else:
    text += "\n## 6. Scoring an export: the churn list (`nextevent score`)\n\n" + block + "\n"
md.write_text(text)
print("\n".join(lines))
