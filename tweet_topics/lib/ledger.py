"""The delivery ledger: proof that nothing is lost between the streamer and the combined CSV.

Contract between the two sides:

- every NDJSON record the streamer sends carries ``"delivery": {"run": "<run id>", "seq": <n>}`` (sequence
  numbers start at 1 per streamer run and grow by one per received tweet);
- the streamer writes small ledger objects ``<streamer prefix>ledger/<run id>/<first>-<last>.json`` saying which
  sequence ranges it handed to Firehose (``handed``: Firehose accepted them) and which it rejected
  (``rejected``: never sent, with reasons), and when (``written_at``);
- the combine step records, per hour, the sequence ranges it found in the raw objects (``delivery_ranges``) -
  Firehose files by arrival time, so a record may land in any hour;
- :func:`reconcile` compares them: a handed sequence that is in no hour once ``grace`` has passed is a gap.

Ranges are inclusive ``[first, last]`` pairs, sorted and merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Ranges = list[list[int]]
DELIVERY_PATTERN = re.compile(rb'"delivery":\s*\{"run":\s*"([A-Za-z0-9_.:-]{1,64})",\s*"seq":\s*(\d{1,18})\}')


def merge(numbers_or_ranges: Iterable[int | Sequence[int]]) -> Ranges:
    """Sorted, merged inclusive ranges from numbers and/or ``[first, last]`` pairs."""
    pairs = sorted((x, x) if isinstance(x, int) else (int(x[0]), int(x[1])) for x in numbers_or_ranges)
    out: Ranges = []
    for first, last in pairs:
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return out


def count(ranges: Ranges) -> int:
    return sum(last - first + 1 for first, last in ranges)


def subtract(ranges: Ranges, remove: Ranges) -> Ranges:
    """``ranges`` minus ``remove`` (both merged)."""
    out: Ranges = []
    j = 0
    for first, last in ranges:
        current = first
        while j < len(remove) and remove[j][1] < current:
            j += 1
        k = j
        while k < len(remove) and remove[k][0] <= last:
            if remove[k][0] > current:
                out.append([current, remove[k][0] - 1])
            current = max(current, remove[k][1] + 1)
            k += 1
        if current <= last:
            out.append([current, last])
    return out


def delivery_ranges(bodies: Iterable[bytes]) -> dict[str, Ranges]:
    """Sequence ranges per streamer run found in raw objects (lines without a delivery field are skipped)."""
    found: dict[str, list[int]] = {}
    for body in bodies:
        for run, seq in DELIVERY_PATTERN.findall(body):
            found.setdefault(run.decode(), []).append(int(seq))
    return {run: merge(seqs) for run, seqs in sorted(found.items())}


def sent_by_hour(ledger_entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Records handed to Firehose per UTC hour the ledger object was written (partition keys)."""
    out: dict[str, int] = {}
    for entry in ledger_entries:
        written = datetime.fromisoformat(str(entry["written_at"])).astimezone(UTC)
        key = written.strftime("%Y-%m-%d-%H:00")
        out[key] = out.get(key, 0) + count(merge(entry.get("handed", [])))
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class StreamerKeys:
    """Every object under the streamer prefix, spelled once: the streamer process, the Dagster resources and
    the ledger asset all build their keys here (``Storage.streamer`` hands one out)."""

    prefix: str

    @property
    def heartbeat(self) -> str:
        return f"{self.prefix}heartbeat.json"

    @property
    def desired(self) -> str:
        return f"{self.prefix}desired.json"

    @property
    def ledger_prefix(self) -> str:
        return f"{self.prefix}ledger/"

    def ledger(self, run: str, first: int, last: int) -> str:
        return f"{self.ledger_prefix}{run}/{first:012d}-{last:012d}.json"

    @property
    def summary(self) -> str:
        """Written by the delivery_ledger asset, read by the report."""
        return f"{self.prefix}ledger-summary.json"


@dataclass
class RunReconciliation:
    run: str
    handed: int = 0
    rejected: int = 0
    found: int = 0
    missing: Ranges = field(default_factory=list)  # handed before the grace cut-off, found in no hour
    pending: int = 0  # handed within the grace period, not found yet
    unexpected: Ranges = field(default_factory=list)  # found in S3 but never recorded as handed

    @property
    def ok(self) -> bool:
        return not self.missing


def reconcile(
    found_by_hour: Mapping[str, Mapping[str, Ranges]],
    ledger_entries: Iterable[Mapping[str, Any]],
    now: datetime,
    grace: timedelta,
) -> list[RunReconciliation]:
    """Per streamer run: handed vs found (in any hour), gaps after ``grace``, and what was never handed."""
    found: dict[str, list[Sequence[int]]] = {}
    for ranges_by_run in found_by_hour.values():
        for run, ranges in ranges_by_run.items():
            found.setdefault(run, []).extend(ranges)
    handed_due: dict[str, list[Sequence[int]]] = {}
    handed_all: dict[str, list[Sequence[int]]] = {}
    rejected: dict[str, list[Sequence[int]]] = {}
    for entry in ledger_entries:
        run = str(entry["run"])
        written = datetime.fromisoformat(str(entry["written_at"]))
        handed_all.setdefault(run, []).extend(entry.get("handed", []))
        rejected.setdefault(run, []).extend(entry.get("rejected", []))
        if written <= now - grace:
            handed_due.setdefault(run, []).extend(entry.get("handed", []))
    out = []
    for run in sorted(set(found) | set(handed_all)):
        got, due, every = merge(found.get(run, [])), merge(handed_due.get(run, [])), merge(handed_all.get(run, []))
        out.append(
            RunReconciliation(
                run=run,
                handed=count(every),
                rejected=count(merge(rejected.get(run, []))),
                found=count(got),
                missing=subtract(due, got),
                pending=count(subtract(subtract(every, due), got)),
                unexpected=subtract(got, every),
            )
        )
    return out
