"""Where tweets come from: the X API v2 filtered stream (tweepy), a replay file, or the synthetic generator.

Every source yields :class:`Item` (the live source: lists of them, what is waiting): a payload, or the reason a
line could not be read (with the raw line, so the runner counts and keeps it instead of dropping it), plus its
``position`` (the synthetic sequence number or the replay line) for resuming. Every source ends promptly once
``stop`` is set; the live source then hands over what X already sent (its queue is drained) before it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.streamer.convert import Reject, parse_line
from tweet_topics.streamer.handover import Handover

RULE_MAX_LENGTH = 512  # X API v2 filtered stream rule length (Basic/Pro tiers)
LIVE_QUEUE = 5_000  # stream messages held between tweepy's thread and the main loop (drained within the budget)
SOURCE_CHUNK = 250  # messages the live source hands on at once (what is waiting, up to this)
DRAIN_WAIT = 3.0  # seconds the live source waits for tweepy's thread to hand over its last messages


class Item(NamedTuple):
    payload: Any  # the parsed JSON value (None when ``error`` is set, or when only ``raw`` is given)
    error: tuple[str, str] | None = None  # (reason, detail) when the input could not be read
    raw: bytes | None = None  # the input as received: unparsed (the loop converts it) or, with ``error``, kept
    position: int = 0  # synthetic: tweets from the sequence's start through this one; replay: line number
    complete: bool = True  # the last item of its position (a replay line can hold a page of tweets)


def synthetic_source(
    count: int,
    rate: float | None = None,
    seed: int = 7,
    skip: int = 0,
    origin: datetime | None = None,
    stop: threading.Event | None = None,
) -> Iterator[Item]:
    """Generated v2 payloads number ``skip`` .. ``skip + count - 1`` of a deterministic sequence.

    Tweet ``i`` is created at ``origin + i / rate`` (10 ms apart when unpaced), so a restarted streamer that
    resumes at ``skip`` continues the very same sequence of ids: no gaps, no repeats.
    """
    stop = stop or threading.Event()
    generator = TweetGenerator(seed=seed)
    origin = origin or datetime.now(UTC)
    step = timedelta(seconds=1 / rate) if rate else timedelta(milliseconds=10)
    start = datetime.now(UTC).timestamp()
    for i in range(skip):
        generator.tweet(origin + step * i)  # the generator's state depends on every earlier tweet
    for i in range(skip, skip + count):
        if rate:
            delay = start + (i - skip) / rate - datetime.now(UTC).timestamp()
            if delay > 0 and stop.wait(delay):
                return
        if stop.is_set():
            return
        yield Item(generator.tweet(origin + step * i).payload, position=i + 1)


def replay_source(
    path: Path, speed: float | None = None, start_line: int = 0, stop: threading.Event | None = None
) -> Iterator[Item]:
    """Replay NDJSON of v1.1 statuses or v2 payloads; search pages (``data`` is a list) are unrolled.

    Lines are read as bytes: a line that is not UTF-8, not JSON, nested too deep or oversized is an error item
    (a reject), never an exception. ``start_line`` skips lines already delivered (resume). With ``speed``
    (e.g. 10 for 10x), the original gaps between ``created_at`` values are replayed scaled (at most 5 s).
    """
    stop = stop or threading.Event()
    previous: datetime | None = None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if stop.is_set():
                return
            if number <= start_line or not line.strip():
                continue
            try:
                obj = parse_line(line.rstrip(b"\r\n"))
            except Reject as exc:
                yield Item(None, (exc.reason, exc.detail), line.rstrip(b"\r\n"), number)
                continue
            payloads = (
                [{"data": t, "includes": obj.get("includes") or {}} for t in obj["data"]]
                if isinstance(obj, dict) and isinstance(obj.get("data"), list) and obj["data"]
                else [obj]
            )
            for index, payload in enumerate(payloads):
                if speed:
                    moment = _created(payload)
                    if moment is not None:
                        if previous is not None and moment > previous:
                            stop.wait(min((moment - previous).total_seconds() / speed, 5.0))
                        previous = moment
                yield Item(payload, position=number, complete=index == len(payloads) - 1)


def _created(payload: Any) -> datetime | None:
    """The payload's v2 ``created_at`` for pacing, or None whatever is wrong with it."""
    try:
        created = (payload.get("data") or {}).get("created_at")
        return datetime.fromisoformat(created.replace("Z", "+00:00")) if isinstance(created, str) else None
    except (AttributeError, TypeError, ValueError):
        return None


