"""Asset checks of the hourly datasets. Each reads what was committed to the bucket (not the in-memory table)
and compares it with the hour's metadata ledger or with an independent count of the raw lines."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.lib.combine import COMBINED_COLUMNS, csv_to_table
from tweet_topics.lib.filtering import FILTER_REASONS
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET, QUARANTINE, REJECTED_PARQUET, Storage

CheckOutcome = tuple[bool, dict[str, Any]]
LATE_TOLERANCE = timedelta(minutes=15)


_STORED: OrderedDict[str, pa.Table] = OrderedDict()  # sha256 of a committed CSV -> its table (content-addressed)


def stored_combined(storage: Storage, hour: datetime) -> pa.Table:
    """The hour's committed combined CSV as a table, read and parsed once for all the checks of that hour.

    Keyed by the sha256 its commit records, so a newer commit is never answered from an older read."""
    commit = storage.combined.read_commit(hour)
    sha = commit["files"][COMBINED_CSV]["sha256"]
    if sha not in _STORED:
        _STORED[sha] = csv_to_table(storage.combined.read_bytes(hour, COMBINED_CSV, commit=commit))
        while len(_STORED) > 4:
            _STORED.popitem(last=False)
    return _STORED[sha]


def raw_line_count(storage: Storage, hour: datetime) -> int:
    """Non-blank lines of the hour's raw objects, counted apart from the combine's parser."""
    keys = [o.key for o in storage.s3.list(storage.raw_hour(hour))]
    return sum(sum(1 for line in body.split(b"\n") if line.strip()) for _, body in storage.s3.get_many(keys))


def combined_counts_reconcile(storage: Storage, hour: datetime) -> CheckOutcome:
    """Ledger: raw lines == records_read == kept + malformed + duplicates, and the stored files hold kept/malformed."""
    meta = storage.combined.read_metadata(hour)
    stored_rows = stored_combined(storage, hour).num_rows
    quarantined = len(storage.combined.read_bytes(hour, QUARANTINE).splitlines())
    raw_lines = raw_line_count(storage, hour)
    details = {
        "raw_lines": raw_lines,
        "records_read": meta["records_read"],
        "kept": meta["kept"],
        "stored_rows": stored_rows,
        "malformed": meta["malformed"],
        "stored_quarantine_lines": quarantined,
        "duplicates": meta["duplicates"],
    }
    passed = (
        raw_lines == meta["records_read"] == meta["kept"] + meta["malformed"] + meta["duplicates"]
        and stored_rows == meta["kept"]
        and quarantined == meta["malformed"]
    )
    return passed, details


def combined_unique_ids(storage: Storage, hour: datetime) -> CheckOutcome:
    ids = stored_combined(storage, hour)["id"]
    repeated = len(ids) - pc.count_distinct(ids).as_py()
    return repeated == 0, {"repeated_ids": repeated}


def combined_schema(storage: Storage, hour: datetime) -> CheckOutcome:
    header = storage.combined.read_bytes(hour, COMBINED_CSV).split(b"\n", 1)[0].decode("utf-8", "replace")
    columns = [c.strip('"') for c in header.split(",")]
    return columns == COMBINED_COLUMNS, {
        "missing": sorted(set(COMBINED_COLUMNS) - set(columns)),
        "extra": sorted(set(columns) - set(COMBINED_COLUMNS)),
    }


def combined_created_at_in_hour(storage: Storage, hour: datetime) -> CheckOutcome:
    """Late arrivals (created outside the hour, minus a tolerance) are flagged, never dropped."""
    created = stored_combined(storage, hour)["created_at"]
    low = (hour - LATE_TOLERANCE).strftime("%Y-%m-%dT%H:%M:%SZ")
    high = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    inside = int(pc.sum(pc.and_(pc.greater_equal(created, low), pc.less(created, high))).as_py() or 0)
    return inside == len(created), {"outside_hour": len(created) - inside}


def filtered_counts_reconcile(storage: Storage, hour: datetime) -> CheckOutcome:
    """input == stored combined rows == kept + each reason, and the stored files hold those rows."""
    meta = storage.filtered.read_metadata(hour)
    combined_rows = stored_combined(storage, hour).num_rows
    kept = storage.filtered.read_parquet(hour, FILTERED_PARQUET, columns=["id"]).num_rows
    rejected = storage.filtered.read_parquet(hour, REJECTED_PARQUET)
    by_reason = {r: int(pc.sum(pc.equal(rejected["reason"], r)).as_py() or 0) for r in FILTER_REASONS}
    passed = (
        meta["input"] == combined_rows == meta["kept"] + sum(meta[r] for r in FILTER_REASONS)
        and kept == meta["kept"]
        and all(by_reason[r] == meta[r] for r in FILTER_REASONS)
    )
    return passed, {"input": meta["input"], "combined_rows": combined_rows, "stored_kept": kept, **by_reason}
