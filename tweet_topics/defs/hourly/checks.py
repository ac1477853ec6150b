"""Asset checks of the hourly datasets. Each reads what was committed to the bucket (not the in-memory table)
and compares it with the hour's metadata ledger or with an independent count of the raw lines."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tweet_topics.defs.ingest.handed import handed_in_hour
from tweet_topics.lib.combine import COMBINED_COLUMNS, csv_to_table
from tweet_topics.lib.filtering import FILTER_REASONS
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET, QUARANTINE, REJECTED_PARQUET, Storage
from tweet_topics.storage.hourly import HourNotCommitted

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


def count_lines(bodies: Iterable[bytes]) -> int:
    """Non-blank lines, split on \\n like the combine, counted apart from its parser."""
    return sum(sum(1 for line in body.split(b"\n") if line.strip()) for body in bodies)


def raw_line_count(storage: Storage, hour: datetime) -> int:
    """Non-blank lines of the hour's raw objects, counted apart from the combine's parser."""
    keys = [o.key for o in storage.s3.list(storage.raw_hour(hour))]
    return count_lines(body for _, body in storage.s3.get_many(keys))


def counts_outcome(raw_lines: int, meta: dict[str, Any], stored_rows: int, quarantined: int) -> CheckOutcome:
    """raw lines == records_read == kept + malformed + duplicates + deleted_on_request (tombstoned tweets), and the
    files hold kept rows / malformed lines."""
    deleted = int(meta.get("deleted_on_request") or 0)
    details = {
        "raw_lines": raw_lines,
        "records_read": meta["records_read"],
        "kept": meta["kept"],
        "stored_rows": stored_rows,
        "malformed": meta["malformed"],
        "stored_quarantine_lines": quarantined,
        "duplicates": meta["duplicates"],
        "deleted_on_request": deleted,
    }
    passed = (
        raw_lines == meta["records_read"] == meta["kept"] + meta["malformed"] + meta["duplicates"] + deleted
        and stored_rows == meta["kept"]
        and quarantined == meta["malformed"]
    )
    return passed, details


def schema_outcome(csv: bytes) -> CheckOutcome:
    header = csv.split(b"\n", 1)[0].decode("utf-8", "replace")
    columns = [c.strip('"') for c in header.split(",")]
    return columns == COMBINED_COLUMNS, {
        "missing": sorted(set(COMBINED_COLUMNS) - set(columns)),
        "extra": sorted(set(columns) - set(COMBINED_COLUMNS)),
    }


def gate_failures(raw_lines: int, meta: dict[str, Any], rows: int, csv: bytes, quarantine: bytes) -> dict[str, Any]:
    """The blocking checks on what a run is about to commit: {check: details} for each that fails. The commit
    records them, so filtered_tweets (and through it the corpus) skip the hour whatever run or job reads it."""
    outcomes = {
        "counts_reconcile": counts_outcome(raw_lines, meta, rows, len(quarantine.splitlines())),
        "schema": schema_outcome(csv),
    }
    return {name: details for name, (passed, details) in outcomes.items() if not passed}


def combined_counts_reconcile(storage: Storage, hour: datetime) -> CheckOutcome:
    """Ledger: raw lines == records_read == kept + malformed + duplicates + deleted_on_request; files hold them."""
    meta = storage.combined.read_metadata(hour)
    stored_rows = stored_combined(storage, hour).num_rows
    quarantined = len(storage.combined.read_bytes(hour, QUARANTINE).splitlines())
    return counts_outcome(raw_line_count(storage, hour), meta, stored_rows, quarantined)


def combined_unique_ids(storage: Storage, hour: datetime) -> CheckOutcome:
    ids = stored_combined(storage, hour)["id"]
    repeated = len(ids) - pc.count_distinct(ids).as_py()
    return repeated == 0, {"repeated_ids": repeated}


def combined_schema(storage: Storage, hour: datetime) -> CheckOutcome:
    return schema_outcome(storage.combined.read_bytes(hour, COMBINED_CSV))


def combined_created_at_in_hour(storage: Storage, hour: datetime) -> CheckOutcome:
    """Late arrivals (created outside the hour, minus a tolerance) are flagged, never dropped."""
    created = stored_combined(storage, hour)["created_at"]
    low = (hour - LATE_TOLERANCE).strftime("%Y-%m-%dT%H:%M:%SZ")
    high = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    inside = int(pc.sum(pc.and_(pc.greater_equal(created, low), pc.less(created, high))).as_py() or 0)
    return inside == len(created), {"outside_hour": len(created) - inside}


def filtered_counts_reconcile(storage: Storage, hour: datetime) -> CheckOutcome:
    """input == stored combined rows == kept + each reason, and the stored files hold those rows; an hour held
    back by the combined hour's blocking checks holds no rows."""
    meta = storage.filtered.read_metadata(hour)
    kept = storage.filtered.read_parquet(hour, FILTERED_PARQUET, columns=["id"]).num_rows
    if meta.get("blocked_by"):
        return kept == meta["kept"] == 0, {"blocked_by": meta["blocked_by"], "stored_kept": kept}
    combined_rows = stored_combined(storage, hour).num_rows
    rejected = storage.filtered.read_parquet(hour, REJECTED_PARQUET)
    by_reason = {r: int(pc.sum(pc.equal(rejected["reason"], r)).as_py() or 0) for r in FILTER_REASONS}
    passed = (
        meta["input"] == combined_rows == meta["kept"] + sum(meta[r] for r in FILTER_REASONS)
        and kept == meta["kept"]
        and all(by_reason[r] == meta[r] for r in FILTER_REASONS)
    )
    return passed, {"input": meta["input"], "combined_rows": combined_rows, "stored_kept": kept, **by_reason}