def build_rules(terms: list[str], suffix: str = "lang:en", max_length: int = RULE_MAX_LENGTH) -> list[str]:
    """Pack track terms into as few rules as fit the length limit: ``(a OR "b c" …) lang:en``."""
    rules: list[str] = []
    current: list[str] = []
    tail = f" {suffix}" if suffix else ""

    def render(parts: list[str]) -> str:
        return f"({' OR '.join(parts)}){tail}"

    for term in terms:
        quoted = f'"{term}"' if " " in term else term
        if len(render([quoted])) > max_length:
            raise ValueError(f"track term {term!r} alone exceeds the {max_length}-character rule limit")
        if current and len(render([*current, quoted])) > max_length:
            rules.append(render(current))
            current = []
        current.append(quoted)
    if current:
        rules.append(render(current))
    return rules


def sync_rules(client: Any, wanted: list[str], tag: str = "tweet_topics") -> dict[str, int]:
    """Make the stream's rules exactly ``wanted``: add missing, delete stale (tweepy StreamingClient)."""
    import tweepy

    existing = client.get_rules().data or []
    current = {rule.value: rule.id for rule in existing}
    stale = [rule_id for value, rule_id in current.items() if value not in wanted]
    missing = [value for value in wanted if value not in current]
    if stale:
        client.delete_rules(stale)
    if missing:
        client.add_rules([tweepy.StreamRule(value=value, tag=tag) for value in missing])
    return {"added": len(missing), "deleted": len(stale), "kept": len(current) - len(stale)}


def x_source(
    bearer_token: str, rules: list[str], stop: threading.Event, offered: Callable[[], None] | None = None
) -> Iterator[list[Item]]:
    """The X API v2 filtered stream with the expansions our record needs.

    tweepy's StreamingClient reconnects with the backoff X documents (linear for network errors,
    exponential for HTTP errors, longer for 429), so we add no sleeps of our own. On ``stop`` the stream is
    disconnected and every message already received is still yielded (the queue is drained) before the end.
    Messages are yielded in chunks (what is waiting, up to ``SOURCE_CHUNK``), not one at a time.
    ``offered()`` is called for every message tweepy hands to ``on_data``, so what never left the queue is counted.
    """
    import tweepy

    items: Handover[Item] = Handover(LIVE_QUEUE)

    class _Client(tweepy.StreamingClient):
        def on_data(self, raw_data: bytes) -> None:
            if offered is not None:
                offered()
            items.put(Item(None, raw=bytes(raw_data)))  # parsed with its conversion, in one step (convert.py)

    client = _Client(bearer_token, wait_on_rate_limit=True, daemon=True)
    sync_rules(client, rules)
    thread = client.filter(
        expansions=["author_id", "referenced_tweets.id", "in_reply_to_user_id", "geo.place_id"],
        tweet_fields=[
            "created_at",
            "lang",
            "entities",
            "public_metrics",
            "referenced_tweets",
            "conversation_id",
            "in_reply_to_user_id",
            "source",
            "geo",
            "note_tweet",
        ],
        user_fields=["username", "name", "created_at", "location", "verified", "protected", "public_metrics"],
        place_fields=["full_name", "country", "country_code"],
        threaded=True,
    )
    try:
        while not stop.is_set():
            chunk, _ = items.take(SOURCE_CHUNK, timeout=0.2)
            if chunk:
                yield chunk
        client.disconnect()  # tweepy's thread hands over at most the message it is reading
        if thread is not None:
            thread.join(timeout=DRAIN_WAIT)
        while True:
            chunk, _ = items.take(SOURCE_CHUNK, timeout=0.0)
            if not chunk:
                return
            yield chunk
    finally:
        client.disconnect()
