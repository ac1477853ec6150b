"""The last gate before a record becomes a CSV/parquet row: every value must be one the files can hold.

A valid JSON record can still break the files or the next asset: an id too big for int64, a list element that
is not a string, a lone surrogate that cannot be encoded as UTF-8, a time with an offset that would be bucketed
by string comparison, a 30 MB line. Each becomes a RecordError with a reason, so the line is quarantined and
the hour goes on.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from tweet_topics.lib.records import LIST_FIELDS, RecordError, normalize_time

MAX_LINE_BYTES = 1000 * 1024  # Firehose's record limit; a longer line is no tweet
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CANONICAL_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ASCII_ID = re.compile(r"^[0-9]{1,19}\Z")
TIME_FIELDS = ("created_at", "user_joined")
FLOAT_FIELDS = ("coords_lon", "coords_lat")
MAX_FLOAT = 1e300  # beyond this a float is no coordinate (and JSON integers that large lose their meaning)


def _check_text(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError(f"invalid_unicode:{name}", "lone surrogate") from None


def _canonical_time(value: str) -> str:
    """The time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), parsed - a well-shaped ``2026-02-30T…`` is no date."""
    if CANONICAL_TIME.match(value):
        # Raises ValueError for impossible dates, as strptime(CANONICAL_FORMAT) would, at a tenth of its cost.
        datetime(
            int(value[:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]), int(value[17:19])
        )
        return value
    normalized = normalize_time(value)
    if normalized is None or not CANONICAL_TIME.match(normalized):
        raise ValueError(value)
    return normalized


def storable(record: dict[str, Any]) -> dict[str, Any]:
    """Return ``record`` with times normalized to UTC ``...Z``, or raise RecordError naming the field."""
    if not isinstance(record.get("id"), str) or not ASCII_ID.match(record["id"]):
        raise RecordError("bad_type:id", "not an ASCII numeric id of at most 19 digits")
    for name, value in record.items():
        if isinstance(value, bool) and name in FLOAT_FIELDS:
            raise RecordError(f"bad_type:{name}", "a coordinate is a number, not true/false")
        if isinstance(value, bool) or value is None:
            continue
        if name in FLOAT_FIELDS and isinstance(value, int):
            if not -MAX_FLOAT <= value <= MAX_FLOAT:  # float() of a 310-digit integer raises OverflowError
                raise RecordError(f"out_of_range:{name}", "integer beyond a float")
            value = record[name] = float(value)  # a JSON integer coordinate is a float column
        if isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise RecordError(f"out_of_range:{name}", "outside int64")
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) > MAX_FLOAT:
                raise RecordError(f"out_of_range:{name}", str(value))
        elif isinstance(value, str):
            _check_text(name, value)
        elif isinstance(value, list):
            if name not in LIST_FIELDS or not all(isinstance(v, str) for v in value):
                raise RecordError(f"bad_type:{name}", "list elements must be strings")
            for element in value:
                _check_text(name, element)
    for name in TIME_FIELDS:
        value = record.get(name)
        if value is not None:
            try:
                record[name] = _canonical_time(value)
            except (RecordError, ValueError, OverflowError) as exc:
                if name == "created_at":
                    raise RecordError("bad_created_at", value[:40]) from exc
                record[name] = None  # an unreadable join date is not worth losing the tweet
    return record
