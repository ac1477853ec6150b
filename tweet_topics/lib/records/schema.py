"""The record's schema: its fields and their JSON types, validation of decoded records, and the NDJSON form.

Kept apart from the payload parsers so that readers of NDJSON (the combine) need nothing of X's payload shapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

SCHEMA_VERSION = 1

# Field name -> JSON type accepted in a record. ``None`` is allowed for every field not in REQUIRED_FIELDS.
RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "id": str,
    "created_at": str,
    "lang": str,
    "text": str,
    "clean_text": str,
    "is_retweet": bool,
    "retweeted_id": str,
    "quoted_id": str,
    "in_reply_to_id": str,
    "in_reply_to_user_id": str,
    "in_reply_to_screen_name": str,
    "conversation_id": str,
    "source": str,
    "author_id": str,
    "user_name": str,
    "user_screen_name": str,
    "user_followers": int,
    "user_friends": int,
    "user_listed": int,
    "user_statuses": int,
    "user_favourites": int,
    "user_verified": bool,
    "user_protected": bool,
    "user_joined": str,
    "user_location": str,
    "retweet_count": int,
    "reply_count": int,
    "like_count": int,
    "quote_count": int,
    "urls": list,
    "hashtags": list,
    "mentions": list,
    "num_urls": int,
    "num_hashtags": int,
    "num_mentions": int,
    "place_id": str,
    "place_full_name": str,
    "place_country": str,
    "place_country_code": str,
    "coords_lon": (float, int),
    "coords_lat": (float, int),
}
REQUIRED_FIELDS = ("schema_version", "id", "created_at", "text", "author_id")
LIST_FIELDS = ("urls", "hashtags", "mentions")

# v1.1 (and the reference's legacy lines) write times like ``Fri Dec 31 19:58:56 +0000 2021``.
V1_TIME = "%a %b %d %H:%M:%S %z %Y"


class RecordError(ValueError):
    """A payload or line that cannot become a record; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def normalize_time(value: str | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` from either v2 (``2021-03-23T16:20:00.000Z``) or v1.1 time strings."""
    if value is None or value == "" or value == "None":
        return None
    try:
        if value[:4].isdigit():
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            parsed = datetime.strptime(value, V1_TIME)
    except ValueError as exc:
        raise RecordError("bad_created_at", value[:40]) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_record(obj: Any) -> dict[str, Any]:
    """Check a decoded NDJSON record; return it with every known field present, or raise RecordError."""
    if not isinstance(obj, dict):
        raise RecordError("not_an_object")
    version = obj.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RecordError("unsupported_schema_version", str(version))
    for name in REQUIRED_FIELDS:
        if obj.get(name) in (None, ""):
            raise RecordError(f"missing_field:{name}")
    out = {}
    for name, kind in RECORD_FIELDS.items():
        value = obj.get(name)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise RecordError(f"bad_type:{name}", type(value).__name__)
        out[name] = value
    if not out["id"].isdigit():
        raise RecordError("bad_type:id", "not a numeric id")
    for name in LIST_FIELDS:
        if out[name] is None:
            out[name] = []
    return out


def dumps_record(record: Mapping[str, Any]) -> bytes:
    """One NDJSON line, newline included (Firehose concatenates records unchanged)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
