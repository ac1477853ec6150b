"""The import's batch path: records built per tweet, then gated as whole columns by the combine's own fast path.

The per-tweet gate (``storable`` + ``validate_record`` + ``json.dumps``) was 45 % of the conversion. Here each
tweet only becomes a record (``record_from_v2``/``v1``) and an orjson line; a chunk of lines is then handed to
``combine_fast.fast_object``, the vectorized gate the combine applies to the same bytes (explicit Arrow schema,
ids, times, floats, UTF-8, surrogates). A chunk it accepts is exactly what the combine will take on its fast path;
a chunk it refuses, and any tweet whose record cannot be built, goes through ``convert.convert`` one tweet at a
time, which gives each reject its reason. So the results are the per-tweet path's, in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import orjson

from tweet_topics.lib.archive.convert import (
    FIRST_TWEET,
    MAX_RECORD_BYTES,
    Converted,
    Reject,
    Result,
    convert,
    raw_text,
)
from tweet_topics.lib.archive.fast import record_from_v1, record_from_v2
from tweet_topics.lib.archive.formats import Mismatch, Payload
from tweet_topics.lib.combine_fast import fast_object
from tweet_topics.lib.records.storable import FLOAT_FIELDS

CHUNK = 2000  # records gated at once: a refused chunk costs at most this many tweets on the per-tweet path
Unit = tuple[int, Iterator[Payload], Any]  # (input line number, its payloads, the raw unit for a reject)


class _Staged(NamedTuple):
    slot: int
    number: int
    item: Payload
    record: dict[str, Any]


def one_tweet(number: int, item: Payload, latest: str) -> Result:
    """The per-tweet path: a converted tweet or its reject with the reason."""
    try:
        return ("ok", number, convert(item, latest))
    except Reject as exc:
        return ("reject", number, exc.reason, exc.detail, raw_text(item.original))


def _record(item: Payload) -> dict[str, Any] | None:
    """The record, or None when building it fails (the per-tweet path then says why)."""
    try:
        return record_from_v2(item.payload) if item.kind == "v2" else record_from_v1(item.payload)
    except Exception:  # any failure is re-run on the per-tweet path, which names it
        return None


def _numbers_alike(record: dict[str, Any]) -> bool:
    """Whether orjson writes the record's numbers as the per-tweet path does: it writes NaN and infinity as null
    (the per-tweet path refuses them), and exponent floats and integer coordinates in forms of its own (the
    per-tweet path writes Python's float form); such a tweet goes the per-tweet way."""
    for name in FLOAT_FIELDS:
        value = record.get(name)
        if value is not None and type(value) is not float:
            return False  # an int (or bool) coordinate: storable makes it a float, or refuses it
    if float not in map(type, record.values()):  # the common case, decided in C
        return True
    return all(math.isfinite(v) and "e" not in repr(v) for v in record.values() if type(v) is float)


def _settle(out: list[Result | None], staged: list[_Staged], latest: str) -> None:
    """Fill the staged slots: a chunk the vectorized gate accepts whole is converted; the rest one by one."""
    for start in range(0, len(staged), CHUNK):
        chunk = staged[start : start + CHUNK]
        lines: list[bytes] = []
        originals: list[bytes] = []
        try:
            for entry in chunk:
                created = entry.record["created_at"]
                line = orjson.dumps(entry.record, option=orjson.OPT_APPEND_NEWLINE)
                if not FIRST_TWEET <= created <= latest or len(line) + 64 > MAX_RECORD_BYTES:
                    raise ValueError("out of range")
                lines.append(line)
                originals.append(orjson.dumps(entry.item.original))
            accepted = fast_object("", b"".join(lines)) is not None
        except (orjson.JSONEncodeError, TypeError, ValueError):
            accepted = False
        for index, entry in enumerate(chunk):
            if accepted:
                converted = Converted(entry.record["id"], entry.record["created_at"], lines[index], originals[index])
                out[entry.slot] = ("ok", entry.number, converted)
            else:
                out[entry.slot] = one_tweet(entry.number, entry.item, latest)


def convert_units(units: Iterable[Unit], latest: str) -> list[Result]:
    """Every payload of every unit converted, in order; a unit that fails to expand is one reject (as
    ``convert.convert_all``, whose results these are)."""
    out: list[Result | None] = []
    staged: list[_Staged] = []
    for number, payloads, raw in units:
        try:
            for item in payloads:
                record = _record(item)
                if record is None or not _numbers_alike(record):
                    out.append(one_tweet(number, item, latest))
                else:
                    staged.append(_Staged(len(out), number, item, record))
                    out.append(None)
        except Mismatch as exc:
            out.append(("reject", number, exc.reason, exc.detail, raw_text(raw)))
        except Exception as exc:  # a unit whose shape breaks the expander is that unit's problem
            out.append(("reject", number, f"unreadable_payload:{type(exc).__name__}", str(exc)[:200], raw_text(raw)))
    _settle(out, staged, latest)
    return [result for result in out if result is not None]
