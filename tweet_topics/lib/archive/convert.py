"""Archive payload -> the project's NDJSON record, through the same parsers and the same storable gate as the streamer.

No input raises: every failure is a :class:`Reject` with a short reason. Besides the streamer's checks, an archive
tweet must have been posted while X existed (``created_at`` from 2006-03-21 to an hour from now): an archive is
the one input whose dates nobody else has checked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from tweet_topics.lib.archive.fast import record_from_v1, record_from_v2
from tweet_topics.lib.archive.formats import Mismatch, Payload
from tweet_topics.lib.records import RecordError, dumps_record, validate_record
from tweet_topics.lib.records.storable import storable

MAX_RECORD_BYTES = 1000 * 1024  # Firehose's per-record limit: the combine and the streamer hold the same line
RAW_KEPT = 64 * 1024
FIRST_TWEET = "2006-03-21T00:00:00Z"  # X's first public tweet was posted that day
FUTURE_SLACK = timedelta(hours=1)


class Reject(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail[:500]


class Converted(NamedTuple):
    id: str
    created_at: str  # canonical YYYY-MM-DDTHH:MM:SSZ
    record: bytes  # NDJSON line without the delivery field, newline included
    original: bytes  # one JSON line, no newline


def parse_json(data: bytes) -> Any:
    """One input line -> JSON value (orjson first; the standard parser says why when orjson refuses)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Reject("invalid_utf8", str(exc)) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise Reject("too_deep", "nesting exceeds the parser's limit") from None
    except ValueError as exc:
        raise Reject("invalid_json", str(exc)) from None


def latest_allowed(now: datetime | None = None) -> str:
    return ((now or datetime.now(UTC)) + FUTURE_SLACK).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(item: Payload) -> dict[str, Any]:
    try:
        return record_from_v2(item.payload) if item.kind == "v2" else record_from_v1(item.payload)
    except RecordError as exc:
        raise Reject(exc.reason, exc.detail) from None
    except RecursionError:
        raise Reject("too_deep") from None
    except Exception as exc:  # hostile shapes: AttributeError, TypeError, IndexError, ...
        raise Reject(f"unreadable_payload:{type(exc).__name__}", str(exc)) from None


def convert(item: Payload, latest: str) -> Converted:
    """A storable record for one payload, or Reject; ``latest`` is the newest acceptable ``created_at``."""
    record = _record(item)
    try:
        record = storable(validate_record(record))
    except RecordError as exc:
        raise Reject(exc.reason, exc.detail) from None
    created = record["created_at"]
    if created < FIRST_TWEET:
        raise Reject("created_at_out_of_range", f"{created} is before X existed ({FIRST_TWEET})")
    if created > latest:
        raise Reject("created_at_out_of_range", f"{created} is in the future")
    try:
        line = dumps_record(record)
        original = orjson.dumps(item.original)
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError, orjson.JSONEncodeError) as exc:
        raise Reject("unencodable", type(exc).__name__) from None
    if len(line) + 64 > MAX_RECORD_BYTES:
        raise Reject("oversize_record", f"{len(line)} bytes > {MAX_RECORD_BYTES}")
    return Converted(record["id"], created, line, original)


def with_delivery(record: bytes, run: str, seq: int) -> bytes:
    """The record line with ``"delivery"`` last, exactly as the streamer writes it (``lib.ledger`` reads it)."""
    return record[:-2] + b',"delivery":{"run":"' + run.encode() + b'","seq":' + str(seq).encode() + b"}}\n"


def raw_text(value: Any) -> str:
    """A bounded, always-writable text form of a rejected input."""
    if isinstance(value, bytes):
        text = value[:RAW_KEPT].decode("utf-8", "backslashreplace")
    else:
        try:
            text = json.dumps(value, default=repr)[:RAW_KEPT]
        except (RecursionError, ValueError, TypeError):
            text = f"<unserializable {type(value).__name__}>"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# One result per tweet (or per unreadable input unit), small and picklable for worker processes:
# ("ok", number, Converted) or ("reject", number, reason, detail, raw text).
Result = tuple[Any, ...]


def convert_all(number: int, payloads: Any, latest: str, raw: bytes | None = None) -> list[Result]:
    """Every payload of one input unit converted; a unit that fails to expand is one reject."""
    out: list[Result] = []
    try:
        for item in payloads:
            try:
                out.append(("ok", number, convert(item, latest)))
            except Reject as exc:
                out.append(("reject", number, exc.reason, exc.detail, raw_text(item.original)))
    except Mismatch as exc:
        out.append(("reject", number, exc.reason, exc.detail, raw_text(raw)))
    except Exception as exc:  # a unit whose shape breaks the expander is that unit's problem
        out.append(("reject", number, f"unreadable_payload:{type(exc).__name__}", str(exc)[:200], raw_text(raw)))
    return out
