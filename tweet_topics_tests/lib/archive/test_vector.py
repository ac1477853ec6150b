"""The import's batch path (lib/archive/vector.py) gives exactly the per-tweet path's results, in the same order,
also when a chunk holds tweets the vectorized gate refuses."""

import json

import orjson

from tweet_topics.lib.archive import readers, vector
from tweet_topics.lib.archive.convert import convert_all, latest_allowed
from tweet_topics.lib.archive.formats import twarc2_payloads
from tweet_topics.lib.archive.inputs import Line
from tweet_topics.lib.archive.readers import convert_lines
from tweet_topics_tests.conftest import REAL_TWEETS


def _comparable(results: list[tuple]) -> list[tuple]:
    return [
        ("ok", r[1], r[2].id, r[2].created_at, orjson.loads(r[2].record), orjson.loads(r[2].original))
        if r[0] == "ok"
        else r[:3]
        for r in results
    ]


def _per_tweet(pages: list[dict], latest: str, start: int = 1) -> list[tuple]:
    out: list[tuple] = []
    for number, page in enumerate(pages, start=start):
        out.extend(convert_all(number, twarc2_payloads(page), latest, json.dumps(page).encode()))
    return out


def _hostile_page() -> dict:
    """A real page with tweets the gate must refuse among good ones."""
    page = json.loads(REAL_TWEETS.read_text().splitlines()[0])
    data = page["data"]
    data[3]["created_at"] = "2021-02-30T10:00:00.000Z"  # no such day
    data[40]["public_metrics"] = {"retweet_count": "12"}  # a count as text
    data[70]["created_at"] = "2199-01-01T00:00:00.000Z"  # in the future
    data[9]["id"] = "12a"  # not digits
    data[90]["text"] = "\ud800 lone surrogate"  # refused before the gate (no UTF-8)
    data[13] = "not a tweet"
    return page


def test_batch_path_equals_per_tweet_path_on_real_and_hostile_pages(monkeypatch):
    latest = latest_allowed()
    pages = [json.loads(line) for line in REAL_TWEETS.read_text().splitlines()] + [_hostile_page()]
    lines = [Line(n, json.dumps(p).encode()) for n, p in enumerate(pages, start=1)]
    lines.insert(1, Line(99, b"{broken"))
    gated: list[bool] = []
    real_gate = vector.fast_object

    def gate(key: str, body: bytes):
        table = real_gate(key, body)
        gated.append(table is not None)
        return table

    monkeypatch.setattr(vector, "fast_object", gate)
    monkeypatch.setattr(readers, "fast_line", lambda *args: None)  # the batch path itself, not the fast path
    batch = convert_lines("twarc2", lines, latest)
    expected = [*_per_tweet(pages[:1], latest), ("reject", 99, "invalid_json"), *_per_tweet(pages[1:], latest, 2)]
    assert _comparable(batch) == _comparable(expected)
    reasons = [r[2] for r in batch if r[0] == "reject"]
    assert "invalid_json" in reasons and "created_at_out_of_range" in reasons and "bad_created_at" in reasons
    assert any(r.startswith("bad_type") for r in reasons)
    assert gated[0] is True  # the clean first page passed the vectorized gate whole


def test_refused_chunk_costs_only_its_own_tweets(monkeypatch):
    monkeypatch.setattr(vector, "CHUNK", 50)
    gated: list[bool] = []
    real_gate = vector.fast_object
    monkeypatch.setattr(
        vector, "fast_object", lambda k, b: gated.append(real_gate(k, b) is not None) or real_gate(k, b)
    )
    latest = latest_allowed()
    pages = [json.loads(line) for line in REAL_TWEETS.read_text().splitlines()] + [_hostile_page()]
    results = vector.convert_units([(n, twarc2_payloads(p), None) for n, p in enumerate(pages, 1)], latest)
    assert _comparable(results) == _comparable(_per_tweet(pages, latest))
    assert sum(r[0] == "ok" for r in results) == len(results) - 6
    assert gated.count(True) >= 4 and gated.count(False) == 1  # only the chunk with the text count went one by one


def test_numbers_orjson_writes_its_own_way_take_the_per_tweet_path():
    """Found by differential fuzzing: orjson writes NaN and infinity as null (the per-tweet path refuses them) and
    exponent floats and integer coordinates in its own form, so the batch path kept other bytes, or a bad value
    as null. Each such tweet now gets exactly the per-tweet result, byte for byte."""
    from tweet_topics.lib.archive.formats import v1_payload
    from tweet_topics_tests.conftest import DATA

    latest = latest_allowed()
    status = json.loads((DATA / "archive" / "v1-statuses.jsonl").read_text().splitlines()[0])
    cases = {
        "NaN language": ({**status, "lang": float("nan")}, "bad_type:lang"),
        "infinite coordinate": ({**status, "coordinates": {"coordinates": [float("inf"), 1.0]}}, "out_of_range"),
        "integer and exponent coordinates": ({**status, "coordinates": {"coordinates": [5, 1e-7]}}, None),
        "true as a coordinate": ({**status, "coordinates": {"coordinates": [True, 1.0]}}, "bad_type:coords_lon"),
    }
    for name, (tweet, reason) in cases.items():
        raw = json.dumps(tweet, allow_nan=True).encode()
        batch = readers.convert_lines("v1", [Line(1, raw)], latest)[0]
        per_tweet = convert_all(1, [v1_payload(json.loads(raw))], latest)[0]
        if reason is None:
            assert batch[0] == per_tweet[0] == "ok", name
            assert batch[2].record == per_tweet[2].record and b'"coords_lon":5.0,"coords_lat":1e-07' in batch[2].record
        else:
            assert batch[:3] == per_tweet[:3] and batch[0] == "reject" and batch[2].startswith(reason), name
