#!/usr/bin/env python3
"""Moves Trunk's inline boot script out of index.html into its own file, and recomputes the
integrity hashes of every file index.html links.

Trunk writes the wasm loader as an inline `<script type="module">` (trunk-rs/trunk#288), which
a Content-Security-Policy without 'unsafe-inline' refuses. Run from the post_build hook on
the staged build: the script becomes /boot-<hash>.js with a subresource-integrity hash, so
the demo runs under `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'`. The hook runs
wasm-opt on the staged wasm first (with .ci/wasm-opt-flags, as every wasm build here), so the
hashes Trunk wrote for it are stale: each `integrity` is rewritten from the file it names.
"""
import base64
import hashlib
import pathlib
import re
import sys

stage = pathlib.Path(sys.argv[1])
index = stage / "index.html"
html = index.read_text(encoding="utf-8")
m = re.search(r"<script type=\"module\">(.*?)</script>", html, re.S)
if not m:
    sys.exit(f"{index}: no inline module script to move (did Trunk change its output?)")
body = m.group(1).strip() + "\n"
data = body.encode()
name = f"boot-{hashlib.sha256(data).hexdigest()[:16]}.js"
(stage / name).write_bytes(data)
sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
tag = f'<script type="module" src="/{name}" integrity="{sri}" crossorigin="anonymous"></script>'
html = html[: m.start()] + tag + html[m.end():]
def rehash(m):
    tag = m.group(0)
    href = re.search(r'(?:href|src)="/([^"]+)"', tag)
    if not href or not (stage / href.group(1)).is_file():
        return tag
    digest = hashlib.sha384((stage / href.group(1)).read_bytes()).digest()
    return re.sub(r'integrity="[^"]*"', f'integrity="sha384-{base64.b64encode(digest).decode()}"', tag)


html = re.sub(r"<(?:link|script)\b[^>]*\bintegrity=\"[^\"]*\"[^>]*>", rehash, html)
if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
    sys.exit(f"{index}: an inline script is left")
index.write_text(html, encoding="utf-8")
print(f"boot script: {name} ({len(data)} bytes)")
