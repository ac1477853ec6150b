"""The common X API v2 stream message straight from its bytes to the NDJSON record line, several times faster.

The general path (``json.loads`` -> ``record_from_v2`` -> ``validate_record`` -> ``storable`` -> ``json.dumps``) walks
dicts in Python three times over and costs most of the streamer's CPU. Here msgspec decodes the message into typed
structs in C (a value of the wrong type fails the decode), the record is built once from them, checked only where
the types leave something open (int64 range, canonical times, a numeric id) and encoded by msgspec, which writes
strings exactly as ``json.dumps(ensure_ascii=False)`` does (tested on every code point).

It only claims what it can prove equal: anything unusual (a decode failure, a time that is not X's own form, a
float that ``repr`` writes with an exponent, an entities object whose keys are all unknown, anything the general
path would reject) returns ``None`` and the caller takes the general path, so the line is byte for byte the same.
"""

from __future__ import annotations

import functools
import re
import sys
from datetime import datetime
from itertools import accumulate
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from tweet_topics.lib.records.entities import (
    clean_text,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    strip_retweet_prefix,
    unescape_x_text,
)
from tweet_topics.lib.records.schema import SCHEMA_VERSION

MAX_RECORD_BYTES = 1000 * 1024  # Firehose's per-record limit: a longer line is the general path's reject
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}\Z")
# X's own time form with a year from 1000 on (strftime writes earlier years unpadded: the general path's business).
_X_TIME = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?Z\Z")

Text = str | None
Count = int | None


class _Metrics(msgspec.Struct):
    followers_count: Count = None
    following_count: Count = None
    listed_count: Count = None
    tweet_count: Count = None
    like_count: Count = None
    retweet_count: Count = None
    reply_count: Count = None
    quote_count: Count = None


class _User(msgspec.Struct):
    id: Text = None
    username: Text = None
    name: Text = None
    created_at: Text = None
    location: Text = None
    verified: bool | None = None
    protected: bool | None = None
    public_metrics: _Metrics | None = None


class _Place(msgspec.Struct):
    id: Text = None
    full_name: Text = None
    country: Text = None
    country_code: Text = None


class _Url(msgspec.Struct):
    expanded_url: Text = None
    url: Text = None


class _Tag(msgspec.Struct):
    tag: Text = None
    text: Text = None


class _Mention(msgspec.Struct):
    username: Text = None
    screen_name: Text = None


class _Entities(msgspec.Struct):
    """X's entity keys; UNSET (falsy) tells a missing key from a null one, so an empty object can be told apart."""

    urls: list[_Url] | UnsetType | None = UNSET
    hashtags: list[_Tag] | UnsetType | None = UNSET
    mentions: list[_Mention] | UnsetType | None = UNSET
    user_mentions: list[_Mention] | UnsetType | None = UNSET
    annotations: Any = UNSET  # not used, but they make the object non-empty
    cashtags: Any = UNSET


class _Note(msgspec.Struct):
    text: Text = None


class _Ref(msgspec.Struct):
    type: Text = None
    id: Text = None


class _Point(msgspec.Struct):
    coordinates: list[float] | None = None


class _Geo(msgspec.Struct):
    place_id: Text = None
    coordinates: _Point | None = None


class _Included(msgspec.Struct):
    """An included (referenced) tweet: only what a retweet's record takes from it."""

    id: Text = None
    text: Text = None
    note_tweet: _Note | None = None
    entities: _Entities | None = None


class _Tweet(msgspec.Struct):
    id: Text = None
    text: Text = None
    created_at: Text = None
    lang: Text = None
    author_id: Text = None
    conversation_id: Text = None
    in_reply_to_user_id: Text = None
    source: Text = None
    note_tweet: _Note | None = None
    entities: _Entities | None = None
    referenced_tweets: list[_Ref] | None = None
    public_metrics: _Metrics | None = None
    geo: _Geo | None = None


class _Includes(msgspec.Struct):
    users: list[_User] | None = None
    tweets: list[_Included] | None = None
    places: list[_Place] | None = None


