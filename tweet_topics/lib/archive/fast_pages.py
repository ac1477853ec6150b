"""The import's fast path for twarc2 pages and twarc2-flat lines: the streamer's msgspec conversion, per tweet.

A page is decoded once (orjson) and expanded by the general path's own expander (``formats.twarc2_payloads`` /
``flat_payload``), so each tweet's payload and original are the general path's objects. The original is encoded
once (orjson, as ``convert`` does) and, for a twarc2 page, those same bytes are the stream message
``{"data": ..., "includes": ...}`` that ``lib.records.fast.v2_record_line`` turns into the record line: msgspec
structs in C, byte for byte the general path's line or ``None`` for anything unusual. The archive's own checks
follow (``created_at`` while X existed, the record size); a tweet the fast path does not claim is handed back as its
``Payload``, and the caller converts it on the general path, which names each reject's reason.
"""

from __future__ import annotations

from typing import Any

import orjson

from tweet_topics.lib.archive.convert import FIRST_TWEET, MAX_RECORD_BYTES, Converted
from tweet_topics.lib.archive.formats import Payload, flat_payload, twarc2_payloads
from tweet_topics.lib.records.fast import v2_record_line

FAST_FORMATS = ("twarc2", "twarc2-flat")
_RUN = "fast"  # a placeholder delivery: cut off again below (the import adds the real one when it writes)
_DELIVERY = b',"delivery":{"run":"' + _RUN.encode() + b'","seq":0}}\n'

Claimed = Converted | Payload  # a converted tweet, or a payload left to the general path


def _claim(item: Payload, original: bytes, message: bytes, latest: str) -> Claimed:
    """The tweet converted by the streamer's fast path, or its payload when it is not claimed."""
    made = v2_record_line(message, _RUN, 0)
    if made is None:
        return item
    line, created = made
    if not FIRST_TWEET <= created <= latest or not line.endswith(_DELIVERY):
        return item
    record = line[: -len(_DELIVERY)] + b"}\n"
    if len(record) + 64 > MAX_RECORD_BYTES:
        return item
    return Converted(item.payload["data"]["id"], created, record, original)


def _payloads(fmt: str, obj: Any) -> list[Payload]:
    return list(twarc2_payloads(obj)) if fmt == "twarc2" else [flat_payload(obj)]


def fast_line(fmt: str, data: bytes, latest: str) -> list[Claimed] | None:
    """One input line's tweets in order, each converted or left as its payload; None: the line is the general
    path's (not JSON orjson reads, not the format's shape, anything unusual about the line as a whole)."""
    try:
        obj = orjson.loads(data)
        items = _payloads(fmt, obj)
    except Exception:  # orjson refuses, a mismatch, a hostile shape: the general path says what it is
        return None
    out: list[Claimed] = []
    for item in items:
        tweet = item.payload.get("data")
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            out.append(item)
            continue
        try:
            original = orjson.dumps(item.original)
            message = original if item.payload is item.original else orjson.dumps(item.payload)
        except (orjson.JSONEncodeError, TypeError):
            out.append(item)
            continue
        out.append(_claim(item, original, message, latest))
    return out
