"""Reads criterion's terminal output (perf/native.sh) and writes BENCHMARKS.md's native part."""
import datetime, os, re, subprocess, sys

UNIT = {"ps": 1e-12, "ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
TUNIT = {"elem/s": 1, "Kelem/s": 1e3, "Melem/s": 1e6, "Gelem/s": 1e9}

SKIP = ("Benchmarking", "Found", "Gnuplot", "Warning", "Running", "Compiling", "Finished", "warning")

def parse(path):
    """Rows of (benchmark name, median time, median throughput). A name starts a line,
    alone or followed by its `time:`; indented lines carry `time:`/`thrpt:` (change lines,
    with three percentages instead of three values, do not match)."""
    rows, name = [], None
    for line in open(path, errors="replace"):
        if line[:1].strip() and not line.startswith(SKIP):
            name = line.partition("time:")[0].strip() or name
        m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        if m and name:
            rows.append({"name": name, "time": float(m.group(1)) * UNIT[m.group(2)]})
        m = re.search(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        if m and rows:
            rows[-1]["thrpt"] = float(m.group(1)) * TUNIT[m.group(2)]
    return rows

pred, train = parse(sys.argv[1]), parse(sys.argv[2])
fmt_t = lambda s: f"{s * 1e6:,.1f} µs" if s < 1e-3 else f"{s * 1e3:,.2f} ms" if s < 1 else f"{s:,.2f} s"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
lines = [f"Measured {datetime.date.today()} on {cpu} ({os.cpu_count()} cores), {rustc}, release profile. Command: `bash perf/native.sh` (criterion 0.8; median of its samples).", "",
         "| predictor (native tract, shipped model) | time per call | windows per second |", "|---|---:|---:|"]
for r in pred:
    lines.append(f"| {r['name']} | {fmt_t(r['time'])} | {format(r['thrpt'], ',.0f') if 'thrpt' in r else '–'} |")
lines += ["", "| training loop, batch 256 (forward, backward, AdamW; 2,048 real-sample windows per iteration) | time per 2,048 windows | windows (sequences) per second |", "|---|---:|---:|"]
for r in train:
    lines.append(f"| {r['name']} | {fmt_t(r['time'])} | {r.get('thrpt', 0):,.0f} |")
text = "\n".join(lines)
print(text)
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"<!-- native:start -->.*<!-- native:end -->", lambda _: f"<!-- native:start -->\n{text}\n<!-- native:end -->", doc, flags=re.S)
open("BENCHMARKS.md", "w").write(doc)
