"""Where the wasm's bytes go, by crate (a twiggy-like breakdown): reads the function bodies'
sizes from the code section and their names from the name section of an embed build made
without wasm-opt (which strips names), demangles the Rust symbols and sums by crate.
    bash perf/size-steps.sh no-wasm-opt && python3 perf/wasm_crates.py [path] [--write]"""
import collections, re, sys

path = next((a for a in sys.argv[1:] if not a.startswith("--")), "target/size-steps/no-wasm-opt/nextevent_bg.wasm")
b = open(path, "rb").read()

def leb(i):
    r = s = 0
    while True:
        x = b[i]; i += 1; r |= (x & 0x7F) << s; s += 7
        if x < 0x80:
            return r, i

sections, i = {}, 8
imports_funcs = 0
while i < len(b):
    sid = b[i]; n, j = leb(i + 1)
    if sid == 0:
        l, k = leb(j); sections[b[k:k + l].decode()] = (k + l, j + n)
    else:
        sections[sid] = (j, j + n)
    i = j + n
# imported functions come first in the function index space
if 2 in sections:
    p, end = sections[2]; cnt, p = leb(p)
    for _ in range(cnt):
        l, p = leb(p); p += l
        l, p = leb(p); p += l
        kind = b[p]; p += 1
        if kind == 0:
            _, p = leb(p); imports_funcs += 1
        elif kind == 1:
            p += 1; flags = b[p]; p += 1; _, p = leb(p)
            if flags & 1: _, p = leb(p)
        elif kind == 2:
            flags = b[p]; p += 1; _, p = leb(p)
            if flags & 1: _, p = leb(p)
        elif kind == 3:
            p += 2
        else:
            _, p = leb(p)
sizes = []
p, end = sections[10]; cnt, p = leb(p)
for _ in range(cnt):
    l, q = leb(p); sizes.append(q + l - p); p = q + l
names = {}
p, end = sections["name"]
while p < end:
    sub = b[p]; n, q = leb(p + 1)
    if sub == 1:
        c, r = leb(q)
        for _ in range(c):
            idx, r = leb(r); l, r = leb(r); names[idx] = b[r:r + l].decode("utf-8", "replace"); r += l
    p = q + n

def crate(sym):
    m = re.match(r"_ZN(\d+)", sym)
    if m:
        n = int(m.group(1)); c = sym[3 + len(m.group(1)):3 + len(m.group(1)) + n]
    elif sym.startswith("_R"):
        m = re.search(r"C[s\d_]*?(\d+)([A-Za-z_][A-Za-z0-9_]*)", sym)
        c = m.group(2)[: int(m.group(1))] if m else "?"
    else:
        c = sym.split("::")[0].lstrip("<&* ") if "::" in sym else "(other: " + ("wasm-bindgen glue" if "wbg" in sym or "wasm_bindgen" in sym else "C / compiler") + ")"
    c = re.sub(r"^_?<?", "", c)
    if c.startswith(("_$LT$", "$LT$")):
        m = re.search(r"\d+([a-z_][a-z0-9_]*)", c[4:]); c = m.group(1) if m else c
    return c

by = collections.Counter()
for k, s in enumerate(sizes):
    by[crate(names.get(imports_funcs + k, "?"))] += s
total = sum(sizes)
data = sections[11][1] - sections[11][0] if 11 in sections else 0
rows = by.most_common(15)
lines = [f"Code bytes by crate in `{path}` (no wasm-opt; function bodies {total:,} B, data segments {data:,} B, names {sections['name'][1] - sections['name'][0]:,} B). Command: `python3 perf/wasm_crates.py`.", "",
         "| crate | code bytes | share |", "|---|---:|---:|"]
lines += [f"| `{c}` | {s:,} | {s / total * 100:.1f} % |" for c, s in rows]
rest = total - sum(s for _, s in rows)
lines.append(f"| everything else ({len(by) - len(rows)} crates) | {rest:,} | {rest / total * 100:.1f} % |")
text = "\n".join(lines)
print(text)
if "--write" in sys.argv:
    doc = open("BENCHMARKS.md").read()
    if "<!-- crates:start -->" not in doc:
        doc = doc.replace("<!-- steps:end -->", "<!-- steps:end -->\n\n### Where the bytes go\n\n<!-- crates:start -->\n<!-- crates:end -->")
    doc = re.sub(r"<!-- crates:start -->.*<!-- crates:end -->", lambda _: f"<!-- crates:start -->\n{text}\n<!-- crates:end -->", doc, flags=re.S)
    open("BENCHMARKS.md", "w").write(doc)
