"""Archive formats: detection by content, and each format's input unit -> X payloads ready for ``lib.records``.

A file is one format, detected from its first non-empty line; a later line of another shape is a reject
(``format_mismatch:<format>``), never a guess. Every payload keeps its ``original``: what X sent for that tweet
(the tweet object with the ``includes`` entries it references, or the archive's own element).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tweet_topics.lib.archive.inputs import ArchiveError

FORMATS = ("twarc2", "twarc2-flat", "v1", "x-archive", "csv")
X_ARCHIVE_PREFIX = b"window.YTD."
CSV_REQUIRED = ("id", "text", "created_at")


@dataclass(frozen=True)
class Payload:
    """One tweet to convert: ``kind`` is ``v2`` (record_from_v2) or ``v1`` (record_from_v1)."""

    kind: str
    payload: Mapping[str, Any]
    original: Mapping[str, Any]


class Mismatch(ValueError):
    """A unit whose shape is not the file's format (or no tweet at all); ``reason`` goes to the rejects."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _shape(obj: Any) -> str | None:
    """The format one decoded JSON line belongs to, or None."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("data"), list | dict):
        return "twarc2"
    if "id_str" in obj or isinstance(obj.get("user"), dict):
        return "v1"
    if "id" in obj and "text" in obj and ("author" in obj or "author_id" in obj or "edit_history_tweet_ids" in obj):
        return "twarc2-flat"
    return None


def detect(name: str, number: int, first: bytes) -> str:
    """The format of a file from its first non-empty line; ArchiveError naming file and line when none fits."""
    stripped = first.lstrip(b"\xef\xbb\xbf \t")
    if stripped.startswith(X_ARCHIVE_PREFIX):
        return "x-archive"
    if stripped.startswith(b"{"):
        try:
            shape = _shape(json.loads(stripped))
        except (ValueError, RecursionError):
            raise ArchiveError(f"{name}:{number}: no known format fits: the first line is not valid JSON") from None
        if shape:
            return shape
        raise ArchiveError(
            f"{name}:{number}: no known format fits: a JSON object that is no twarc2 page, twarc2 tweet or v1.1 status"
        )
    header = stripped.decode("utf-8", "replace").strip().lower().split(",")
    if all(column.strip('"') in {h.strip('"') for h in header} for column in CSV_REQUIRED):
        return "csv"
    raise ArchiveError(f"{name}:{number}: no known format fits (expected {', '.join(FORMATS)}): {stripped[:60]!r}")


class Includes:
    """A page's ``includes`` indexed once, so each tweet's referenced entries cost a few lookups, not a scan."""

    def __init__(self, includes: Mapping[str, Any]) -> None:
        def index(name: str) -> dict[Any, Any]:
            return {e.get("id"): e for e in includes.get(name) or [] if isinstance(e, dict)}

        self.users, self.tweets, self.places = index("users"), index("tweets"), index("places")

    def referenced(self, tweet: Mapping[str, Any]) -> dict[str, list[Any]]:
        """The entries one tweet refers to: its author, reply user, referenced tweets and their authors, place."""
        refs = [self.tweets[r.get("id")] for r in tweet.get("referenced_tweets") or [] if r.get("id") in self.tweets]
        # In this order, without repeats (a set's order changes from one process to the next, and so would the original)
        user_ids = dict.fromkeys(
            [tweet.get("author_id"), tweet.get("in_reply_to_user_id"), *(t.get("author_id") for t in refs)]
        )
        geo = tweet.get("geo") if isinstance(tweet.get("geo"), dict) else {}
        out = {
            "users": [self.users[u] for u in user_ids if u in self.users],
            "tweets": refs,
            "places": [self.places[geo["place_id"]]] if geo.get("place_id") in self.places else [],
        }
        return {k: v for k, v in out.items() if v}


def twarc2_payloads(obj: Any) -> Iterator[Payload]:
    """A twarc2 response page (``data`` a list) or one stream message (``data`` an object)."""
    if _shape(obj) != "twarc2":
        raise Mismatch("format_mismatch:twarc2", "not a page with data")
    index = Includes(obj.get("includes") if isinstance(obj.get("includes"), dict) else {})
    tweets = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
    for tweet in tweets:
        if not isinstance(tweet, dict):
            yield Payload("v2", {"data": tweet}, {"data": tweet})
            continue
        # The referenced entries are all record_from_v2 reads, so they are the payload too (not the page's whole
        # includes, which record_from_v2 would index again for every tweet).
        payload = {"data": tweet, "includes": index.referenced(tweet)}
        yield Payload("v2", payload, payload)


def flat_payload(obj: Any) -> Payload:
    """A twarc2 flattened tweet: ``author``, ``in_reply_to_user``, referenced tweets and place embedded."""
    if _shape(obj) != "twarc2-flat":
        raise Mismatch("format_mismatch:twarc2-flat", "not a flattened tweet")
    refs = [r for r in obj.get("referenced_tweets") or [] if isinstance(r, dict) and "text" in r]
    users = [obj.get("author"), obj.get("in_reply_to_user"), *(r.get("author") for r in refs)]
    geo = obj.get("geo") if isinstance(obj.get("geo"), dict) else {}
    includes = {
        "users": [u for u in users if isinstance(u, dict)],
        "tweets": refs,
        "places": [geo["place"]] if isinstance(geo.get("place"), dict) else [],
    }
    return Payload("v2", {"data": obj, "includes": includes}, obj)


def v1_payload(obj: Any) -> Payload:
    if _shape(obj) != "v1":
        raise Mismatch("format_mismatch:v1", "not a v1.1 status")
    return Payload("v1", obj, obj)


LINE_FORMATS = {
    "twarc2": twarc2_payloads,
    "twarc2-flat": lambda o: iter([flat_payload(o)]),
    "v1": lambda o: iter([v1_payload(o)]),
}


def _int(value: Any) -> Any:
    """The archive writes counts as strings (``"favorite_count" : "3"``)."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def x_archive_payload(element: Any, account: Mapping[str, Any]) -> Payload:
    """One ``tweets.js`` element (``{"tweet": {...}}``) as a v1.1 status, its author from ``account.js``."""
    tweet = element.get("tweet") if isinstance(element, dict) else None
    if not isinstance(tweet, dict):
        raise Mismatch("format_mismatch:x-archive", "element without a tweet object")
    status = {k: _int(v) if k.endswith("_count") else v for k, v in tweet.items()}
    status["id_str"] = status.get("id_str") or status.get("id")
    status["user"] = {
        "id_str": account.get("accountId"),
        "screen_name": account.get("username"),
        "name": account.get("accountDisplayName"),
        "created_at": account.get("createdAt"),
    }
    return Payload("v1", status, element)


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[parts[-1]] = value


