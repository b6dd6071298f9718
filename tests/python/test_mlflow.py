"""nextevent as an MLflow model, against a real MLflow server: a model logged by
`nextevent-train` with its run and one logged from Python load through pyfunc, and
`mlflow models serve` answers `/invocations` with the churn list the native command writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, binary, free_port, native_score, wait_http
from test_package import assert_same_churn_list, kaggle_frame, read_native


@pytest.fixture(scope="module")
def trained_run(tracking: str, generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A tiny model trained by `nextevent-train` on generated rows (never on the real Jan–Feb
    months) and tracked to the server: (run id read from its report, the int8 ONNX)."""
    out = tmp_path_factory.mktemp("train")
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking)
    r = subprocess.run(
        [str(binary("nextevent-train")), "train", str(generated), "--epochs", "1", "--hidden", "8",
         "--conv-channels", "8", "--embed-dim", "4", "--windows-per-epoch", "2000", "--out-dir", str(out), "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    m = re.search(r"tracked in MLflow at .*?: run ([0-9a-f]{32}) \(", r.stderr)
    assert m, f"no run id in the trainer's report:\n{r.stderr[-4000:]}"
    return m.group(1), out / "nextevent.onnx"


def test_the_trainer_logs_a_pyfunc_model_with_its_run(tracking: str, trained_run: tuple[str, Path], sample: Path, tmp_path: Path) -> None:
    import mlflow.pyfunc

    run_id, onnx = trained_run
    mlflow.set_tracking_uri(tracking)
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    events = kaggle_frame(sample)
    got = model.predict(events)
    native = read_native(native_score([sample], "--model", str(onnx), out=tmp_path / "native.csv"))
    assert_same_churn_list(got, native)


def test_log_model_from_python_and_params(tracking: str, sample: Path, tmp_path: Path) -> None:
    import mlflow
    import mlflow.pyfunc

    import nextevent.mlflow

    mlflow.set_tracking_uri(tracking)
    mlflow.set_experiment("nextevent-python-tests")
    with mlflow.start_run():
        info = nextevent.mlflow.log_model()
    model = mlflow.pyfunc.load_model(info.model_uri)
    got = model.predict(kaggle_frame(sample), params={"per_user": True})
    native = read_native(native_score([sample], "--per-user", out=tmp_path / "native.csv"))
    assert_same_churn_list(got, native)


def test_mlflow_models_serve_answers_invocations(tracking: str, trained_run: tuple[str, Path], sample: Path, tmp_path: Path) -> None:
    run_id, onnx = trained_run
    port = free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"runs:/{run_id}/model", "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", proc, 180, log)
        events = kaggle_frame(sample)
        body = json.dumps({"dataframe_split": json.loads(events.to_json(orient="split", index=False))}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            answer = json.load(resp)
        got = pd.DataFrame(answer["predictions"])
        for c in ("p_view", "p_cart", "p_remove_from_cart", "p_purchase", "confidence", "conversion", "threshold"):
            got[c] = got[c].astype("float32")
        native = read_native(native_score([sample], "--model", str(onnx), out=tmp_path / "native.csv"))
        assert_same_churn_list(got, native)
        bad = events.head(5).copy()
        bad.loc[2, "price"] = -1.0
        body = json.dumps({"dataframe_split": json.loads(bad.to_json(orient="split", index=False))}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=60)
        assert e.value.code == 400, e.value.code
        assert "row 2: column `price`" in e.value.read().decode()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
