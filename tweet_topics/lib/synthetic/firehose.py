"""Synthetic tweets rendered as one hour of Firehose objects (NDJSON records under Firehose's key layout).

Faults (bad JSON, a truncated last line, duplicates, missing fields, legacy TAB lines) can be injected, and each
rendered hour says what a correct combine must find in it, so the combine is tested against known answers.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tweet_topics.lib.records import dumps_record, legacy_line_from_record, record_from_v2
from tweet_topics.lib.synthetic.generator import SyntheticTweet


@dataclass
class FaultSpec:
    """How many of each fault to inject per rendered hour."""

    malformed_json: int = 0
    truncated_last_line: bool = False
    duplicates: int = 0
    missing_text: int = 0
    legacy_tab_lines: int = 0


@dataclass
class RenderedHour:
    """Firehose objects of one hour and what a correct combine must find in them."""

    objects: list[tuple[str, bytes]]
    expected_ids: list[str]
    expected_malformed: dict[str, int] = field(default_factory=dict)
    expected_duplicates: int = 0
    lines: int = 0
    poison_lines: list[tuple[str, str, bytes]] = field(default_factory=list)  # (object key, reason, line)


RECORD, LEGACY, DUPLICATE = "record", "legacy", "duplicate"  # the kinds of line that are no poison


@dataclass
class _Line:
    """One rendered line and what it is, kept together through the insertions so a cut knows what it cut."""

    body: bytes
    kind: str  # RECORD, LEGACY, DUPLICATE or the reason a correct combine quarantines it with
    record_id: str | None = None
    key: str = ""  # the object it went into


def _truncate_last_line(objects: list[tuple[str, bytes]], last: _Line, expected_ids: list[str]) -> None:
    """Cut the hour's last line in half (a truncated write); whatever that line was, it is now one bad line.

    A cut record is no longer expected (a cut duplicate leaves its first copy); a cut poison line is no longer
    its old reason: the combine sees one unterminated line and counts it once, as ``truncated_line`` (a legacy
    TAB line too: cut, it lacks its closing TAB)."""
    key, body = objects[-1]
    cut = last.body[: len(last.body) // 2]
    objects[-1] = (key, body[: len(body) - len(last.body)] + cut)
    if last.kind in (RECORD, LEGACY) and last.record_id is not None:
        expected_ids.remove(last.record_id)
    last.kind = "truncated_line"
    last.body = cut


def firehose_key(raw_prefix: str, stream: str, ts: datetime, rng: random.Random) -> str:
    """``<prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``, Firehose's default layout."""
    suffix = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{raw_prefix}{ts:%Y/%m/%d/%H}/{stream}-1-{ts:%Y-%m-%d-%H-%M-%S}-{suffix}"


def render_hour(
    tweets: list[SyntheticTweet],
    hour: datetime,
    raw_prefix: str,
    stream: str,
    n_objects: int = 6,
    faults: FaultSpec | None = None,
    seed: int = 0,
) -> RenderedHour:
    """Split one hour's tweets into Firehose objects of NDJSON records, injecting ``faults``."""
    faults = faults or FaultSpec()
    rng = random.Random(f"{seed}-{hour.isoformat()}")
    records = [record_from_v2(t.payload) for t in tweets]
    lines = [_Line(dumps_record(r), RECORD, r["id"]) for r in records]
    expected_ids = [r["id"] for r in records]

    def insert(body: bytes, kind: str) -> None:
        lines.insert(rng.randrange(len(lines) + 1), _Line(body, kind))

    # Legacy lines can only carry records without TAB/newline in any field (the reference's own limit).
    eligible = [
        i
        for i, r in enumerate(records)
        if not any(c in str(r.get(f) or "") for f in ("text", "user_name", "user_location") for c in "\t\n\r")
    ]
    for i in eligible[: faults.legacy_tab_lines]:
        lines[i] = _Line(legacy_line_from_record(records[i]).encode(), LEGACY, records[i]["id"])
    for _ in range(faults.malformed_json):
        insert(b'{"schema_version": 1, "id": "123", "text": "broken\n', "invalid_json")
    for _ in range(faults.missing_text):
        bad = dict(records[0], id=str(9_000_000 + rng.randrange(10**6)), text=None)
        insert(dumps_record(bad), "missing_field:text")
    for _ in range(min(faults.duplicates, len(records))):
        lines.append(_Line(dumps_record(records[rng.randrange(len(records))]), DUPLICATE))
    n_objects = max(1, min(n_objects, len(lines))) if lines else 0
    objects: list[tuple[str, bytes]] = []
    per = -(-len(lines) // n_objects) if n_objects else 0
    for i in range(n_objects):
        chunk = lines[i * per : (i + 1) * per]
        if not chunk:
            continue
        ts = hour + timedelta(seconds=int(3599 * (i + 1) / (n_objects + 1)))
        objects.append((firehose_key(raw_prefix, stream, ts, rng), b"".join(line.body for line in chunk)))
        for line in chunk:
            line.key = objects[-1][0]
    if faults.truncated_last_line and objects:
        _truncate_last_line(objects, lines[-1], expected_ids)
    poison = [(x.key, x.kind, x.body.removesuffix(b"\n")) for x in lines if x.kind not in (RECORD, LEGACY, DUPLICATE)]
    malformed: dict[str, int] = {}
    for _, reason, _ in poison:
        malformed[reason] = malformed.get(reason, 0) + 1
    return RenderedHour(
        objects=objects,
        expected_ids=expected_ids,
        expected_malformed=malformed,
        expected_duplicates=sum(1 for x in lines if x.kind == DUPLICATE),
        poison_lines=poison,
        lines=sum(body.count(b"\n") + (0 if body.endswith(b"\n") else 1) for _, body in objects),
    )