def _cell(value: str) -> Any:
    """twarc-csv cells: JSON lists/objects (entities), integers, booleans, or text; empty is absent."""
    if value == "":
        return None
    if value[0] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("True", "False", "true", "false"):
        return value.lower() == "true"
    return value


COUNT_COLUMNS = ("public_metrics.", "author.public_metrics.")


def csv_payload(row: Mapping[str, str]) -> Payload:
    """One twarc-csv row (dotted column names) as a v2 payload; ``referenced_tweets.<type>.id`` become refs."""
    tweet: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None or column.startswith("__twarc"):
            continue
        value = _cell(raw or "")
        if value is None:
            continue
        if column.startswith(COUNT_COLUMNS) and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        _set(tweet, column, value)
    refs = tweet.pop("referenced_tweets", None) or {}
    if isinstance(refs, dict):
        tweet["referenced_tweets"] = [
            {"type": kind, "id": str(ref.get("id"))}
            for kind, ref in refs.items()
            if isinstance(ref, dict) and ref.get("id")
        ]
    author = tweet.pop("author", None)
    includes = {"users": [author]} if isinstance(author, dict) else {}
    if isinstance(author, dict) and "author_id" not in tweet:
        tweet["author_id"] = author.get("id")
    return Payload("v2", {"data": tweet, "includes": includes}, dict(row))
