"""Deterministic synthetic X API v2 filtered-stream payloads about space, with planted topics.

Every tweet is drawn mostly from one of six themes plus shared background words, so a topic model's output
can be scored against the known theme (``SyntheticTweet.topic``). Faults (bad JSON, truncated lines,
duplicates, missing fields, legacy TAB lines) can be injected when rendering Firehose objects.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tweet_topics.lib.records import dumps_record, legacy_line_from_record, record_from_v2

THEMES: dict[str, list[str]] = {
    "launches": [
        "launch",
        "rocket",
        "falcon",
        "booster",
        "liftoff",
        "countdown",
        "starship",
        "payload",
        "orbit",
        "pad",
        "engines",
        "landing",
        "static",
        "fire",
        "vehicle",
        "stage",
        "fairing",
        "scrubbed",
        "trajectory",
        "ignition",
        "launchpad",
        "thrust",
        "raptor",
        "droneship",
        "reusable",
        "spaceport",
    ],
    "mars_rovers": [
        "mars",
        "rover",
        "perseverance",
        "curiosity",
        "crater",
        "jezero",
        "martian",
        "sample",
        "ingenuity",
        "helicopter",
        "sol",
        "regolith",
        "dust",
        "bedrock",
        "drill",
        "rock",
        "wheels",
        "olympus",
        "gale",
        "core",
        "tubes",
        "lander",
        "insight",
        "terrain",
    ],
    "telescopes": [
        "webb",
        "telescope",
        "hubble",
        "galaxy",
        "galaxies",
        "infrared",
        "mirror",
        "image",
        "nebula",
        "deep",
        "field",
        "spectrum",
        "cluster",
        "light",
        "exoplanet",
        "observatory",
        "lensing",
        "quasar",
        "redshift",
        "sunshield",
        "pixels",
        "jwst",
        "chandra",
        "wavelength",
    ],
    "astronauts_iss": [
        "astronaut",
        "astronauts",
        "station",
        "crew",
        "spacewalk",
        "iss",
        "orbit",
        "dragon",
        "soyuz",
        "expedition",
        "module",
        "docking",
        "hatch",
        "cosmonaut",
        "microgravity",
        "experiment",
        "laboratory",
        "commander",
        "undock",
        "capsule",
        "splashdown",
        "suits",
        "training",
    ],
    "moon_missions": [
        "moon",
        "lunar",
        "artemis",
        "orion",
        "apollo",
        "regolith",
        "lander",
        "south",
        "pole",
        "gateway",
        "crater",
        "footprint",
        "astronauts",
        "return",
        "surface",
        "base",
        "landing",
        "module",
        "craters",
        "ice",
        "tranquility",
        "gravity",
        "rover",
        "eagle",
    ],
    "astronomy_events": [
        "eclipse",
        "meteor",
        "shower",
        "comet",
        "jupiter",
        "saturn",
        "venus",
        "conjunction",
        "sky",
        "night",
        "stars",
        "moonrise",
        "constellation",
        "planets",
        "skywatching",
        "perseids",
        "geminids",
        "aurora",
        "dawn",
        "horizon",
        "binoculars",
        "totality",
        "equinox",
    ],
}
BACKGROUND = [
    "nasa",
    "space",
    "today",
    "amazing",
    "news",
    "look",
    "wow",
    "photo",
    "new",
    "just",
    "great",
    "science",
    "week",
    "video",
    "incredible",
    "people",
    "watch",
    "time",
    "first",
    "year",
    "check",
    "latest",
    "story",
    "update",
    "learn",
    "share",
    "love",
    "world",
    "history",
    "future",
    "beautiful",
    "live",
    "moment",
    "team",
    "big",
    "happening",
    "tonight",
]
THEME_HASHTAGS = {
    "launches": ["SpaceX", "Starship", "LaunchDay"],
    "mars_rovers": ["Mars", "Perseverance", "MarsRover"],
    "telescopes": ["JWST", "Hubble", "Webb"],
    "astronauts_iss": ["ISS", "Astronaut", "Expedition70"],
    "moon_missions": ["Artemis", "Moon", "Apollo"],
    "astronomy_events": ["Astronomy", "Eclipse", "NightSky"],
}
ACCOUNTS = ["NASA", "SpaceX", "esa", "NASAWebb", "NASAPersevere", "Space_Station", "NASAMoon", "JPL"]
SOURCES = ["Twitter for Android", "Twitter for iPhone", "Twitter Web App", "Twitter for iPad", "TweetDeck"]
LOCATIONS = [None, "United States", "London, England", "Bengaluru, India", "Los Angeles, CA", "Toronto, Ontario"]
EMOJI = ["🚀", "🌕", "🔭", "✨", "🪐", "👩‍🚀"]
SPANISH = ["el", "cohete", "despega", "hoy", "hacia", "la", "luna", "con", "los", "astronautas", "de", "la", "mision"]
BLOCKLISTED = ["win", "free", "crypto", "tokens", "on", "binance", "wallet", "airdrop", "dogecoin", "money", "now"]
TWITTER_EPOCH_MS = 1288834974657


@dataclass(frozen=True)
class SyntheticTweet:
    payload: dict[str, Any]
    topic: str
    kind: str  # original | retweet | reply | spanish | blocklisted | goddard

    @property
    def id(self) -> str:
        return str(self.payload["data"]["id"])


@dataclass
class FaultSpec:
    """How many of each fault to inject per rendered hour."""

    malformed_json: int = 0
    truncated_last_line: bool = False
    duplicates: int = 0
    missing_text: int = 0
    legacy_tab_lines: int = 0


@dataclass
class RenderedHour:
    """Firehose objects of one hour and what a correct combine must find in them."""

    objects: list[tuple[str, bytes]]
    expected_ids: list[str]
    expected_malformed: dict[str, int] = field(default_factory=dict)
    expected_duplicates: int = 0
    lines: int = 0


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
        theme = THEMES[topic]
        return [self.rng.choice(theme) if self.rng.random() < 0.7 else self.rng.choice(BACKGROUND) for _ in range(n)]

    def tweet(self, created_at: datetime) -> SyntheticTweet:
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


def hour_floor(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def firehose_key(raw_prefix: str, stream: str, ts: datetime, rng: random.Random) -> str:
    """``<prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``, Firehose's default layout."""
    suffix = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{raw_prefix}{ts:%Y/%m/%d/%H}/{stream}-1-{ts:%Y-%m-%d-%H-%M-%S}-{suffix}"