class _Message(msgspec.Struct):
    data: _Tweet
    includes: _Includes | None = None


_DECODER = msgspec.json.Decoder(_Message)
_ENCODER = msgspec.json.Encoder()
_NO_METRICS, _NO_USER, _NO_PLACE, _NO_GEO = _Metrics(), _User(), _Place(), _Geo()


class _Unusual(Exception):
    """Not the common shape: the general path decides (and says why, if it is a reject)."""


@functools.lru_cache(maxsize=1 << 14)  # a second's tweets share created_at (X sends .000Z), authors their join date
def _time(value: str | None) -> str | None:
    """``normalize_time`` for X's own form (checked as a real date), else the general path."""
    if value is None:
        return None
    if not _X_TIME.match(value):
        raise _Unusual
    datetime(int(value[:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]), int(value[17:19]))
    return value[:19] + "Z"


def _count(value: int | None) -> int | None:
    if value is not None and not INT64_MIN <= value <= INT64_MAX:
        raise _Unusual
    return value


def _coordinate(value: float | None) -> float | None:
    if value is not None and "e" in repr(value):  # json writes 1e-05 where msgspec writes 0.00001 (and inf, nan)
        raise _Unusual
    return value


def _entities(entities: _Entities | None, text: str) -> tuple[list[str], list[str], list[str]]:
    """``payloads._entities_or_text`` on structs; an object with none of X's keys may be ``{}`` (falsy there)."""
    if entities is None:
        return extract_urls(text), extract_hashtags(text), extract_mentions(text)
    urls, tags, mentions, user_mentions = entities.urls, entities.hashtags, entities.mentions, entities.user_mentions
    if all(value is UNSET for value in (urls, tags, mentions, user_mentions, entities.annotations, entities.cashtags)):
        raise _Unusual
    found = [u.expanded_url or u.url for u in urls or ()]
    hashtags = [h.tag or h.text for h in tags or ()]
    names = [m.username or m.screen_name for m in mentions or ()] + [m.screen_name for m in user_mentions or ()]
    return [u for u in found if u], [h for h in hashtags if h], [m for m in names if m]


def _record(message: _Message) -> dict[str, Any]:
    """``record_from_v2`` + ``_finish`` + the checks of ``validate_record`` and ``storable``, on typed structs."""
    tweet, includes = message.data, message.includes
    if not tweet.id or not tweet.text or not tweet.author_id or not _ID.match(tweet.id):
        raise _Unusual
    users = {u.id: u for u in (includes.users if includes else None) or ()}
    tweets = {t.id: t for t in (includes.tweets if includes else None) or ()}
    places = {p.id: p for p in (includes.places if includes else None) or ()}
    refs = {r.type: r.id for r in tweet.referenced_tweets or ()}
    text = (tweet.note_tweet.text if tweet.note_tweet else None) or tweet.text
    entities = tweet.entities
    retweeted = tweets.get(refs.get("retweeted"))
    if retweeted is not None:
        text = (retweeted.note_tweet.text if retweeted.note_tweet else None) or retweeted.text or text
        entities = retweeted.entities
    author = users.get(tweet.author_id) or _NO_USER
    metrics = author.public_metrics or _NO_METRICS
    counts = tweet.public_metrics or _NO_METRICS
    geo = tweet.geo or _NO_GEO
    place = places.get(geo.place_id) or _NO_PLACE
    point = (geo.coordinates.coordinates if geo.coordinates else None) or [None, None]
    if len(point) < 2:
        raise _Unusual
    created_at = _time(tweet.created_at)
    text, had_rt_prefix = strip_retweet_prefix(unescape_x_text(text))
    if not text or created_at is None:
        raise _Unusual
    urls, hashtags, mentions = _entities(entities, text)
    return {
        "schema_version": SCHEMA_VERSION,
        "id": tweet.id,
        "created_at": created_at,
        "lang": tweet.lang,
        "text": text,
        "clean_text": clean_text(text),
        "is_retweet": "retweeted" in refs or had_rt_prefix,
        "retweeted_id": refs.get("retweeted"),
        "quoted_id": refs.get("quoted"),
        "in_reply_to_id": refs.get("replied_to"),
        "in_reply_to_user_id": tweet.in_reply_to_user_id,
        "in_reply_to_screen_name": (users.get(tweet.in_reply_to_user_id) or _NO_USER).username,
        "conversation_id": tweet.conversation_id,
        "source": tweet.source,
        "author_id": tweet.author_id,
        "user_name": author.name,
        "user_screen_name": author.username,
        "user_followers": _count(metrics.followers_count),
        "user_friends": _count(metrics.following_count),
        "user_listed": _count(metrics.listed_count),
        "user_statuses": _count(metrics.tweet_count),
        "user_favourites": _count(metrics.like_count),
        "user_verified": author.verified,
        "user_protected": author.protected,
        "user_joined": _time(author.created_at),
        "user_location": author.location,
        "retweet_count": _count(counts.retweet_count),
        "reply_count": _count(counts.reply_count),
        "like_count": _count(counts.like_count),
        "quote_count": _count(counts.quote_count),
        "urls": urls,
        "hashtags": hashtags,
        "mentions": mentions,
        "num_urls": len(urls),
        "num_hashtags": len(hashtags),
        "num_mentions": len(mentions),
        "place_id": geo.place_id,
        "place_full_name": place.full_name,
        "place_country": place.country,
        "place_country_code": place.country_code,
        "coords_lon": _coordinate(point[0]),
        "coords_lat": _coordinate(point[1]),
    }


