"""The churn list on Spark, for event logs that outgrow one machine.

Reads Kaggle-schema CSV (or Parquet) with PySpark, groups the rows by user (all of a user's
sessions in one group, so ingest's session rule — ``user_session``, else the user with a
30-minute gap — and the CLI's reopen policy apply unchanged), and scores each group with the
package's native scorer in a Python worker (``groupBy(...).applyInArrow``, Spark >= 4.0: one
Arrow table per group, no pandas), one predictor per worker, loaded once. "End of the data"
(what ``open`` is measured against when ``at`` is not given) is the global latest event time,
computed first. The result equals ``nextevent score`` row for row (tests/python/test_spark.py).

Command line (one machine, ``local[*]``; a cluster takes ``--master``)::

    python -m nextevent.spark 2020-Jan.csv.gz 2020-Feb.csv.gz --out churn.parquet --per-user

A row the reader rejects fails the job with `NextEventError` naming the file, the row's
user, session and time, and the column (the same policy as `Predictor.score`).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from typing import Any, Iterable, Optional, Sequence

import pyarrow as pa

from . import NextEventError, Predictor, _time_ms
from ._table import SCHEMA

#: Kaggle columns, read as text: the native reader parses and validates every value.
KAGGLE = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)

_PREDICTORS: dict[str, Predictor] = {}


def _predictor(model: Optional[bytes], threshold: Optional[float]) -> Predictor:
    """One predictor per Python worker process and model, loaded on first use."""
    key = hashlib.sha256(model or b"embedded").hexdigest() + repr(threshold)
    p = _PREDICTORS.get(key)
    if p is None:
        p = Predictor(threshold=threshold) if model is None else Predictor.from_onnx(model, threshold=threshold)
        _PREDICTORS[key] = p
    return p


#: The churn list's Arrow schema as Spark stores it: Spark has no unsigned integers, so the
#: ids and counts are int64 (every value fits).
SPARK_ARROW = pa.schema([pa.field(f.name, pa.int64() if pa.types.is_uint64(f.type) else f.type, f.nullable) for f in SCHEMA])


def _churn_schema() -> Any:
    """The churn list's Spark schema."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(SPARK_ARROW)


def read_events(spark: Any, paths: Sequence[str]) -> Any:
    """Kaggle-schema CSV (plain or gzip) or Parquet files as a DataFrame of text columns."""
    from pyspark.sql import functions as F

    if all(str(p).endswith(".parquet") or "parquet" in str(p).rsplit("/", 1)[-1] for p in paths):
        df = spark.read.parquet(*paths)
        cols = []
        for c in KAGGLE:
            if c not in df.columns:
                cols.append(F.lit(None).cast("string").alias(c))
            elif c == "event_time" and dict(df.dtypes)[c].startswith("timestamp"):
                cols.append(F.date_format(F.col(c), "yyyy-MM-dd HH:mm:ss 'UTC'").alias(c))
            else:
                cols.append(F.col(c).cast("string").alias(c))
        return df.select(*cols)
    # Every column as text (no schema inference); a column a file lacks is null.
    df = spark.read.csv(list(paths), header=True)
    return df.select(*[F.col(c) if c in df.columns else F.lit(None).cast("string").alias(c) for c in KAGGLE])