def render_hour(
    tweets: list[SyntheticTweet],
    hour: datetime,
    raw_prefix: str,
    stream: str,
    n_objects: int = 6,
    faults: FaultSpec | None = None,
    seed: int = 0,
) -> RenderedHour:
    """Split one hour's tweets into Firehose objects of NDJSON records, injecting ``faults``."""
    faults = faults or FaultSpec()
    rng = random.Random(f"{seed}-{hour.isoformat()}")
    records = [record_from_v2(t.payload) for t in tweets]
    lines: list[bytes] = [dumps_record(r) for r in records]
    expected_ids = [r["id"] for r in records]
    malformed: dict[str, int] = {}

    def bump(reason: str) -> None:
        malformed[reason] = malformed.get(reason, 0) + 1

    # Legacy lines can only carry records without TAB/newline in any field (the reference's own limit).
    eligible = [
        i
        for i, r in enumerate(records)
        if not any(c in str(r.get(f) or "") for f in ("text", "user_name", "user_location") for c in "\t\n\r")
    ]
    for i in eligible[: faults.legacy_tab_lines]:
        lines[i] = legacy_line_from_record(records[i]).encode()
    for _ in range(faults.malformed_json):
        lines.insert(rng.randrange(len(lines) + 1), b'{"schema_version": 1, "id": "123", "text": "broken\n')
        bump("invalid_json")
    for _ in range(faults.missing_text):
        bad = dict(records[0], id=str(9_000_000 + rng.randrange(10**6)), text=None)
        lines.insert(rng.randrange(len(lines) + 1), dumps_record(bad))
        bump("missing_field:text")
    duplicates = 0
    for _ in range(min(faults.duplicates, len(records))):
        lines.append(dumps_record(records[rng.randrange(len(records))]))
        duplicates += 1
    n_objects = max(1, min(n_objects, len(lines))) if lines else 0
    objects: list[tuple[str, bytes]] = []
    per = -(-len(lines) // n_objects) if n_objects else 0
    for i in range(n_objects):
        chunk = lines[i * per : (i + 1) * per]
        if not chunk:
            continue
        ts = hour + timedelta(seconds=int(3599 * (i + 1) / (n_objects + 1)))
        objects.append((firehose_key(raw_prefix, stream, ts, rng), b"".join(chunk)))
    if faults.truncated_last_line and objects:
        key, body = objects[-1]
        last_start = body.rstrip(b"\n").rfind(b"\n") + 1
        truncated_line = body[last_start:]
        objects[-1] = (key, body[: last_start + len(truncated_line) // 2])
        # The cut record is lost from this object; if it was not a duplicate it is no longer expected.
        try:
            import json as _json

            cut_id = _json.loads(truncated_line)["id"]
        except ValueError:
            cut_id = None
        if duplicates and cut_id is not None:
            duplicates -= 1
        elif cut_id in expected_ids:
            expected_ids.remove(cut_id)
        bump("truncated_line")
    return RenderedHour(
        objects=objects,
        expected_ids=expected_ids,
        expected_malformed=malformed,
        expected_duplicates=duplicates,
        lines=sum(body.count(b"\n") + (0 if body.endswith(b"\n") else 1) for _, body in objects),
    )
