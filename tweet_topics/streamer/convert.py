"""Payload -> NDJSON record, where no input can raise: anything that cannot become a valid record is a reject.

The parsers in ``lib.record_payloads`` assume X's shapes; a hostile payload (a number where an object belongs,
a lone surrogate, a 100k-deep array) makes them raise anything. Here every failure becomes a :class:`Reject`
with a short reason, the built record is validated the way the combine will read it, and a record that Firehose
would refuse (over 1,000 KiB) is a reject too - never an exception that stops the stream.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

from tweet_topics.lib.records import RecordError, dumps_record, record_from_payload, validate_record
from tweet_topics.lib.records.fast import v2_record_line
from tweet_topics.lib.records.storable import storable

MAX_RECORD_BYTES = 1000 * 1024  # Firehose's per-record limit
MAX_LINE_BYTES = 8 * 1024 * 1024  # a source line longer than this is not parsed at all
RAW_KEPT = 64 * 1024  # how much of a rejected input the rejects file keeps
# One converted message: ``(line, created_at, "")``, or ``(None, reason, detail)`` for a reject (plain tuples: they
# cross a process boundary, see ``streamer.convert_pool``).
Converted: TypeAlias = tuple[bytes | None, str, str]


class Reject(Exception):
    """An input that cannot become a record; ``reason`` is a short code (``invalid_json``, ``bad_type:text``…)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail[:500]


def parse_line(raw: bytes) -> Any:
    """One source line (replay file, stream message) -> its JSON value; raises :class:`Reject`."""
    if len(raw) > MAX_LINE_BYTES:
        raise Reject("oversize_line", f"{len(raw)} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Reject("invalid_utf8", str(exc)) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise Reject("too_deep", "nesting exceeds the parser's limit") from None
    except ValueError as exc:
        raise Reject("invalid_json", str(exc)) from None


def to_record(payload: Any, run: str, seq: int) -> tuple[bytes, str]:
    """``(ndjson line, created_at)`` for one payload, carrying ``delivery`` = run id + sequence number."""
    try:
        record = record_from_payload(payload)
    except RecordError as exc:
        raise Reject(exc.reason, exc.detail) from None
    except RecursionError:
        raise Reject("too_deep") from None
    except Exception as exc:  # hostile shapes: AttributeError, TypeError, IndexError, …
        raise Reject(f"unreadable_payload:{type(exc).__name__}", str(exc)) from None
    try:
        # The same gate the combine applies: a record the CSV could not hold is a reject here, with its reason.
        record = storable(validate_record(record))
    except RecordError as exc:
        raise Reject(exc.reason, exc.detail) from None
    except Exception as exc:  # a value no check foresaw is this message's problem, never the stream's
        raise Reject(f"unstorable:{type(exc).__name__}", str(exc)) from None
    record["delivery"] = {"run": run, "seq": seq}  # last, in this key order: lib.ledger.DELIVERY_PATTERN
    try:
        line = dumps_record(record)
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError) as exc:
        raise Reject("unencodable", type(exc).__name__) from None
    if len(line) > MAX_RECORD_BYTES:
        raise Reject("oversize_record", f"{len(line)} bytes > {MAX_RECORD_BYTES}")
    return line, record["created_at"]


def raw_to_record(raw: bytes, run: str, seq: int) -> tuple[bytes, str]:
    """``to_record(parse_line(raw), …)`` for a message as received: the common v2 message takes the fast path
    (``lib.records.fast``, the same bytes), anything else the general one; raises :class:`Reject`."""
    fast = v2_record_line(raw, run, seq) if len(raw) <= MAX_LINE_BYTES else None
    return fast if fast is not None else to_record(parse_line(raw), run, seq)


def conversion_failure(exc: Exception) -> tuple[str, str]:
    """Reason and detail for a message whose conversion raised something other than Reject (a defect of ours)."""
    return f"conversion_failed:{type(exc).__name__}", str(exc)[:500]


def convert_chunk(raws: list[bytes], run: str, first_seq: int) -> list[Converted]:
    """``raw_to_record`` of consecutive messages numbered from ``first_seq``, rejects as values; never raises."""
    out: list[Converted] = []
    for seq, raw in enumerate(raws, start=first_seq):
        try:
            line, created_at = raw_to_record(raw, run, seq)
        except Reject as exc:
            out.append((None, exc.reason, exc.detail))
        except Exception as exc:  # a defect of ours on one message must not stop the stream: it is rejected
            out.append((None, *conversion_failure(exc)))
        else:
            out.append((line, created_at, ""))
    return out


def raw_text(value: Any) -> str:
    """A bounded, always-writable text form of a rejected input for the rejects file."""
    if isinstance(value, bytes):
        text = value[:RAW_KEPT].decode("utf-8", "backslashreplace")
    else:
        try:
            text = json.dumps(value, default=repr)[:RAW_KEPT]
        except (RecursionError, ValueError, TypeError):
            text = f"<unserializable {type(value).__name__}>"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
