"""Where tweets come from: the X API v2 filtered stream (tweepy), a replay file, or the synthetic generator.

Every source yields ``(payload, None)`` for a parsed payload or ``(None, (line_number, raw, reason))`` for a
line that could not be read, so the runner can count and keep it instead of dropping it.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tweet_topics.lib.synthetic import TweetGenerator

Item = tuple[dict[str, Any] | None, tuple[int, str, str] | None]
RULE_MAX_LENGTH = 512  # X API v2 filtered stream rule length (Basic/Pro tiers)


def synthetic_source(
    count: int, rate: float | None = None, seed: int = 7, skip: int = 0, origin: datetime | None = None
) -> Iterator[Item]:
    """Generated v2 payloads number ``skip`` .. ``skip + count - 1`` of a deterministic sequence.

    Tweet ``i`` is created at ``origin + i / rate`` (10 ms apart when unpaced), so a restarted streamer that
    resumes at ``skip`` continues the very same sequence of ids: no gaps, no repeats.
    """
    generator = TweetGenerator(seed=seed)
    origin = origin or datetime.now(UTC)
    step = timedelta(seconds=1 / rate) if rate else timedelta(milliseconds=10)
    start = time.monotonic()
    for i in range(skip + count):
        tweet = generator.tweet(origin + step * i)
        if i < skip:
            continue
        if rate:
            delay = start + (i - skip) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield tweet.payload, None


def replay_source(path: Path, speed: float | None = None) -> Iterator[Item]:
    """Replay NDJSON of v1.1 statuses or v2 payloads; search pages (``data`` is a list) are unrolled.

    With ``speed`` (e.g. 10 for 10x), the original gaps between ``created_at`` values are replayed scaled.
    """
    previous: datetime | None = None
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield None, (number, line.rstrip("\n"), f"invalid_json: {exc}")
                continue
            payloads = (
                [{"data": t, "includes": obj.get("includes", {})} for t in obj["data"]]
                if isinstance(obj, dict) and isinstance(obj.get("data"), list)
                else [obj]
            )
            for payload in payloads:
                if speed and isinstance(payload, dict):
                    created = (payload.get("data") or {}).get("created_at")
                    if created:
                        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
                        if previous is not None and moment > previous:
                            time.sleep(min((moment - previous).total_seconds() / speed, 5.0))
                        previous = moment
                yield payload, None


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


def x_source(bearer_token: str, rules: list[str], stop: threading.Event) -> Iterator[Item]:
    """The X API v2 filtered stream with the expansions our record needs.

    tweepy's StreamingClient reconnects with the backoff X documents (linear for network errors,
    exponential for HTTP errors, longer for 429), so we add no sleeps of our own.
    """
    import tweepy

    items: queue.Queue[Item] = queue.Queue(maxsize=10_000)

    class _Client(tweepy.StreamingClient):
        def on_data(self, raw_data: bytes) -> None:
            try:
                items.put((json.loads(raw_data), None))
            except ValueError as exc:
                items.put((None, (0, raw_data.decode("utf-8", "replace"), f"invalid_json: {exc}")))

    client = _Client(bearer_token, wait_on_rate_limit=True)
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
            try:
                yield items.get(timeout=0.5)
            except queue.Empty:
                continue
    finally:
        client.disconnect()
        thread.join(timeout=10)
