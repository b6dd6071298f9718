"""Python-side benchmarks, side by side in one run (writes the "Python" part of BENCHMARKS.md):

1. the GIL: `predict_batch` throughput of one Python thread against two on the same windows
   (the package releases the GIL while tract runs, so two threads should use both cores);
2. `mlflow models serve` under load on 127.0.0.1: a fixed number of POSTs to /invocations at
   concurrency 1, 8 and 32 (each request one session's events), throughput, p50, p99 and
   errors, beside the in-process `Predictor.score` time for the same request body.

    python3 perf/python_bench.py [--requests 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

import nextevent
import nextevent.mlflow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "cosmetics-sample.csv"


def windows() -> list[list[dict]]:
    """Every session of the real sample as event dicts (at most its last 16 events)."""
    df = pd.read_csv(SAMPLE, dtype={"user_session": "string", "brand": "string"})
    seqs = []
    for _, g in df.groupby("user_session", sort=False):
        seqs.append(
            [
                {"event_type": r.event_type, "event_time": r.event_time, "product_id": int(r.product_id),
                 "brand": None if pd.isna(r.brand) else r.brand, "price": float(r.price)}
                for r in g.tail(16).itertuples()
            ]
        )
    return seqs


def gil(seqs: list[list[dict]], rounds: int) -> dict:
    """Windows/s with one thread, then two threads each doing the same work."""
    p = nextevent.Predictor()
    batch = (seqs * (4096 // len(seqs) + 1))[:4096]
    p.predict_batch(batch)  # warm: the any-batch plan is optimized on first use

    def work() -> None:
        for _ in range(rounds):
            p.predict_batch(batch)

    t = time.perf_counter()
    work()
    one = rounds * len(batch) / (time.perf_counter() - t)
    ths = [threading.Thread(target=work) for _ in range(2)]
    t = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    two = 2 * rounds * len(batch) / (time.perf_counter() - t)
    return {"batch": len(batch), "one_thread": one, "two_threads": two, "ratio": two / one}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(requests: int, workers: int) -> dict:
    """Load test of `mlflow models serve` on a model logged to a throwaway file store."""
    tmp = Path(tempfile.mkdtemp(prefix="nextevent-serve-"))
    import mlflow

    tracking = f"sqlite:///{tmp}/mlflow.db"
    mlflow.set_tracking_uri(tracking)
    exp = mlflow.create_experiment("bench", artifact_location=f"file://{tmp}/artifacts")
    with mlflow.start_run(experiment_id=exp) as run:
        nextevent.mlflow.log_model()
    uri = f"runs:/{run.info.run_id}/model"
    port = free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking)
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local", "-h", "127.0.0.1",
         "-p", str(port), "-w", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(base + "/ping", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit(f"server did not start:\n{(tmp / 'serve.log').read_text()[-3000:]}")
                time.sleep(0.5)
        df = pd.read_csv(SAMPLE, dtype={"user_session": "string", "brand": "string", "category_code": "string"})
        # One request = one session's events (the sample's median session has a few events).
        bodies = []
        sessions = [g for _, g in df.groupby("user_session", sort=False)]
        for g in sessions[:200]:
            split = json.loads(g.to_json(orient="split", index=False))
            bodies.append(json.dumps({"dataframe_split": split}).encode())
        events_per_request = statistics.mean(len(g) for g in sessions[:200])
        p = nextevent.Predictor()
        t = time.perf_counter()
        for g in sessions[:200]:
            p.score(g)
        in_process_ms = (time.perf_counter() - t) / 200 * 1e3

        def post(i: int) -> tuple[float, bool]:
            req = urllib.request.Request(base + "/invocations", data=bodies[i % len(bodies)],
                                         headers={"Content-Type": "application/json"})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    ok = r.status == 200 and b"predictions" in r.read()
            except (urllib.error.URLError, OSError):
                ok = False
            return time.perf_counter() - t0, ok

        for i in range(20):  # warm every worker
            post(i)
        rows = []
        for conc in (1, 8, 32):
            t = time.perf_counter()
            with cf.ThreadPoolExecutor(conc) as ex:
                res = list(ex.map(post, range(requests)))
            wall = time.perf_counter() - t
            lat = sorted(r[0] * 1e3 for r in res)
            rows.append({
                "concurrency": conc, "requests": requests, "errors": sum(not r[1] for r in res),
                "req_per_s": requests / wall, "p50_ms": lat[len(lat) // 2],
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            })
        return {"workers": workers, "events_per_request": events_per_request, "in_process_ms": in_process_ms,
                "rows": rows}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    seqs = windows()
    g = gil(seqs, a.rounds)
    s = serve(a.requests, a.workers)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.machine())
    lines = [
        "## Python package and MLflow serving",
        "",
        f"`python3 perf/python_bench.py --requests {a.requests} --workers {a.workers}` on this machine "
        f"({os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, release wheel).",
        "",
        f"GIL: `predict_batch` of {g['batch']} real-sample windows, {a.rounds} calls per thread:",
        "",
        "| threads | windows/s | ratio |",
        "|---|---|---|",
        f"| 1 | {g['one_thread']:,.0f} | 1.00 |",
        f"| 2 | {g['two_threads']:,.0f} | {g['ratio']:.2f} |",
        "",
        f"`mlflow models serve --env-manager local -w {s['workers']}` on 127.0.0.1, the embedded model; each "
        f"request one real session ({s['events_per_request']:.1f} events on average, `dataframe_split` JSON); "
        f"{a.requests} requests per level after 20 warm-up requests:",
        "",
        "| concurrency | requests | errors | requests/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in s["rows"]:
        lines.append(f"| {r['concurrency']} | {r['requests']} | {r['errors']} | {r['req_per_s']:.1f} | "
                     f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    lines += [
        "",
        f"In process, `Predictor.score` on the same one-session tables takes {s['in_process_ms']:.2f} ms per "
        f"table; the serving overhead per request at concurrency 1 is therefore about "
        f"{s['rows'][0]['p50_ms'] - s['in_process_ms']:.1f} ms (HTTP, JSON parsing into a DataFrame, MLflow's "
        "schema handling, JSON out).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "target" / "bench-python.md"
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
