"""No input kills the streamer: every field of a v2 message and a v1.1 status x hostile values, and a hostile
replay file through a real process. Every input is either sent or rejected with a reason; nothing raises."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tweet_topics.lib.ledger import DELIVERY_PATTERN
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.options import StreamOptions
from tweet_topics.streamer.producer import Batch
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.runner import Loop
from tweet_topics.streamer.sources import Item, replay_source
from tweet_topics_tests.helpers import paths, replaced


def deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: dict[str, Any] = {
    "none": None,
    "int": 5,
    "negative": -1,
    "huge_int": 2**70,
    "float": 1.5,
    "nan": float("nan"),
    "bool": True,
    "empty": "",
    "huge_text": "x" * 1_100_000,
    "list": [1, {"a": None}],
    "dict": {"id": {"x": 1}},
    "deep": deep(5_000),
    "lone_surrogate": "\ud800 bad",
    "bytes": b"\xff\xfe",
}

V1_STATUS = {
    "created_at": "Fri Dec 31 19:58:56 +0000 2021",
    "id": 1476999999999999999,
    "id_str": "1476999999999999999",
    "text": "RT @nasa: Webb launched #JWST https://t.co/x",
    "full_text": "RT @nasa: Webb launched #JWST https://t.co/x",
    "truncated": False,
    "source": '<a href="https://x.com">Twitter Web App</a>',
    "in_reply_to_status_id_str": None,
    "user": {
        "id": 12,
        "id_str": "12",
        "name": "N",
        "screen_name": "n",
        "location": "Earth",
        "followers_count": 3,
        "friends_count": 4,
        "listed_count": 1,
        "statuses_count": 9,
        "favourites_count": 2,
        "verified": False,
        "protected": False,
        "created_at": "Fri Dec 31 19:58:56 +0000 2010",
    },
    "place": {"id": "p1", "full_name": "Paris", "country": "France", "country_code": "FR"},
    "coordinates": {"type": "Point", "coordinates": [2.35, 48.85]},
    "entities": {
        "hashtags": [{"text": "JWST"}],
        "urls": [{"expanded_url": "https://nasa.gov"}],
        "user_mentions": [{"screen_name": "nasa"}],
    },
    "extended_tweet": {"full_text": "Webb launched #JWST", "entities": {"hashtags": [{"text": "JWST"}]}},
    "retweeted_status": {"id_str": "1476", "text": "Webb launched", "entities": {"hashtags": []}},
    "lang": "en",
    "retweet_count": 1,
    "favorite_count": 2,
    "reply_count": 0,
    "quote_count": 0,
}


class CountingOutput:
    """Takes batches like the sender does, and checks every record carries its delivery field."""

    def __init__(self, counters: Counters) -> None:
        self.counters, self.records = counters, 0

    def submit(self, batch: Batch, timeout: float) -> bool:
        for record in batch.records:
            assert DELIVERY_PATTERN.search(record) and len(record) <= 1000 * 1024
            json.loads(record)
        self.records += len(batch.records)
        self.counters.add(in_memory=-len(batch.records), sent=len(batch.records))
        return True


def test_fuzz_every_field_x_hostile_values(tmp_path):
    v2 = TweetGenerator(seed=5).tweet(datetime(2026, 1, 1, tzinfo=UTC)).payload
    cases = [(p, name) for base in (v2, V1_STATUS) for p in [(base, path) for path in paths(base)] for name in HOSTILE]
    counters = Counters()
    output = CountingOutput(counters)
    rejects = RejectLog(tmp_path / "rejects.ndjson")
    loop = Loop("fuzz", output, counters, rejects)
    exceptions: list[str] = []
    for (base, path), name in cases:
        try:
            loop.handle(Item(replaced(base, path, HOSTILE[name])))
        except Exception as exc:  # the contract under test: this never happens
            exceptions.append(f"{path} = {name}: {type(exc).__name__}: {exc}")
    loop.hand_off()
    print(
        f"\nfuzz: {len(cases)} cases, {output.records} sent, {counters.rejected} rejected, "
        f"{len(exceptions)} exceptions; reasons {dict(rejects.reasons.most_common(8))}"
    )
    assert exceptions == []
    assert counters.received == len(cases) == output.records + counters.rejected
    assert counters.balanced() and counters.in_memory == 0
    assert counters.rejected > len(cases) // 10 and output.records > len(cases) // 10  # both outcomes exercised
    kept = (tmp_path / "rejects.ndjson").read_text().splitlines()
    assert len(kept) == counters.rejected and all(json.loads(line)["reason"] for line in kept)


def test_hostile_replay_file_through_a_real_process(tmp_path):
    """Not UTF-8, 100k-deep, wrong types, a record over 1,000 KiB: all rejects; the 19 good lines after them
    are sent; the process exits 0 with received = sent + rejected."""
    generator = TweetGenerator(seed=9)
    good = [json.dumps(t.payload).encode() for t in generator.stream(20, start=datetime(2026, 1, 1, tzinfo=UTC))]
    first = json.loads(good[0])
    lines = [
        good[0],
        b'{"data": {"id": "1", "text": "caf\xe9"}}',  # latin-1, not UTF-8
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({**first, "data": {**first["data"], "created_at": 5}}).encode(),
        json.dumps({**first, "data": {**first["data"], "text": 5}}).encode(),
        json.dumps({**first, "data": {**first["data"], "text": "y" * 1_100_000}}).encode(),
        b"\xff\xfe\x00garbage",
        b"",
        *good[1:],
    ]
    replay = tmp_path / "hostile.ndjson"
    replay.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.ndjson"
    options = StreamOptions(source="replay", file=replay, sink="file", out=out, state_dir=tmp_path / "state")
    result = subprocess.run([sys.executable, "-m", "tweet_topics", *options.argv()], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert summary["received"] == 26 and summary["sent"] == 20 and summary["rejected"] == 6
    sent_ids = [json.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert sent_ids == [json.loads(g)["data"]["id"] for g in good]
    reasons = Counter(
        json.loads(x)["reason"].split(":")[0] for x in (tmp_path / "state" / "rejects.ndjson").read_text().splitlines()
    )
    # created_at: 5 and text: 5 make the payload parser raise TypeError: kept as unreadable_payload:TypeError.
    assert reasons == Counter({"invalid_utf8": 2, "unreadable_payload": 2, "too_deep": 1, "oversize_record": 1})


def test_replay_resumes_after_the_last_durable_line(tmp_path):
    generator = TweetGenerator(seed=2)
    good = [json.dumps(t.payload) for t in generator.stream(30, start=datetime(2026, 1, 1, tzinfo=UTC))]
    replay = tmp_path / "r.ndjson"
    replay.write_text("\n".join(good) + "\n")
    stop = threading.Event()
    items = []
    for item in replay_source(replay, start_line=12, stop=stop):
        items.append(item)
    assert [i.position for i in items] == list(range(13, 31))
    assert [i.payload["data"]["id"] for i in items] == [json.loads(g)["data"]["id"] for g in good[12:]]
    # Through the CLI: a first run of 10, then --resume continues at line 11.
    state, out = tmp_path / "state", tmp_path / "out.ndjson"
    for max_tweets, resume in ((10, False), (None, True)):
        options = StreamOptions(
            source="replay", file=replay, sink="file", out=out, state_dir=state, max_tweets=max_tweets, resume=resume
        )
        result = subprocess.run(
            [sys.executable, "-m", "tweet_topics", *options.argv()], capture_output=True, timeout=120
        )
        assert result.returncode == 0, result.stderr[-2000:]
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [json.loads(g)["data"]["id"] for g in good]
