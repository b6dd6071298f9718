"""Builds the fuzz seed corpora from the real rows in ../shared/data (run by fuzz/run.sh).

csv_rows and predictor get chunks of the real Kaggle sample (the predictor's first byte picks
CSV mode); json_events gets the same sessions as JSON arrays; model_load gets the shipped
model; encoder starts from the CSV chunks as raw bytes."""
import csv, io, json, os, sys

data, out = sys.argv[1], sys.argv[2]
with open(os.path.join(data, "cosmetics-sample.csv"), newline="") as f:
    text = f.read()
lines = text.splitlines()
header, rows = lines[0], lines[1:]
chunks = [rows[i:i + 24] for i in range(0, len(rows), 24)][:120]
# Seeds are (re)written; what earlier runs added to the corpus stays.
for t in ["csv_rows", "json_events", "encoder", "predictor", "model_load", "model_graph", "model_graph_unchecked"]:
    os.makedirs(os.path.join(out, t), exist_ok=True)
def put(t, name, data):
    with open(os.path.join(out, t, name), "wb") as f:
        f.write(data)
for i, ch in enumerate(chunks):
    body = "\n".join([header] + ch) + "\n"
    put("csv_rows", f"sample-{i:03}.csv", body.encode())
    put("predictor", f"sample-{i:03}", b"\x00" + body.encode())
    put("encoder", f"sample-{i:03}", body.encode())
    events = []
    for r in csv.DictReader(io.StringIO(body)):
        e = {"event_time": r["event_time"], "event_type": r["event_type"],
             "product_id": int(r["product_id"]), "price": float(r["price"])}
        if r["brand"]:
            e["brand"] = r["brand"]
        events.append(e)
    events.sort(key=lambda e: e["event_time"])
    put("json_events", f"sample-{i:03}.json", json.dumps(events).encode())
with open("models/nextevent.onnx", "rb") as f:
    put("model_load", "nextevent.onnx", f.read())
# model_graph reads a mutation program: no program (the base as exported) and a few bytes.
for t in ["model_graph", "model_graph_unchecked"]:
    put(t, "as-exported", b"")
    put(t, "fp32-base", b"\x01")
print(f"seeds: {len(chunks)} chunks of the real sample per text target, 1 model, 2 graph programs")
