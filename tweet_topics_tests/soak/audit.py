"""The soak's own count, independent of the pipeline's metadata: read every committed hour and every reject.

Each committed combined hour's CSV is parsed here with the standard ``csv`` module (not the combine's reader)
and its quarantine file line by line; each id must be one the day produced, found in exactly one row of one
hour, and every quarantined line must carry a reason. The quarantine must hold, reason by reason, the poison lines
the day injected less those a deletion list took (``expected_quarantine``). The hourly checks are re-evaluated on
the final stored state, hour by hour.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tweet_topics.defs.hourly import checks
from tweet_topics.storage.catalog import COMBINED_CSV, QUARANTINE
from tweet_topics.storage.keys import partition_key
from tweet_topics_tests.soak.day import Poison

NUMBER = re.compile(rb"\d+")
REFERENCES = ("quoted_id", "in_reply_to_id", "conversation_id")  # a record that only refers to a deleted tweet stays

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
    undeleted: list[str] = field(default_factory=list)  # ids on the deletion list still in a CSV or a quarantine
    quarantined: Counter[str] = field(default_factory=Counter)  # reason -> lines
    quarantine_expected: Counter[str] = field(default_factory=Counter)  # reason -> poison lines a deletion left
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
            or self.quarantined != self.quarantine_expected
            or self.uncommitted_hours
            or self.failing_checks
        )


def csv_ids(body: bytes) -> list[str]:
    """The ``id`` column of a combined CSV, read with the standard library (quoted newlines included)."""
    return [row["id"] for row in csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))]


def names(line: bytes, ids: set[str]) -> bool:
    """Whether ``line`` names one of ``ids`` anywhere (as a whole number)."""
    return bool(ids) and any(n.decode() in ids for n in NUMBER.findall(line))


def expected_quarantine(poison: Iterable[Poison], deleted: set[str]) -> Counter[str]:
    """Reason -> the injected poison lines a correct pipeline still quarantines after the deletion list.

    X's deletions reach bad lines too (lib/archive/compliance.py): a raw line naming a deleted tweet goes whole (a
    truncated copy of it, say), unless it is a parseable record that only refers to it: that reference is nulled
    and the line stays, with its reason. Stored before the list (apply_deletions rewrites it) or delivered after
    (the combine's tombstones), the result is the same."""
    kept: Counter[str] = Counter()
    for p in poison:
        if names(p.line, deleted):
            record = _json_object(p.line)
            if record is None or record.get("id") in deleted or record.get("retweeted_id") in deleted:
                continue
            own = {k: v for k, v in record.items() if k not in REFERENCES}
            if names(json.dumps(own).encode(), deleted):
                continue
        kept[p.reason] += 1
    return kept


def _json_object(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def audit(
    storage: Any,
    expected_ids: dict[str, str],
    raw_hours: list[datetime],
    rejects: list[dict],
    deleted: set[str],
    quarantine: Counter[str],
) -> Audit:
    """Count what is committed now against what the day produced, less what a deletion list removed.

    ``quarantine``: reason -> lines the quarantines must hold (``expected_quarantine``)."""
    result = Audit(expected=len(expected_ids), streamer_rejects=len(rejects), quarantine_expected=quarantine)
    seen: Counter[str] = Counter()
    quarantined_deleted: set[str] = set()
    committed = storage.combined.committed_hours()
    result.hours = len(committed)
    for hour in committed:
        ids = csv_ids(storage.combined.read_bytes(hour, COMBINED_CSV))
        result.rows += len(ids)
        seen.update(ids)
        for line in storage.combined.read_bytes(hour, QUARANTINE).splitlines():
            quarantined_deleted |= deleted & {n.decode() for n in NUMBER.findall(line)}
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
    result.undeleted = sorted(i for i in deleted if i in seen or i in quarantined_deleted)
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
