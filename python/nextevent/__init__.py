"""nextevent from Python: the same Rust predictor as the browser and the CLI.

>>> import nextevent
>>> p = nextevent.Predictor()
>>> p.predict([{"event_type": "cart", "event_time": "2020-01-01T10:00:00Z",
...             "product_id": 5802432, "brand": "runail", "price": 4.05}])["next"]
'cart'

`Predictor.score(table)` turns a Kaggle-schema pandas DataFrame or pyarrow Table into the
churn list that `nextevent score` writes (same columns, same values). Errors are
`NextEventError` (a `ValueError`) naming the event, row and column.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence, Union

from . import _native
from ._native import NextEventError, churn_columns, feature_spec

__all__ = ["Predictor", "NextEventError", "churn_columns", "feature_spec", "Outlook", "__version__"]
__version__: str = _native.__version__

#: An outlook: the dict `predict` returns (shaped like the JS API's `Outlook`).
Outlook = dict

#: Columns a table for `score` must have (the Kaggle schema; `brand`, `category_id` and
#: `category_code` are optional).
REQUIRED_COLUMNS = ("event_time", "event_type", "product_id", "price", "user_id", "user_session")


class Predictor:
    """Predicts a shopper's next event, P(buys this visit), the visit's stage and churn risk.

    ``Predictor()`` uses the embedded model; ``Predictor.from_onnx(path_or_bytes)`` a model
    exported by ``nextevent-train`` (checked before use: feature spec and graph).
    ``threshold`` sets one churn threshold for every stage (default: the model's per-stage
    thresholds). Safe to share between threads; the GIL is released while predicting.
    """

    __slots__ = ("_p",)

    def __init__(self, *, threshold: Optional[float] = None) -> None:
        self._p = _native.Predictor(threshold=threshold)

    @classmethod
    def from_onnx(
        cls, model: Union[str, "os.PathLike[str]", bytes, bytearray], *, threshold: Optional[float] = None
    ) -> "Predictor":
        """A model file (path) or its bytes; refused with `NextEventError` if it is not one
        nextevent's exporter writes."""
        self = cls.__new__(cls)
        self._p = _native.Predictor.from_onnx(model, threshold=threshold)
        return self

    def predict(self, events: Sequence[Mapping[str, Any]], *, influence: bool = False) -> Outlook:
        """Predicts from one shopper's events, oldest first (at most 1,000; the last 16 count).

        An event: ``event_type`` ('view' | 'cart' | 'remove_from_cart' | 'purchase'),
        ``event_time`` (ISO 8601 / Kaggle string, epoch ms, or an aware datetime),
        ``product_id`` (int or digit string), ``price`` (float), optional ``brand`` and
        ``category_code``."""
        return self._p.predict(events, influence=influence)

    def predict_batch(self, sequences: Sequence[Sequence[Mapping[str, Any]]]) -> list[Outlook]:
        """Outlooks for many shoppers from one batched run of the model."""
        return self._p.predict_batch(sequences)

    @property
    def threshold(self) -> Optional[float]:
        """The threshold set for every stage, or None (the model's per-stage defaults)."""
        return self._p.threshold

    @property
    def has_conversion(self) -> bool:
        """Whether the model has the conversion head (P(buys this visit))."""
        return self._p.has_conversion

    @property
    def info(self) -> dict[str, Any]:
        """The model's name, architecture, training data, held-out figures, heads and size."""
        return self._p.info

    def __repr__(self) -> str:
        return repr(self._p)

    def score(
        self,
        table: Any,
        *,
        at: Union[None, str, int, "datetime.datetime"] = None,  # noqa: F821
        per_user: bool = False,
        open_only: bool = False,
        horizon_minutes: int = 120,
        threads: Optional[int] = None,
        end: Optional[int] = None,
    ) -> Any:
        """The churn list of a Kaggle-schema table (pandas DataFrame or pyarrow Table, rows in
        time order), as `nextevent score` writes it: one row per session (or per user's latest
        session with ``per_user``) as it stood at ``at`` (default: the end of the data).

        Returns the same kind of table it was given; the summary (rows read, accepted,
        duplicates, sessions, at risk) is in ``df.attrs["nextevent"]`` or the Arrow schema's
        ``nextevent`` metadata. A row the reader rejects raises `NextEventError` naming the
        row (0-based position in the table) and the column; nothing is dropped silently
        (exact duplicate rows are dropped and counted, as the CLI does). ``end``: the end of
        the data in epoch ms when the table is only part of it (the Spark job)."""
        from ._table import kind_of, to_csv_bytes, to_output

        kind = kind_of(table)
        data = to_csv_bytes(table)
        at_ms = None if at is None else _time_ms(at)
        columns, summary, rejects = self._p._score_csv(
            data,
            at=at_ms,
            end=end,
            per_user=per_user,
            open_only=open_only,
            horizon_minutes=horizon_minutes,
            threads=threads,
        )
        if rejects:
            row, column, _reason, detail = rejects[0]
            more = f" ({len(rejects)} rows rejected in all; the first is shown)" if len(rejects) > 1 else ""
            raise NextEventError(f"row {row - 1}: column `{column}`: {detail}{more}")
        return to_output(columns, summary, kind)


def _time_ms(t: Any) -> int:
    """`at` as epoch ms: an aware datetime, epoch ms, or a Kaggle / RFC 3339 string."""
    import datetime as dt

    if isinstance(t, bool):
        raise NextEventError(f"at: expected a time, got {type(t).__name__}")
    if isinstance(t, int):
        return t
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            raise NextEventError("at: a naive datetime (no time zone); give an aware one")
        return round(t.timestamp() * 1000)
    if isinstance(t, str):
        s = t.strip()
        try:
            if s.endswith(" UTC"):
                parsed = dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=dt.timezone.utc)
            else:
                parsed = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise NextEventError(
                f"at: unparsable time {t!r} (expected `2019-10-01 00:00:00 UTC` or RFC 3339)"
            ) from None
        return _time_ms(parsed)
    raise NextEventError(f"at: expected a time, got {type(t).__name__}")
