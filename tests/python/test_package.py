"""The Python package: the same predictions as native and the browser (the parity golden
file), the same churn list as `nextevent score`, typed errors naming what was wrong, refused
model files (including those that make tract panic), and the GIL released while predicting."""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import nextevent
from nextevent import NextEventError, Predictor

from conftest import ROOT, native_score

GOLDEN = json.loads((ROOT / "tests" / "golden" / "parity.json").read_text())
OUTLOOK_KEYS = {
    "probabilities",
    "next",
    "confidence",
    "conversion",
    "stage",
    "churnRisk",
    "threshold",
    "riskBasis",
    "favouriteBrand",
}


def ev(kind: str = "view", t: object = "2020-01-01T10:00:00Z", **kw: object) -> dict:
    e = {"event_type": kind, "event_time": t, "product_id": 5802432, "brand": "runail", "price": 4.05}
    e.update(kw)
    return e


def test_predictions_equal_the_native_golden_file() -> None:
    p = Predictor()
    for case in GOLDEN["cases"]:
        o = p.predict(case["events"])
        got = [o["probabilities"][k] for k in ("view", "cart", "remove_from_cart", "purchase")]
        assert np.allclose(got, case["probabilities"], atol=1e-6), case["name"]
        assert set(o) == OUTLOOK_KEYS
        assert o["next"] == ["view", "cart", "remove_from_cart", "purchase"][int(np.argmax(got))]
    batch = p.predict_batch([c["events"] for c in GOLDEN["cases"]])
    for o, case in zip(batch, GOLDEN["cases"]):
        got = [o["probabilities"][k] for k in ("view", "cart", "remove_from_cart", "purchase")]
        assert np.allclose(got, case["probabilities"], atol=1e-6), case["name"]


def test_event_times_numpy_scalars_and_datetimes_are_read_like_js() -> None:
    p = Predictor()
    base = p.predict([ev("view"), ev("cart", "2020-01-01T10:00:20Z")])
    same = p.predict(
        [
            ev("view", dt.datetime(2020, 1, 1, 10, tzinfo=dt.timezone.utc), product_id=np.int64(5802432)),
            ev("cart", 1577872820000, price=np.float32(4.05)),
        ]
    )
    assert base["probabilities"] == pytest.approx(same["probabilities"], abs=1e-6)
    assert base["stage"] == same["stage"] == "cart"
    assert p.info["name"].startswith("nextevent")
    assert p.has_conversion and isinstance(base["conversion"], float)
    assert Predictor(threshold=1.0).predict([ev()])["churnRisk"] is True


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("view", "events must be a list of event dicts, got str"),
        ([], "empty sequence"),
        ([ev()] * 1001, "sequence of 1001 events exceeds the limit of 1000"),
        (["view"], "event 0: field `event`: expected a dict, got str"),
        ([ev(price=float("nan"))], "event 0: field `price`: NaN is not a finite number"),
        ([ev(price=-1.0)], "event 0: field `price`"),
        ([ev(), ev("checkout")], "event 1: field `event_type`: unknown event type \"checkout\""),
        ([ev(t=dt.datetime(2020, 1, 1))], "event 0: field `event_time`: a naive datetime"),
        ([ev(product_id=1.5)], "event 0: field `product_id`: 1.5 is not a whole non-negative number"),
        ([ev(product_id=None)], "event 0: field `product_id`: is null"),
        ([{k: v for k, v in ev().items() if k != "price"}], "event 0: field `price`: missing"),
        ([ev(brand=["a"])], "event 0: field `brand`: unsupported type list"),
        ([ev("view", "2020-01-01T10:00:20Z"), ev("cart", "2020-01-01T10:00:00Z")], "event 1: field `event_time`"),
    ],
)
def test_bad_events_raise_nexteventerror_naming_the_field(events: object, message: str) -> None:
    with pytest.raises(NextEventError) as e:
        Predictor().predict(events)  # type: ignore[arg-type]
    assert message in str(e.value), str(e.value)
    assert isinstance(e.value, ValueError)


def test_batch_errors_name_the_sequence() -> None:
    with pytest.raises(NextEventError, match=r"sequence 1: event 0: field `price`"):
        Predictor().predict_batch([[ev()], [ev(price="x")]])
    with pytest.raises(NextEventError, match="threshold must be a number from 0 to 1"):
        Predictor(threshold=2.0)


def kaggle_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"user_session": "string", "brand": "string", "category_code": "string"})


def read_native(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"user_session": "string", "favourite_brand": "string"}, keep_default_na=False)


def assert_same_churn_list(py: pd.DataFrame, native: pd.DataFrame) -> None:
    assert list(py.columns) == nextevent.churn_columns() == list(native.columns)
    assert len(py) == len(native) > 0
    for c in py.columns:
        a, b = py[c].to_numpy(), native[c].to_numpy()
        if py[c].dtype == np.float32 or str(py[c].dtype) == "float32":
            # Same f32 values: the CLI prints the shortest text that reads back to the f32.
            na = pd.to_numeric(native[c].replace("", np.nan)).to_numpy(dtype=np.float32)
            assert np.array_equal(a.astype(np.float32), na, equal_nan=True), c
        elif c in ("churn_risk", "open"):
            assert [bool(x) for x in a] == [str(x).lower() == "true" for x in b], c
        else:
            assert [str(x) for x in a] == [str(x) for x in b], c


