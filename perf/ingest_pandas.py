"""The pandas side of the ingest benchmark (perf/ingest.sh): the same work as
`nextevent-train ingest` — parse, reject bad rows, drop exact duplicates, sessionize (by
user_session; rows without one by a 30-minute gap per user), sort each session by time and
index its next-event windows — written the way a data scientist would, with read_csv, sort
and groupby. Prints the counts as JSON so the driver can check both did the same work."""
import json, sys, time

import numpy as np
import pandas as pd

KINDS = ["view", "cart", "remove_from_cart", "purchase"]
GAP = pd.Timedelta(minutes=30)

t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={"event_type": "category", "brand": "category",
                                     "category_code": "category", "user_session": "object"})
t_read = time.perf_counter()
rows_read = len(df)
ts = pd.to_datetime(df["event_time"], format="%Y-%m-%d %H:%M:%S UTC", utc=True, errors="coerce")
price = pd.to_numeric(df["price"], errors="coerce")
ok = (ts.notna() & df["event_type"].isin(KINDS) & price.notna() & (price >= 0) & (price <= 1e6)
      & df["product_id"].notna() & df["user_id"].notna())
rejected = int((~ok).sum())
df = df[ok].assign(ts=ts[ok])
dup = df.duplicated(subset=[c for c in df.columns if c != "ts"])
duplicates = int(dup.sum())
df = df[~dup]
# Sessions: user_session where present; otherwise split each user's events at 30-minute gaps.
has = df["user_session"].notna()
named = df[has]
anon = df[~has].sort_values(["user_id", "ts"], kind="stable")
new = (anon["user_id"] != anon["user_id"].shift()) | (anon["ts"] - anon["ts"].shift() >= GAP)
anon = anon.assign(user_session="gap-" + new.cumsum().astype(str))
df = pd.concat([named, anon])
# Sort by session then time; each event after the first ends a window (its prefix) whose
# label is that event's type.
df = df.sort_values(["user_id", "user_session", "ts"], kind="stable")
pos = df.groupby(["user_id", "user_session"], sort=False, observed=True).cumcount()
windows = int((pos >= 1).sum())
sessions = int((pos == 0).sum())
t_end = time.perf_counter()
print(json.dumps({
    "rows_read": rows_read, "rejected": rejected, "duplicates": duplicates,
    "accepted": rows_read - rejected - duplicates, "sessions": sessions, "windows": windows,
    "read_csv_s": round(t_read - t0, 2), "total_s": round(t_end - t0, 2),
    "pandas": pd.__version__, "numpy": np.__version__,
}))
