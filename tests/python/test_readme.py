"""The README's Python sections ("From Python", "Serve it with MLflow", "On Spark") run
verbatim: every fenced block of each section, in order, from the repository root."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

SECTIONS = ["From Python", "Serve it with MLflow", "On Spark"]


def blocks(readme: str, title: str) -> list[str]:
    """The ```sh blocks of the `## title` section (up to the next `## `)."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", readme, re.S | re.M)
    assert m, f"README.md has no section `## {title}`"
    body = m.group(1)
    found = re.findall(r"^```sh\n(.*?)^```", body, re.S | re.M)
    assert found, f"section `{title}` has no ```sh block"
    code_lines = sum(len(b.strip().splitlines()) for b in found)
    assert code_lines <= 10, f"section `{title}`: {code_lines} lines of commands (at most ten)"
    return found


def run(block: str, env: dict[str, str], log: Path, timeout: float) -> str:
    """Runs a block in bash -e; whatever it left running in the background is stopped after."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    text = log.read_text()
    assert rc == 0, f"exit {rc}:\n{block}\n---\n{text[-4000:]}"
    return text


@pytest.mark.parametrize("title", SECTIONS)
def test_readme_section_runs_verbatim(title: str, tracking: str, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking)
    out = "".join(run(b, env, tmp_path / f"block{i}.log", 600) for i, b in enumerate(blocks(readme, title)))
    if title == "From Python":
        assert "intervention" in out and "Unlikely to buy" in out, out[-3000:]
    elif title == "Serve it with MLflow":
        assert '"predictions"' in out and '"user_session": "s1"' in out, out[-3000:]
    else:
        assert "p_cart" in out and (ROOT / "target" / "churn.parquet").exists(), out[-3000:]
