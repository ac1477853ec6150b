"""Synthetic tweets rendered as one hour of Firehose objects (NDJSON records under Firehose's key layout).

Faults (bad JSON, a truncated last line, duplicates, missing fields, legacy TAB lines) can be injected, and each
rendered hour says what a correct combine must find in it, so the combine is tested against known answers.
"""

from __future__ import annotations

import json
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
    lines: list[bytes] = [dumps_record(r) for r in records]
    expected_ids = [r["id"] for r in records]
    malformed: dict[str, int] = {}

    def bump(reason: str) -> None:
        malformed[reason] = malformed.get(reason, 0) + 1

    # Legacy lines can only carry records without TAB/newline in any field (the reference's own limit).
    eligible = [
        i
        for i, r in enumerate(records)
        if not any(c in str(r.get(f) or "") for f in ("text", "user_name", "user_location") for c in "\t\n\r")
    ]
    for i in eligible[: faults.legacy_tab_lines]:
        lines[i] = legacy_line_from_record(records[i]).encode()
    for _ in range(faults.malformed_json):
        lines.insert(rng.randrange(len(lines) + 1), b'{"schema_version": 1, "id": "123", "text": "broken\n')
        bump("invalid_json")
    for _ in range(faults.missing_text):
        bad = dict(records[0], id=str(9_000_000 + rng.randrange(10**6)), text=None)
        lines.insert(rng.randrange(len(lines) + 1), dumps_record(bad))
        bump("missing_field:text")
    duplicates = 0
    for _ in range(min(faults.duplicates, len(records))):
        lines.append(dumps_record(records[rng.randrange(len(records))]))
        duplicates += 1
    n_objects = max(1, min(n_objects, len(lines))) if lines else 0
    objects: list[tuple[str, bytes]] = []
    per = -(-len(lines) // n_objects) if n_objects else 0
    for i in range(n_objects):
        chunk = lines[i * per : (i + 1) * per]
        if not chunk:
            continue
        ts = hour + timedelta(seconds=int(3599 * (i + 1) / (n_objects + 1)))
        objects.append((firehose_key(raw_prefix, stream, ts, rng), b"".join(chunk)))
    if faults.truncated_last_line and objects:
        key, body = objects[-1]
        last_start = body.rstrip(b"\n").rfind(b"\n") + 1
        truncated_line = body[last_start:]
        objects[-1] = (key, body[: last_start + len(truncated_line) // 2])
        # The cut record is lost from this object; if it was not a duplicate it is no longer expected.
        try:
            cut_id = json.loads(truncated_line)["id"]
        except ValueError:
            cut_id = None
        if duplicates and cut_id is not None:
            duplicates -= 1
        elif cut_id in expected_ids:
            expected_ids.remove(cut_id)
        bump("truncated_line")
    return RenderedHour(
        objects=objects,
        expected_ids=expected_ids,
        expected_malformed=malformed,
        expected_duplicates=duplicates,
        lines=sum(body.count(b"\n") + (0 if body.endswith(b"\n") else 1) for _, body in objects),
    )