def score(
    spark: Any,
    paths: Sequence[str],
    *,
    at: Any = None,
    per_user: bool = False,
    open_only: bool = False,
    horizon_minutes: int = 120,
    model: Optional[bytes] = None,
    threshold: Optional[float] = None,
) -> Any:
    """The churn list of `paths` as a Spark DataFrame (lazy; write it with `.write.parquet`)."""
    from pyspark.sql import functions as F

    # Kaggle times are UTC; Spark parses and formats in the session time zone.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    events = read_events(spark, paths).withColumn("_row", F.monotonically_increasing_id()).withColumn(
        "_file", F.input_file_name()
    )
    # Epoch ms of each row, for ordering and the end of the data (Kaggle text or RFC 3339).
    # `try_to_timestamp`: null, not an error, for a time the native reader will reject.
    t = F.coalesce(
        F.unix_millis(F.try_to_timestamp(F.col("event_time"), F.lit("yyyy-MM-dd HH:mm:ss 'UTC'"))),
        F.unix_millis(F.try_to_timestamp(F.col("event_time"))),
    )
    events = events.withColumn("_t", t)
    at_ms = None if at is None else _time_ms(at)
    if at_ms is not None:
        # Rows after `at` are not seen (the CLI stops reading there); unparsable times stay,
        # for the native reader to reject by name.
        events = events.where(F.col("_t").isNull() | (F.col("_t") <= F.lit(at_ms)))
        end = at_ms
    else:
        end = events.agg(F.max("_t")).collect()[0][0]
        if end is None:
            raise NextEventError(f"{', '.join(map(str, paths))}: no event with a readable time")

    def score_user(table: pa.Table) -> pa.Table:
        return _score_group(table, model, threshold, at_ms, int(end), per_user, open_only, horizon_minutes)

    return events.groupBy("user_id").applyInArrow(score_user, schema=_churn_schema())


def _score_group(
    table: pa.Table,
    model: Optional[bytes],
    threshold: Optional[float],
    at_ms: Optional[int],
    end: int,
    per_user: bool,
    open_only: bool,
    horizon_minutes: int,
) -> pa.Table:
    """One user's rows → their churn rows, by the native scorer (rows in time order, ties in
    input order)."""
    import io

    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # An unreadable time (null `_t`) sorts first, for the native reader to reject by name.
    keys = pa.table({"_t": pc.fill_null(table["_t"], -(2**63)), "_row": table["_row"]})
    order = pc.sort_indices(keys, sort_keys=[("_t", "ascending"), ("_row", "ascending")])
    table = table.take(order)
    buf = io.BytesIO()
    pacsv.write_csv(table.select(list(KAGGLE)), buf)
    p = _predictor(model, threshold)
    columns, _summary, rejects = p._p._score_csv(
        buf.getvalue(),
        name="spark",
        at=at_ms,
        end=end,
        per_user=per_user,
        open_only=open_only,
        horizon_minutes=horizon_minutes,
        threads=1,
    )
    if rejects:
        row, column, _reason, detail = rejects[0]
        r = table.slice(row - 1, 1).to_pylist()[0]
        raise NextEventError(
            f"{r['_file']}: the row of user_id {r['user_id']!r}, user_session {r['user_session']!r} "
            f"at {r['event_time']!r}: column `{column}`: {detail}"
        )
    return pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in SPARK_ARROW}, schema=SPARK_ARROW)


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nextevent.spark", description="The churn list on Spark.")
    ap.add_argument("files", nargs="+", help="Kaggle-schema CSV / CSV.gz or Parquet files")
    ap.add_argument("--out", required=True, help="Parquet output folder")
    ap.add_argument("--at", help="score sessions as they stood at this time")
    ap.add_argument("--per-user", action="store_true")
    ap.add_argument("--open-only", action="store_true")
    ap.add_argument("--horizon-minutes", type=int, default=120)
    ap.add_argument("--model", help="an exported ONNX model (default: the embedded one)")
    ap.add_argument("--master", default="local[*]")
    a = ap.parse_args(list(argv) if argv is not None else None)
    from pyspark.sql import SparkSession

    # A session that already runs (a notebook's, a test's) is used and left running.
    existing = SparkSession.getActiveSession()
    spark = existing or SparkSession.builder.master(a.master).appName("nextevent-score").getOrCreate()
    model = open(a.model, "rb").read() if a.model else None
    df = score(
        spark,
        a.files,
        at=a.at,
        per_user=a.per_user,
        open_only=a.open_only,
        horizon_minutes=a.horizon_minutes,
        model=model,
    )
    df.write.mode("overwrite").parquet(a.out)
    n = spark.read.parquet(a.out).count()
    print(f"wrote {n} rows to {a.out}", file=sys.stderr)
    if existing is None:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