@pytest.mark.parametrize("args", [[], ["--per-user"], ["--open-only"], ["--at", "2019-12-01 00:20:00 UTC"]])
def test_score_equals_the_native_command_on_the_real_sample(sample: Path, tmp_path: Path, args: list[str]) -> None:
    native = read_native(native_score([sample], *args, out=tmp_path / "native.csv"))
    kw = {"per_user": "--per-user" in args, "open_only": "--open-only" in args}
    if "--at" in args:
        kw["at"] = args[args.index("--at") + 1]
    df = Predictor().score(kaggle_frame(sample), **kw)
    assert_same_churn_list(df, native)
    s = df.attrs["nextevent"]
    assert s["accepted"] + s["duplicates"] + s["rejected"] == s["rows_read"]
    assert s["duplicates"] > 0, "the sample has exact duplicate rows, dropped and counted"
    # A pyarrow Table in, a pyarrow Table out, with the Parquet output's types.
    t = Predictor().score(pacsv.read_csv(sample), **kw)
    assert isinstance(t, pa.Table) and t.schema.field("user_id").type == pa.uint64()
    assert_same_churn_list(t.to_pandas(), native)
    assert json.loads(t.schema.metadata[b"nextevent"]) == s


def test_score_equals_the_native_command_on_generated_data(generated: Path, tmp_path: Path) -> None:
    native = read_native(native_score([generated], out=tmp_path / "native.csv"))
    assert_same_churn_list(Predictor().score(kaggle_frame(generated)), native)


def test_score_accepts_aware_timestamps_and_refuses_bad_tables(sample: Path) -> None:
    df = kaggle_frame(sample).head(200)
    base = Predictor().score(df)
    ts = df.assign(event_time=pd.to_datetime(df["event_time"].str.replace(" UTC", ""), utc=True))
    pd.testing.assert_frame_equal(Predictor().score(ts), base, check_like=False)
    cases = [
        (df.drop(columns=["user_session"]), "table lacks required column `user_session`"),
        (df.assign(product_id=df["product_id"].astype(float)), "column `product_id` has type double"),
        (ts.assign(event_time=ts["event_time"].dt.tz_localize(None)), "timestamps without a time zone"),
    ]
    for bad, msg in cases:
        with pytest.raises(NextEventError, match=msg):
            Predictor().score(bad)
    broken = df.copy()
    broken.loc[3, "price"] = -2.0
    broken.loc[7, "event_type"] = "checkout"
    with pytest.raises(NextEventError) as e:
        Predictor().score(broken)
    assert str(e.value).startswith("row 3: column `price`:"), str(e.value)
    assert "(2 rows rejected in all; the first is shown)" in str(e.value)
    with pytest.raises(TypeError, match="pandas DataFrame or a pyarrow Table, got builtins.list"):
        Predictor().score([1, 2])


def test_model_files_are_checked_and_panics_become_nexteventerror(tmp_path: Path) -> None:
    model = ROOT / "models" / "nextevent.onnx"
    a = Predictor.from_onnx(model).predict([ev()])
    b = Predictor.from_onnx(model.read_bytes()).predict([ev()])
    assert a == b == Predictor().predict([ev()])
    with pytest.raises(NextEventError, match="missing.onnx: No such file"):
        Predictor.from_onnx(tmp_path / "missing.onnx")
    with pytest.raises(TypeError, match="path .* or bytes, got int"):
        Predictor.from_onnx(3)  # type: ignore[arg-type]
    # The shared bad-model table (tests/common/mod.rs writes it when the native tests run):
    # structural mutations, other specs, and the file that made tract panic.
    index_path = ROOT / "target" / "bad-models" / "index.json"
    index = json.loads(index_path.read_text())
    assert len(index) >= 20
    for case in index:
        data = (index_path.parent / case["file"]).read_bytes()
        with pytest.raises(NextEventError) as e:
            Predictor.from_onnx(data)
        assert case["want"] in str(e.value), (case["name"], str(e.value))


def test_the_gil_is_released_while_predicting() -> None:
    """While one thread is inside a long `predict_batch`, another keeps running Python."""
    p = Predictor()
    seqs = [[ev("view", 1577872800000 + i * 1000) for i in range(16)]] * 20000
    inside = threading.Event()
    done = threading.Event()
    ticks = 0

    def work() -> None:
        inside.set()
        p.predict_batch(seqs)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    inside.wait()
    while not done.is_set():
        ticks += 1
    th.join()
    # Holding the GIL, the call would let this loop run only between switch intervals.
    assert ticks > 100_000, ticks


def test_type_stubs_pass_stubtest() -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "nextevent._native", "--allowlist", str(ROOT / "python" / "stubtest-allowlist.txt")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
