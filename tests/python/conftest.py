"""Shared fixtures of the Python package's tests: the repository's files, the native binaries
built by `cargo test --release --features train,parquet` (`.ci/test` runs it first, with
`--profile ci` and NEXTEVENT_PROFILE=ci), the real sample in ../shared/data/, and small
generated exports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = SHARED / "cosmetics-sample.csv"
# The cargo profile whose binaries the tests run: `release` by default, `ci` in .ci/test (the
# same code at opt-level 1, built faster).
PROFILE = os.environ.get("NEXTEVENT_PROFILE", "release")
RELEASE = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / PROFILE


def binary(name: str) -> Path:
    """A native binary of this checkout; fails (never skips) when it was not built."""
    p = RELEASE / name
    if not p.exists():
        pytest.fail(
            f"{p} is missing: build it first with `cargo build --profile {PROFILE} --features "
            "train,parquet` (bash .ci/test does)"
        )
    return p


@pytest.fixture(scope="session")
def sample() -> Path:
    if not SAMPLE.exists():
        pytest.fail(f"{SAMPLE} is missing (the real sample, read from ../shared/data/)")
    return SAMPLE


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 rows from the fitted generator (seeded, Kaggle schema, time-sorted)."""
    out = tmp_path_factory.mktemp("gen") / "generated.csv"
    subprocess.run(
        [str(binary("nextevent-train")), "generate", "--rows", "20000", "--seed", "5", "--no-bayes", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def native_score(files: list[Path], *args: str, out: Path) -> Path:
    """Runs the native `nextevent score` (the reference the package must equal)."""
    subprocess.run(
        [str(binary("nextevent")), "score", "--quiet", *map(str, files), "--out", str(out), *args],
        check=True,
        capture_output=True,
    )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url}: the server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer in {seconds} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The MLflow server of `.ci/test` (MLFLOW_TRACKING_URI), else one started here."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        yield uri
        return
    d = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = d / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{d}/mlflow.db", "--artifacts-destination", str(d / "artifacts")],
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_http(uri + "/health", proc, 120, log)
        yield uri
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
