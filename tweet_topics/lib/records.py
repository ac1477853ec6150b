"""The flat, versioned tweet record that travels from the streamer through Firehose to S3.

One record is one JSON object on one line (NDJSON). It is built from an X API v2 filtered-stream payload,
from a v1.1 status (archives), or from the reference system's legacy TAB-separated line (migration).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tweet_topics.lib.entities import (
    clean_text,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    strip_retweet_prefix,
)

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

_V1_TIME = "%a %b %d %H:%M:%S %z %Y"


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
            parsed = datetime.strptime(value, _V1_TIME)
    except ValueError as exc:
        raise RecordError("bad_created_at", value[:40]) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entities_or_text(entities: Mapping[str, Any] | None, text: str) -> tuple[list[str], list[str], list[str]]:
    """URLs, hashtags and mentions from a payload's entities, else extracted from the text."""
    if entities:
        urls = [u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []]
        hashtags = [h.get("tag") or h.get("text") for h in entities.get("hashtags") or []]
        mentions = [m.get("username") or m.get("screen_name") for m in entities.get("mentions") or []]
        mentions += [m.get("screen_name") for m in entities.get("user_mentions") or []]
        return [u for u in urls if u], [h for h in hashtags if h], [m for m in mentions if m]
    return extract_urls(text), extract_hashtags(text), extract_mentions(text)


def _finish(record: dict[str, Any], entities: Mapping[str, Any] | None) -> dict[str, Any]:
    text, had_rt_prefix = strip_retweet_prefix(record["text"])
    record["text"] = text
    record["is_retweet"] = bool(record.get("is_retweet")) or had_rt_prefix
    urls, hashtags, mentions = _entities_or_text(entities, text)
    record.update(
        clean_text=clean_text(text),
        urls=urls,
        hashtags=hashtags,
        mentions=mentions,
        num_urls=len(urls),
        num_hashtags=len(hashtags),
        num_mentions=len(mentions),
    )
    return {name: record.get(name) for name in RECORD_FIELDS}


