"""Delivery health: where each hour's records go, from the hourly metadata and the streamer's delivery ledger.

Raw records read by the combine split into kept (the combined CSV), quarantined (malformed) and duplicates; the
kept ones split into the modeling corpus (filtered kept) and filtered out. ``sent`` is the streamer-side count
from the ``delivery_ledger`` asset's summary: when given, records sent but never read show as "not delivered";
hours without ledger objects (seeded or imported history) have no ``sent`` and the report says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

COLUMNS = ["hour", "sent", "raw", "kept", "quarantined", "duplicates", "filtered_out", "in_corpus", "not_delivered"]


def delivery_frame(
    combined: Mapping[datetime, Mapping[str, Any]],
    filtered: Mapping[datetime, Mapping[str, Any]],
    sent: Mapping[datetime, int] | None = None,
) -> pd.DataFrame:
    """One row per hour with a combined metadata: every count of the record flow, in COLUMNS order."""
    rows = []
    for hour in sorted(combined):
        meta, flt = combined[hour], filtered.get(hour)
        raw, kept = int(meta.get("records_read") or 0), int(meta.get("kept") or 0)
        in_corpus = int(flt.get("kept") or 0) if flt else None
        sent_n = None if sent is None or hour not in sent else int(sent[hour])
        rows.append(
            {
                "hour": hour,
                "sent": sent_n,
                "raw": raw,
                "kept": kept,
                "quarantined": int(meta.get("malformed") or 0),
                "duplicates": int(meta.get("duplicates") or 0),
                "filtered_out": (int(flt.get("input") or 0) - in_corpus) if flt else None,
                "in_corpus": in_corpus,
                "not_delivered": max(sent_n - raw, 0) if sent_n is not None else None,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def health_line(frame: pd.DataFrame) -> str:
    """A one-line summary for the Dagster UI."""
    if frame.empty:
        return "no combined hours in this window"
    raw = int(frame["raw"].sum())
    parts = [
        f"{raw:,} raw",
        f"{int(frame['quarantined'].sum()):,} quarantined",
        f"{int(frame['duplicates'].sum()):,} duplicates",
        f"{int(frame['in_corpus'].fillna(0).sum()):,} in the corpus",
    ]
    if frame["sent"].notna().any():
        parts.insert(0, f"{int(frame['sent'].fillna(0).sum()):,} sent")
    missing = int(frame["in_corpus"].isna().sum())
    return ", ".join(parts) + (f" ({missing} hours not filtered yet)" if missing else "")
