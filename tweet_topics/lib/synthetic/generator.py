"""Seeded generator of X API v2 filtered-stream payloads about space, each drawn from one planted theme.

The same seed gives the same payloads byte for byte, so tests, benchmarks and the local demo are repeatable, and a
topic model's output can be scored against the theme each tweet was drawn from (``SyntheticTweet.topic``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tweet_topics.lib.synthetic.vocab import (
    ACCOUNTS,
    BACKGROUND,
    BLOCKLISTED,
    EMOJI,
    LOCATIONS,
    SOURCES,
    SPANISH,
    THEME_HASHTAGS,
    THEMES,
)

TWITTER_EPOCH_MS = 1288834974657


@dataclass(frozen=True)
class SyntheticTweet:
    """One generated v2 stream message with the theme it was drawn from and what kind of tweet it plays."""

    payload: dict[str, Any]
    topic: str
    kind: str  # original | retweet | reply | spanish | blocklisted | goddard

    @property
    def id(self) -> str:
        """The tweet id, as tests match records back to generated tweets by it."""
        return str(self.payload["data"]["id"])


def snowflake(ts: datetime, seq: int) -> int:
    """An X-style id that sorts by time, as real ids do."""
    ms = int(ts.timestamp() * 1000)
    return ((ms - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF)


class TweetGenerator:
    """Seeded generator: the same seed and window give the same payloads, byte for byte."""

    def __init__(self, seed: int = 7, n_users: int = 400) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self._seq = 0
        self.users = [self._user(i) for i in range(n_users)]

    def _user(self, i: int) -> dict[str, Any]:
        """A v2 user object; every 97th has a 15-character name and every 13th a TAB and quotes (CSV hazards)."""
        rng = self.rng
        username = f"space_fan_{i}" if i % 97 else f"an_extremely_long_username_{i}"[:15]
        return {
            "id": str(10_000_000 + i),
            "username": username,
            "name": f"Sky Watcher {i}" if i % 13 else f'Sky\tWatcher, "the" {i}',
            "created_at": f"20{10 + i % 14:02d}-0{1 + i % 9}-1{i % 10}T08:00:00.000Z",
            "location": LOCATIONS[i % len(LOCATIONS)],
            "verified": i % 50 == 0,
            "protected": False,
            "public_metrics": {
                "followers_count": int(rng.lognormvariate(5.5, 2.0)),
                "following_count": rng.randint(0, 3000),
                "tweet_count": rng.randint(10, 90000),
                "listed_count": rng.randint(0, 200),
                "like_count": rng.randint(0, 50000),
            },
        }

    def _words(self, topic: str, n: int) -> list[str]:
        """``n`` words, 70% from the theme and 30% background, so themes are recoverable but not trivial."""
        theme = THEMES[topic]
        return [self.rng.choice(theme) if self.rng.random() < 0.7 else self.rng.choice(BACKGROUND) for _ in range(n)]

    def tweet(self, created_at: datetime) -> SyntheticTweet:
        """The next tweet: an original, retweet, reply or one of the noise kinds the filters must drop."""
        rng = self.rng
        topic = rng.choice(sorted(THEMES))
        roll = rng.random()
        kind = (
            "retweet"
            if roll < 0.08
            else "reply"
            if roll < 0.20
            else "spanish"
            if roll < 0.23
            else "blocklisted"
            if roll < 0.26
            else "goddard"
            if roll < 0.28
            else "original"
        )
        self._seq += 1
        tweet_id = str(snowflake(created_at, self._seq))
        author = rng.choice(self.users)
        words = self._words(topic, rng.randint(12, 22))
        if kind == "spanish":
            words = rng.sample(SPANISH, 10)
        elif kind == "blocklisted":
            words = rng.sample(BLOCKLISTED, 6) + words[:6]
        elif kind == "goddard":
            words = ["goddard", *words]
        text = " ".join(words)
        hashtags = [rng.choice(THEME_HASHTAGS[topic])] if rng.random() < 0.5 else []
        mentions = [rng.choice(ACCOUNTS)] if rng.random() < 0.4 else []
        urls = [f"https://t.co/{tweet_id[-8:]}"] if rng.random() < 0.3 else []
        if rng.random() < 0.1:
            # RFC 4180 hazards (quotes, commas, newline, tab) made of theme words, so no new vocabulary.
            cut = len(words) // 3
            text = f'{" ".join(words[:cut])}, "{" ".join(words[cut : 2 * cut])}"\n{" ".join(words[2 * cut :])}\t!'
        parts = [text]
        parts += [f"#{h}" for h in hashtags] + [f"@{m}" for m in mentions] + urls
        if rng.random() < 0.3:
            parts.append(rng.choice(EMOJI))
        full_text = " ".join(parts)
        data: dict[str, Any] = {
            "id": tweet_id,
            "text": full_text,
            "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "lang": "es" if kind == "spanish" else "en",
            "author_id": author["id"],
            "conversation_id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
            "source": rng.choice(SOURCES),
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            "entities": {
                "hashtags": [{"start": 0, "end": 0, "tag": h} for h in hashtags],
                "mentions": [{"start": 0, "end": 0, "username": m} for m in mentions],
                "urls": [{"start": 0, "end": 0, "url": u, "expanded_url": u} for u in urls],
            },
        }
        includes: dict[str, Any] = {"users": [author]}
        if kind == "retweet":
            original_id = str(int(tweet_id) - 1000)
            data["text"] = f"RT @{author['username']}: {full_text}"[:140]
            data["referenced_tweets"] = [{"type": "retweeted", "id": original_id}]
            includes["tweets"] = [{"id": original_id, "text": full_text, "author_id": author["id"]}]
        elif kind == "reply":
            target = rng.choice(self.users)
            data["in_reply_to_user_id"] = target["id"]
            data["referenced_tweets"] = [{"type": "replied_to", "id": str(int(tweet_id) - 77)}]
            includes["users"] = [author, target] if target is not author else [author]
        payload = {"data": data, "includes": includes, "matching_rules": [{"id": "1", "tag": topic}]}
        return SyntheticTweet(payload=payload, topic=topic, kind=kind)

    def tweets_between(self, start: datetime, end: datetime, count: int) -> list[SyntheticTweet]:
        """``count`` tweets with created_at spread evenly (sorted) over ``[start, end)``."""
        step = (end - start) / max(count, 1)
        return [self.tweet(start + step * i) for i in range(count)]

    def stream(self, count: int, start: datetime | None = None, rate: float | None = None) -> Iterator[SyntheticTweet]:
        """An endless-if-needed stream for the streamer's ``synthetic`` source, timestamped from ``start``."""
        start = start or datetime.now(UTC)
        interval = timedelta(seconds=1 / rate) if rate else timedelta(milliseconds=10)
        for i in range(count):
            yield self.tweet(start + interval * i)