def record_from_v2(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A record from one v2 stream message: ``{"data": tweet, "includes": {"users": [...], ...}}``.

    A bare tweet object (no ``data`` key) is accepted too, as found in search pages.
    """
    tweet = payload.get("data", payload)
    includes = payload.get("includes") or {}
    if not isinstance(tweet, Mapping):
        raise RecordError("not_a_tweet", "data is not an object")
    for name in ("id", "text"):
        if tweet.get(name) in (None, ""):
            raise RecordError(f"missing_field:{name}")
    users = {u.get("id"): u for u in includes.get("users") or []}
    tweets = {t.get("id"): t for t in includes.get("tweets") or []}
    places = {p.get("id"): p for p in includes.get("places") or []}
    refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or []}

    text = (tweet.get("note_tweet") or {}).get("text") or tweet["text"]
    entities = tweet.get("entities")
    retweeted = tweets.get(refs.get("retweeted"))
    if retweeted is not None:
        # The reference kept the original tweet's full text for retweets; so do we.
        text = (retweeted.get("note_tweet") or {}).get("text") or retweeted.get("text") or text
        entities = retweeted.get("entities")
    author = users.get(tweet.get("author_id")) or {}
    metrics = author.get("public_metrics") or {}
    tweet_metrics = tweet.get("public_metrics") or {}
    reply_user = users.get(tweet.get("in_reply_to_user_id")) or {}
    geo = tweet.get("geo") or {}
    place = places.get(geo.get("place_id")) or {}
    point = (geo.get("coordinates") or {}).get("coordinates") or [None, None]
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": str(tweet["id"]),
        "created_at": normalize_time(tweet.get("created_at")),
        "lang": tweet.get("lang"),
        "text": text,
        "is_retweet": "retweeted" in refs,
        "retweeted_id": refs.get("retweeted"),
        "quoted_id": refs.get("quoted"),
        "in_reply_to_id": refs.get("replied_to"),
        "in_reply_to_user_id": tweet.get("in_reply_to_user_id"),
        "in_reply_to_screen_name": reply_user.get("username"),
        "conversation_id": tweet.get("conversation_id"),
        "source": tweet.get("source"),
        "author_id": tweet.get("author_id") and str(tweet["author_id"]),
        "user_name": author.get("name"),
        "user_screen_name": author.get("username"),
        "user_followers": metrics.get("followers_count"),
        "user_friends": metrics.get("following_count"),
        "user_listed": metrics.get("listed_count"),
        "user_statuses": metrics.get("tweet_count"),
        "user_favourites": metrics.get("like_count"),
        "user_verified": author.get("verified"),
        "user_protected": author.get("protected"),
        "user_joined": normalize_time(author.get("created_at")),
        "user_location": author.get("location"),
        "retweet_count": tweet_metrics.get("retweet_count"),
        "reply_count": tweet_metrics.get("reply_count"),
        "like_count": tweet_metrics.get("like_count"),
        "quote_count": tweet_metrics.get("quote_count"),
        "place_id": geo.get("place_id"),
        "place_full_name": place.get("full_name"),
        "place_country": place.get("country"),
        "place_country_code": place.get("country_code"),
        "coords_lon": point[0],
        "coords_lat": point[1],
    }
    if record["author_id"] is None:
        raise RecordError("missing_field:author_id")
    if record["created_at"] is None:
        raise RecordError("missing_field:created_at")
    return _finish(record, entities)


def record_from_v1(status: Mapping[str, Any]) -> dict[str, Any]:
    """A record from a v1.1 status (``extended_tweet``, ``retweeted_status`` and ``truncated`` handled)."""
    if status.get("id_str") is None and status.get("id") is None:
        raise RecordError("missing_field:id")
    retweeted = status.get("retweeted_status")
    source = retweeted if retweeted else status
    if "extended_tweet" in source:
        text = source["extended_tweet"].get("full_text") or source.get("text")
        entities = source["extended_tweet"].get("entities") or source.get("entities")
    else:
        text = source.get("full_text") or source.get("text")
        entities = source.get("entities")
    if not text:
        raise RecordError("missing_field:text")
    user = status.get("user") or {}
    place = status.get("place") or {}
    coords = (status.get("coordinates") or {}).get("coordinates") or [None, None]
    src = status.get("source") or ""
    source_text = src.split(">", 1)[1].split("<", 1)[0].strip() if ">" in src else src or None
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": str(status.get("id_str") or status.get("id")),
        "created_at": normalize_time(status.get("created_at")),
        "lang": status.get("lang"),
        "text": text,
        "is_retweet": retweeted is not None,
        "retweeted_id": retweeted and str(retweeted.get("id_str") or retweeted.get("id")),
        "quoted_id": status.get("quoted_status_id_str"),
        "in_reply_to_id": status.get("in_reply_to_status_id_str"),
        "in_reply_to_user_id": status.get("in_reply_to_user_id_str"),
        "in_reply_to_screen_name": status.get("in_reply_to_screen_name"),
        "conversation_id": None,
        "source": source_text,
        "author_id": str(user.get("id_str") or user.get("id") or "") or None,
        "user_name": user.get("name"),
        "user_screen_name": user.get("screen_name"),
        "user_followers": user.get("followers_count"),
        "user_friends": user.get("friends_count"),
        "user_listed": user.get("listed_count"),
        "user_statuses": user.get("statuses_count"),
        "user_favourites": user.get("favourites_count"),
        "user_verified": user.get("verified"),
        "user_protected": user.get("protected"),
        "user_joined": normalize_time(user.get("created_at")),
        "user_location": user.get("location"),
        "retweet_count": status.get("retweet_count"),
        "reply_count": status.get("reply_count"),
        "like_count": status.get("favorite_count"),
        "quote_count": status.get("quote_count"),
        "place_id": place.get("id"),
        "place_full_name": place.get("full_name"),
        "place_country": place.get("country"),
        "place_country_code": place.get("country_code"),
        "coords_lon": coords[0],
        "coords_lat": coords[1],
    }
    if record["author_id"] is None:
        raise RecordError("missing_field:author_id")
    if record["created_at"] is None:
        raise RecordError("missing_field:created_at")
    return _finish(record, entities)


def record_from_payload(payload: Any) -> dict[str, Any]:
    """Dispatch on shape: v2 stream message / tweet object, or v1.1 status."""
    if not isinstance(payload, Mapping):
        raise RecordError("not_an_object")
    if "data" in payload or "author_id" in payload or "edit_history_tweet_ids" in payload:
        return record_from_v2(payload)
    if "id_str" in payload or "user" in payload:
        return record_from_v1(payload)
    raise RecordError("unknown_payload_shape", ",".join(sorted(payload)[:8]))


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


# --- the reference system's legacy TAB-separated records (53 fields) ---------------------------------

LEGACY_FIELDS = [
    "id",
    "geo",
    "coordinates",
    "place",
    "contributors",
    "is_quote_status",
    "quote_count",
    "reply_count",
    "retweet_count",
    "favorite_count",
    "favorited",
    "retweeted",
    "created_at",
    "source",
    "in_reply_to_user_id",
    "in_reply_to_screen_name",
    "source_text",
    "place_id",
    "place_url",
    "place_place_type",
    "place_name",
    "place_full_name",
    "place_country_code",
    "place_country",
    "place_bounding_box_type",
    "place_bounding_box_coordinates",
    "place_attributes",
    "coords_type",
    "coords_lon",
    "coords_lat",
    "geo_type",
    "geo_lon",
    "geo_lat",
    "user_name",
    "user_screen_name",
    "user_followers",
    "user_friends",
    "user_listed",
    "user_favourites",
    "user_statuses",
    "user_protected",
    "user_verified",
    "user_contributors_enabled",
    "user_joined",
    "user_location",
    "retweeted_tweet",
    "tweet_text_urls",
    "tweet_text_hashtags",
    "tweet_text_usernames",
    "num_urls_in_tweet_text",
    "num_users_in_tweet_text",
    "num_hashtags_in_tweet_text",
    "text",
]


def _none(value: str) -> str | None:
    return None if value in ("", "None") else value


def _int(value: str, name: str) -> int | None:
    value = value.strip()
    if value in ("", "None"):
        return None
    if not value.lstrip("-").isdigit():
        raise RecordError(f"bad_type:{name}", value[:20])
    return int(value)


def _bool(value: str) -> bool | None:
    return {"True": True, "False": False}.get(value.strip())


def _float(value: str) -> float | None:
    try:
        return float(value) if value not in ("", "None") else None
    except ValueError:
        return None


def record_from_legacy_line(line: str) -> dict[str, Any]:
    """Migrate one legacy ``<53 values joined by TAB>\\t`` line into a record.

    The reference appended an empty 54th value; a line with any other count is malformed (a tab or newline
    inside the text shifted its fields), and is reported as such rather than guessed at.
    """
    values = line.rstrip("\r\n").split("\t")
    if len(values) == len(LEGACY_FIELDS) + 1 and values[-1] == "":
        values.pop()
    if len(values) != len(LEGACY_FIELDS):
        raise RecordError("legacy_field_count", f"{len(values)} values, expected {len(LEGACY_FIELDS)}")
    row = dict(zip(LEGACY_FIELDS, values, strict=True))
    if not row["id"].isdigit():
        raise RecordError("bad_type:id", row["id"][:20])
    if not row["text"].strip():
        raise RecordError("missing_field:text")

    def split(value: str) -> list[str]:
        return [v for v in value.split("|") if v]

    urls, hashtags, mentions = (
        split(row["tweet_text_urls"]),
        split(row["tweet_text_hashtags"]),
        split(row["tweet_text_usernames"]),
    )
    text = row["text"].strip()
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": row["id"],
        "created_at": normalize_time(row["created_at"]),
        "lang": None,
        "text": text,
        "clean_text": clean_text(text),
        "is_retweet": row["retweeted_tweet"] == "yes",
        "retweeted_id": None,
        "quoted_id": None,
        "in_reply_to_id": None,
        "in_reply_to_user_id": _none(row["in_reply_to_user_id"]),
        "in_reply_to_screen_name": _none(row["in_reply_to_screen_name"]),
        "conversation_id": None,
        "source": _none(row["source_text"]),
        "author_id": row["user_screen_name"] or "unknown",
        "user_name": _none(row["user_name"]),
        "user_screen_name": _none(row["user_screen_name"]),
        "user_followers": _int(row["user_followers"], "user_followers"),
        "user_friends": _int(row["user_friends"], "user_friends"),
        "user_listed": _int(row["user_listed"], "user_listed"),
        "user_statuses": _int(row["user_statuses"], "user_statuses"),
        "user_favourites": _int(row["user_favourites"], "user_favourites"),
        "user_verified": _bool(row["user_verified"]),
        "user_protected": _bool(row["user_protected"]),
        "user_joined": normalize_time(row["user_joined"]),
        "user_location": _none(row["user_location"]),
        "retweet_count": _int(row["retweet_count"], "retweet_count"),
        "reply_count": _int(row["reply_count"], "reply_count"),
        "like_count": _int(row["favorite_count"], "favorite_count"),
        "quote_count": _int(row["quote_count"], "quote_count"),
        "urls": urls,
        "hashtags": hashtags,
        "mentions": mentions,
        "num_urls": len(urls),
        "num_hashtags": len(hashtags),
        "num_mentions": len(mentions),
        "place_id": _none(row["place_id"]),
        "place_full_name": _none(row["place_full_name"]),
        "place_country": _none(row["place_country"]),
        "place_country_code": _none(row["place_country_code"]),
        # The reference labelled geo lat/lon the wrong way round; coordinates (GeoJSON lon, lat) are right.
        "coords_lon": _float(row["coords_lon"]),
        "coords_lat": _float(row["coords_lat"]),
    }
    if record["created_at"] is None:
        raise RecordError("missing_field:created_at")
    return record


def legacy_line_from_record(record: Mapping[str, Any]) -> str:
    """Write a record in the reference's TAB layout (for fixtures and migration tests)."""

    def s(value: Any) -> str:
        return "None" if value is None else str(value)

    created = datetime.strptime(record["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    values = {name: "" for name in LEGACY_FIELDS}
    values.update(
        id=record["id"],
        geo="None",
        coordinates="None",
        place="None",
        contributors="None",
        is_quote_status="False",
        quote_count=s(record.get("quote_count") or 0),
        reply_count=s(record.get("reply_count") or 0),
        retweet_count=s(record.get("retweet_count") or 0),
        favorite_count=s(record.get("like_count") or 0),
        favorited="False",
        retweeted="False",
        created_at=created.strftime(_V1_TIME),
        source=f'<a href="https://x.com">{record.get("source") or ""}</a>',
        in_reply_to_user_id=s(record.get("in_reply_to_user_id")),
        in_reply_to_screen_name=s(record.get("in_reply_to_screen_name")),
        source_text=record.get("source") or "",
        place_bounding_box_coordinates="[[]]",
        place_attributes="{}",
        user_name=record.get("user_name") or "",
        user_screen_name=record.get("user_screen_name") or "",
        user_followers=s(record.get("user_followers")),
        user_friends=s(record.get("user_friends")),
        user_listed=s(record.get("user_listed")),
        user_favourites=s(record.get("user_favourites")),
        user_statuses=s(record.get("user_statuses")),
        user_protected=s(record.get("user_protected")),
        user_verified=s(record.get("user_verified")),
        user_contributors_enabled="False",
        user_joined="None",
        user_location=s(record.get("user_location")),
        retweeted_tweet="yes" if record.get("is_retweet") else "no",
        tweet_text_urls="|".join(record.get("urls") or []),
        tweet_text_hashtags="|".join(record.get("hashtags") or []),
        tweet_text_usernames="|".join(record.get("mentions") or []),
        num_urls_in_tweet_text=str(len(record.get("urls") or [])),
        num_users_in_tweet_text=str(len(record.get("mentions") or [])),
        num_hashtags_in_tweet_text=str(len(record.get("hashtags") or [])),
        text=record["text"],
    )
    return "\t".join(values[name] for name in LEGACY_FIELDS) + "\t\n"