# json.loads refuses an integer of more digits than Python's limit (4,300 by default, 0: none).
_MAX_DIGITS = sys.get_int_max_str_digits() or None
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % ((_MAX_DIGITS or 0) + 1))
# Depth of brackets from which json's answer is left to json: its limit is Python's recursion limit (1,000) less
# the caller's stack, msgspec's a few levels more; 800 leaves a caller 200 frames.
MAX_NESTING = 800
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string, escapes included (unrolled: no per-byte branch)


_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [1 if b in b"[{" else -1 for b in range(256)]


def _nesting(raw: bytes) -> int:
    """Deepest bracket nesting of a JSON text, strings left out (brackets in them do not nest)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _json_reads_alike(raw: bytes) -> bool:
    """False where msgspec would read a message Python's json refuses: msgspec skips the fields it does not map
    without checking them, so bytes that are no UTF-8 there, an integer past Python's digit limit or nesting near
    the recursion limit would pass here and be rejected by the general path."""
    if not raw.isascii():  # ASCII is UTF-8 (a word-at-a-time check, 5x cheaper than decoding)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
    # A depth of n takes 2n bytes and n opening brackets: the counts only for messages long enough.
    deep = len(raw) >= 2 * MAX_NESTING and raw.count(b"[") + raw.count(b"{") >= MAX_NESTING
    if deep and _nesting(raw) >= MAX_NESTING:
        return False
    return _MAX_DIGITS is None or len(raw) <= _MAX_DIGITS or not _LONG_DIGITS.search(raw)


def v2_record_line(raw: bytes, run: str, seq: int) -> tuple[bytes, str] | None:
    """``(NDJSON line with "delivery", created_at)`` for a common v2 stream message, or None: use the general path.

    ``run`` must be a ledger run id (``lib.ledger.DELIVERY_PATTERN``: no character that JSON escapes).
    """
    if not _json_reads_alike(raw):
        return None
    try:
        record = _record(_DECODER.decode(raw))
        record["delivery"] = {"run": run, "seq": seq}  # last, in this key order: lib.ledger.DELIVERY_PATTERN
        line = _ENCODER.encode(record) + b"\n"
    except Exception:  # a decode failure, _Unusual, an impossible date: the general path says what it is
        return None
    if len(line) > MAX_RECORD_BYTES:
        return None
    return line, record["created_at"]
