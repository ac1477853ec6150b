"""The reference system's legacy TAB-separated records (53 fields): migration into records, and back for fixtures.

The reference stored X's text as X sent it, HTML-escaped; reading unescapes it like the payload parsers do, and
writing escapes it again, so a record survives the round trip unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tweet_topics.lib.records.entities import clean_text, escape_x_text, unescape_x_text
from tweet_topics.lib.records.schema import SCHEMA_VERSION, V1_TIME, RecordError, normalize_time

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
    """The reference wrote a missing value as an empty field or as ``None``."""
    return None if value in ("", "None") else value


def _int(value: str, name: str) -> int | None:
    """A count, or None when missing; anything else is a malformed line, not a zero."""
    value = value.strip()
    if value in ("", "None"):
        return None
    if not value.lstrip("-").isdigit():
        raise RecordError(f"bad_type:{name}", value[:20])
    return int(value)


def _bool(value: str) -> bool | None:
    """Python's ``True``/``False`` as the reference printed them; anything else is unknown."""
    return {"True": True, "False": False}.get(value.strip())


def _float(value: str) -> float | None:
    """A coordinate, or None when missing or unreadable (coordinates are optional)."""
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
    text = unescape_x_text(row["text"].strip())
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
        created_at=created.strftime(V1_TIME),
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
        text=escape_x_text(record["text"]),
    )
    return "\t".join(values[name] for name in LEGACY_FIELDS) + "\t\n"
