"""The soak's own count, independent of the pipeline's metadata: read every committed hour and every reject.

Each committed combined hour's CSV is parsed here with the standard ``csv`` module (not the combine's reader)
and its quarantine file line by line; each id must be one the day produced, found in exactly one row of one
hour, and every quarantined line must carry a reason. The hourly checks are re-evaluated on the final stored
state, hour by hour.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tweet_topics.defs.hourly import checks
from tweet_topics.storage.catalog import COMBINED_CSV, QUARANTINE
from tweet_topics.storage.keys import partition_key

FINAL_CHECKS = {
    "counts_reconcile": checks.combined_counts_reconcile,
    "unique_ids": checks.combined_unique_ids,
    "schema": checks.combined_schema,
    "created_at_in_hour": checks.combined_created_at_in_hour,
    "filter_counts_reconcile": checks.filtered_counts_reconcile,
}


@dataclass
class Audit:
    hours: int = 0
    rows: int = 0
    expected: int = 0
    delivered: int = 0  # expected ids found in a committed CSV
    lost: list[str] = field(default_factory=list)  # expected ids in no CSV and no reject
    duplicated: list[str] = field(default_factory=list)  # ids in more than one row
    unexpected: list[str] = field(default_factory=list)  # ids in a CSV the day never produced
    undeleted: list[str] = field(default_factory=list)  # ids on the deletion list still in a CSV
    quarantined: Counter[str] = field(default_factory=Counter)  # reason -> lines
    quarantine_without_reason: int = 0
    streamer_rejects: int = 0
    uncommitted_hours: list[str] = field(default_factory=list)  # hours with raw objects but no commit
    failing_checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # check -> failing hour -> details

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.unexpected
            or self.undeleted
            or self.quarantine_without_reason
            or self.uncommitted_hours
            or self.failing_checks
        )


def csv_ids(body: bytes) -> list[str]:
    """The ``id`` column of a combined CSV, read with the standard library (quoted newlines included)."""
    return [row["id"] for row in csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))]


def audit(
    storage: Any, expected_ids: dict[str, str], raw_hours: list[datetime], rejects: list[dict], deleted: set[str]
) -> Audit:
    """Count what is committed now against what the day produced, less what a deletion list removed."""
    result = Audit(expected=len(expected_ids), streamer_rejects=len(rejects))
    seen: Counter[str] = Counter()
    committed = storage.combined.committed_hours()
    result.hours = len(committed)
    for hour in committed:
        ids = csv_ids(storage.combined.read_bytes(hour, COMBINED_CSV))
        result.rows += len(ids)
        seen.update(ids)
        for line in storage.combined.read_bytes(hour, QUARANTINE).splitlines():
            reason = json.loads(line).get("reason") if line.strip() else None
            if reason:
                result.quarantined[str(reason)] += 1
            else:
                result.quarantine_without_reason += 1
        for name, check in FINAL_CHECKS.items():
            try:
                passed, details = check(storage, hour)
            except Exception as exc:  # a check that cannot read its hour is a failing check here too
                passed, details = False, {"error": f"{type(exc).__name__}: {exc}"}
            if not passed:
                result.failing_checks.setdefault(name, {})[partition_key(hour)] = details
    rejected_ids = {_reject_id(r) for r in rejects} - {None}
    result.undeleted = sorted(i for i in deleted if i in seen)
    expected_ids = {i: source for i, source in expected_ids.items() if i not in deleted}
    result.expected = len(expected_ids)
    result.lost = sorted(i for i in expected_ids if i not in seen and i not in rejected_ids)
    result.delivered = sum(1 for i in expected_ids if i in seen)
    result.duplicated = sorted(i for i, n in seen.items() if n > 1)
    result.unexpected = sorted(i for i in seen if i not in expected_ids and i not in deleted)
    result.uncommitted_hours = [partition_key(h) for h in raw_hours if h not in set(committed)]
    return result


def _reject_id(reject: dict) -> str | None:
    """The tweet id inside a streamer reject, when its raw input still names one."""
    raw = reject.get("raw")
    try:
        payload = json.loads(raw) if isinstance(raw, str) else raw
        return str(payload.get("data", payload).get("id"))
    except (ValueError, AttributeError, TypeError):
        return None