def filtered_from_current_combined(storage: Storage, hour: datetime) -> CheckOutcome:
    """The corpus hour was built from the combined commit that is current now (not an older one a racing run
    read): otherwise the hour needs filtered_tweets again."""
    built_from = storage.filtered.read_commit(hour).get("inputs", {}).get("combined_commit")
    current = storage.combined.read_commit(hour)["committed_at"]
    return built_from == current, {"built_from_combined_commit": built_from, "current_combined_commit": current}


def no_data_while_streaming(storage: Storage, hour: datetime) -> CheckOutcome:
    """Missing is not empty: an hour without raw objects fails if the delivery ledger says the streamer handed
    records to Firehose during it; a quiet hour (streamer stopped, or 0 handed) passes and says why."""
    objects = storage.combined.read_commit(hour).get("inputs", {}).get("raw_objects")
    if objects:
        return True, {"raw_objects": objects}
    handed = handed_in_hour(storage, hour)
    reason = (
        f"no raw objects, yet the streamer handed {handed} records to Firehose in this hour (delivery ledger)"
        if handed
        else "quiet hour: the delivery ledger shows no records handed in this hour (streamer stopped or idle)"
    )
    return handed == 0, {"raw_objects": 0, "handed_by_ledger": handed, "why": reason}


VOLUME_Z = 4.0  # |z| at which an hour's volume warns
VOLUME_BASELINE_HOURS = 24
VOLUME_MIN_HOURS = 6  # fewer committed trailing hours: no verdict yet


def trailing_volumes(storage: Storage, hour: datetime, hours: int = VOLUME_BASELINE_HOURS) -> list[int]:
    """records_read of the committed hours among the ``hours`` before ``hour`` (concurrent GETs)."""

    def read(h: datetime) -> int | None:
        try:
            return int(storage.combined.read_metadata(h).get("records_read") or 0)
        except HourNotCommitted:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = pool.map(read, [hour - timedelta(hours=i) for i in range(1, hours + 1)])
    return [v for v in found if v is not None]


def volume_outcome(current: int, trailing: list[int]) -> CheckOutcome:
    """Records this hour vs the trailing hours: |z| >= VOLUME_Z warns (a stream outage or a flood)."""
    if len(trailing) < VOLUME_MIN_HOURS:
        return True, {"records": current, "trailing_hours": len(trailing), "why": "not enough trailing hours yet"}
    mean = sum(trailing) / len(trailing)
    std = (sum((v - mean) ** 2 for v in trailing) / len(trailing)) ** 0.5
    z = (current - mean) / std if std else (0.0 if current == mean else float("inf"))
    details = {
        "records": current,
        "trailing_mean": round(mean, 1),
        "trailing_std": round(std, 1),
        "z": round(z, 2) if z != float("inf") else "inf",
        "trailing_hours": len(trailing),
    }
    return abs(z) < VOLUME_Z, details


def combined_volume(storage: Storage, hour: datetime) -> CheckOutcome:
    current = int(storage.combined.read_metadata(hour).get("records_read") or 0)
    return volume_outcome(current, trailing_volumes(storage, hour))
