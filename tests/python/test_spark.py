"""The churn list on a real Spark (local mode, two worker threads): `nextevent.spark.score`
equals the native `nextevent score` row for row, and a bad row fails the job naming the
file, the row and the column."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest

from conftest import native_score
from test_package import assert_same_churn_list, read_native

KEY = ["user_id", "user_session", "last_event_time"]


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("nextevent-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    yield s
    s.stop()


def spark_frame(df: object) -> pd.DataFrame:
    """A Spark churn list as pandas, in the native list's order (Spark's order is its own)."""
    out = df.toPandas()  # type: ignore[attr-defined]
    out["user_id"] = out["user_id"].astype("uint64")
    out["events"] = out["events"].astype("uint64")
    return out


def same_rows(got: pd.DataFrame, native: pd.DataFrame) -> None:
    got = got.sort_values(KEY, kind="stable").reset_index(drop=True)
    native = native.sort_values(KEY, kind="stable").reset_index(drop=True)
    assert_same_churn_list(got, native)


@pytest.mark.parametrize("args", [[], ["--per-user"], ["--open-only"], ["--at", "2020-01-01 00:20:00 UTC"]])
def test_spark_equals_the_native_command_on_the_real_sample(spark: object, sample: Path, tmp_path: Path, args: list[str]) -> None:
    import nextevent.spark

    native = read_native(native_score([sample], *args, out=tmp_path / "native.csv"))
    kw: dict[str, object] = {"per_user": "--per-user" in args, "open_only": "--open-only" in args}
    if "--at" in args:
        kw["at"] = args[args.index("--at") + 1]
    got = spark_frame(nextevent.spark.score(spark, [str(sample)], **kw))
    same_rows(got, native)


def test_spark_equals_the_native_command_on_generated_gzip_files(spark: object, generated: Path, tmp_path: Path) -> None:
    """Two gzip files, split by time, read together (as the CLI reads a month per file)."""
    import gzip

    import nextevent.spark

    lines = generated.read_text().splitlines(keepends=True)
    head, rows = lines[0], lines[1:]
    half = len(rows) // 2
    files = []
    for i, part in enumerate([rows[:half], rows[half:]]):
        f = tmp_path / f"part{i}.csv.gz"
        with gzip.open(f, "wt") as w:
            w.write(head)
            w.writelines(part)
        files.append(f)
    native = read_native(native_score(files, out=tmp_path / "native.csv"))
    got = spark_frame(nextevent.spark.score(spark, [str(f) for f in files]))
    same_rows(got, native)


def test_a_bad_row_fails_the_job_naming_file_row_and_column(spark: object, sample: Path, tmp_path: Path) -> None:
    import nextevent.spark

    lines = sample.read_text().splitlines(keepends=True)
    cols = lines[0].strip().split(",")
    bad = lines[5].rstrip("\n").split(",")
    bad[cols.index("price")] = "-3.5"
    f = tmp_path / "bad.csv"
    f.write_text("".join(lines[:5]) + ",".join(bad) + "\n" + "".join(lines[6:40]))
    with pytest.raises(Exception) as e:
        nextevent.spark.score(spark, [str(f)]).collect()  # type: ignore[attr-defined]
    msg = str(e.value)
    assert "NextEventError" in msg and "bad.csv" in msg and "column `price`" in msg, msg[-3000:]


def test_the_command_line_writes_parquet(spark: object, sample: Path, tmp_path: Path) -> None:
    """`python -m nextevent.spark … --out` (here in-process, reusing the test's session)."""
    import nextevent.spark

    out = tmp_path / "churn.parquet"
    assert nextevent.spark.main([str(sample), "--out", str(out), "--master", "local[2]"]) == 0
    native = read_native(native_score([sample], out=tmp_path / "native.csv"))
    got = pd.read_parquet(out)
    got["user_id"] = got["user_id"].astype("uint64")
    got["events"] = got["events"].astype("uint64")
    same_rows(got, native)
