"""Tables in and out of the native scorer: a pandas DataFrame or pyarrow Table in the Kaggle
schema becomes Kaggle CSV text for the Rust reader (so every row is validated by the same
rules as `nextevent score`), and the churn list comes back as the same kind of table, with
the Parquet output's column types."""

from __future__ import annotations

import io
import json
from typing import Any, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ._native import NextEventError

REQUIRED = ("event_time", "event_type", "product_id", "price", "user_id", "user_session")
OPTIONAL = ("category_id", "category_code", "brand")
#: Columns that must hold whole numbers (or digit strings).
WHOLE = ("product_id", "user_id", "category_id")

#: The churn list's Arrow schema: the same types as `nextevent score --format parquet`.
SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.uint64(), nullable=False),
        pa.field("user_session", pa.string(), nullable=False),
        pa.field("events", pa.uint64(), nullable=False),
        pa.field("last_event_time", pa.string(), nullable=False),
        pa.field("p_view", pa.float32(), nullable=False),
        pa.field("p_cart", pa.float32(), nullable=False),
        pa.field("p_remove_from_cart", pa.float32(), nullable=False),
        pa.field("p_purchase", pa.float32(), nullable=False),
        pa.field("next", pa.string(), nullable=False),
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("conversion", pa.float32(), nullable=True),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("churn_risk", pa.bool_(), nullable=False),
        pa.field("threshold", pa.float32(), nullable=True),
        pa.field("favourite_brand", pa.string(), nullable=False),
        pa.field("intervention", pa.string(), nullable=False),
        pa.field("open", pa.bool_(), nullable=False),
    ]
)


def kind_of(table: Any) -> str:
    """'pandas' or 'arrow'; anything else is a TypeError naming what it got."""
    if isinstance(table, (pa.Table, pa.RecordBatch)):
        return "arrow"
    mod = type(table).__module__
    if mod.startswith("pandas") and type(table).__name__ == "DataFrame":
        return "pandas"
    raise TypeError(f"table must be a pandas DataFrame or a pyarrow Table, got {mod}.{type(table).__name__}")


def _arrow(table: Any) -> pa.Table:
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if isinstance(table, pa.Table):
        return table
    return pa.Table.from_pandas(table, preserve_index=False)


def to_csv_bytes(table: Any) -> bytes:
    """The table's Kaggle columns as CSV text, after checking the columns and their types."""
    t = _arrow(table)
    names = t.column_names
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise NextEventError(
            f"table lacks required column `{missing[0]}` (found: {','.join(names)})"
        )
    cols = {}
    for name in REQUIRED + OPTIONAL:
        if name not in names:
            continue
        col = t.column(name)
        typ = col.type
        if name == "event_time":
            col = _event_time(col)
        elif name in WHOLE and pa.types.is_floating(typ):
            raise NextEventError(
                f"column `{name}` has type {typ}; whole numbers expected (pandas turns an integer "
                "column with a missing value into floats: drop or fill those rows first)"
            )
        elif name == "price" and not (pa.types.is_floating(typ) or pa.types.is_integer(typ)
                                      or pa.types.is_string(typ) or pa.types.is_large_string(typ)
                                      or pa.types.is_decimal(typ) or pa.types.is_null(typ)):
            raise NextEventError(f"column `price` has type {typ}; numbers expected")
        cols[name] = col
    out = io.BytesIO()
    pacsv.write_csv(pa.table(cols), out)
    return out.getvalue()


def _event_time(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as the Kaggle text form (UTC, whole seconds); strings pass as they are."""
    typ = col.type
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            raise NextEventError(
                "column `event_time` holds timestamps without a time zone; make them UTC first "
                "(pandas: df['event_time'].dt.tz_localize('UTC'))"
            )
        secs = pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False)
        return pc.strftime(secs, format="%Y-%m-%d %H:%M:%S UTC")
    if pa.types.is_integer(typ):
        raise NextEventError(
            "column `event_time` holds integers; give Kaggle / RFC 3339 strings or UTC timestamps"
        )
    return col


def to_output(columns: Mapping[str, list], summary: Mapping[str, int], kind: str) -> Any:
    """The churn list as a pyarrow Table (with the summary as schema metadata) or a pandas
    DataFrame (summary in ``attrs["nextevent"]``)."""
    table = pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in SCHEMA}, schema=SCHEMA)
    table = table.replace_schema_metadata({"nextevent": json.dumps(dict(summary), sort_keys=True)})
    if kind == "arrow":
        return table
    df = table.to_pandas()
    df.attrs["nextevent"] = dict(summary)
    return df
