"""Records from X's payloads: an API v2 stream message or tweet object, or a v1.1 status (archives).

Both shapes end in ``_finish``, the one place where X's text is unescaped, stripped of a ``RT @user:`` prefix and,
when the payload has no ``entities`` block, searched for entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tweet_topics.lib.records.entities import (
    clean_text,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    strip_retweet_prefix,
    unescape_x_text,
)
from tweet_topics.lib.records.schema import RECORD_FIELDS, SCHEMA_VERSION, RecordError, normalize_time


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
    """Derive text fields and entities the same way for every payload shape; fields in schema order."""
    text, had_rt_prefix = strip_retweet_prefix(unescape_x_text(record["text"]))
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
