#!/usr/bin/env python3
"""Writes the example shop's catalogue (JSON) from the real sample: the 12 most-viewed branded
products with a price, at most 3 per brand. Run at build time by .ci/trunk-post-build; the data file
itself is never copied into the repository."""
import csv, json, os, sys
from collections import Counter

data = os.environ.get("NEXTEVENT_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
out = sys.argv[1]
seen, price, brand, cat = Counter(), {}, {}, {}
with open(os.path.join(data, "cosmetics-sample.csv"), newline="") as f:
    for r in csv.DictReader(f):
        try:
            p = float(r["price"])
        except ValueError:
            continue
        if not r["brand"] or p <= 0:
            continue
        pid = int(r["product_id"])
        seen[pid] += 1
        price[pid], brand[pid], cat[pid] = p, r["brand"], r["category_code"]
products, per_brand = [], Counter()
for pid, _ in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])):
    if per_brand[brand[pid]] == 3:
        continue
    per_brand[brand[pid]] += 1
    products.append({"product_id": pid, "brand": brand[pid], "price": price[pid], "category_code": cat[pid] or None})
    if len(products) == 12:
        break
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as f:
    json.dump(products, f, indent=1)
print(f"shop catalogue: {len(products)} products -> {out}")
