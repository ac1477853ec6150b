"""The import's fast path (lib/archive/fast_pages.py) gives exactly the general path's results: the same record
bytes, the same original bytes, the same rejects with the same reasons, in the same order; on the real twarc2 sample
(pages and flattened), generated tweets, and odd payloads and pages that it must leave to the general path."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from tweet_topics.lib.archive import readers
from tweet_topics.lib.archive.convert import Converted, latest_allowed
from tweet_topics.lib.archive.fast_pages import fast_line
from tweet_topics.lib.archive.inputs import Line
from tweet_topics.lib.archive.readers import convert_lines
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics_tests.conftest import REAL_TWEETS


def _pages() -> list[dict]:
    return [json.loads(line) for line in REAL_TWEETS.read_text().splitlines()]


def _odd_tweets(tweet: dict, includes: dict) -> list[dict]:
    """Variants of a real tweet: each either a corner the fast path must get right or one it must leave."""
    place = {"id": "pl1", "full_name": "Cape Canaveral, FL", "country": "United States", "country_code": "US"}
    includes.setdefault("places", []).append(place)
    retweeted = copy.deepcopy(tweet)
    retweeted.update(id="1374400000000000001", note_tweet={"text": "the long version of the note \u2028 with a break"})
    includes.setdefault("tweets", []).append(retweeted)
    changes = [
        {"created_at": "2021-03-23T16:00:00Z"},  # no milliseconds
        {"created_at": "2021-03-23T16:00:00.000+00:00"},  # not X's form
        {"created_at": "2099-01-01T00:00:00.000Z"},  # future
        {"created_at": "2005-12-31T23:00:00.000Z"},  # before X
        {"created_at": "2021-02-30T10:00:00.000Z"},  # no such day
        {"id": "12a"},
        {"id": 1374400000000000002},  # a number, not a string
        {"public_metrics": {"retweet_count": "12"}},
        {"public_metrics": {"like_count": 2**63}},
        {"public_metrics": {"like_count": -(2**63)}},
        {"entities": {}},
        {"entities": None},
        {"entities": {"cashtags": [{"tag": "TSLA"}]}},
        {"entities": {"hashtags": [{"tag": "Mars"}, {"text": "Moon"}, {}], "urls": [{"url": "https://t.co/x"}]}},
        {"geo": {"place_id": "pl1", "coordinates": {"type": "Point", "coordinates": [1e-05, 28.5]}}},
        {"geo": {"place_id": "pl1", "coordinates": {"type": "Point", "coordinates": [-80.6, 28.5]}}},
        {"geo": {"coordinates": {"coordinates": [1.0]}}},
        {"text": "RT @nasa: &amp; liftoff \U0001f680\U0001f469\u200d\U0001f680 #Artemis  \u2028 done"},
        {"text": None},
        {"text": ""},
        {"text": "x" * 600_000, "note_tweet": None, "referenced_tweets": None},  # a record over Firehose's limit
        {"note_tweet": {"text": "a note longer than the text, with https://example.com/a and @someone"}},
        {"referenced_tweets": [{"type": "retweeted", "id": "1374400000000000001"}]},
        {"referenced_tweets": [{"type": "quoted", "id": "1"}, {"type": "replied_to", "id": "2"}]},
        {"author_id": "0"},  # an author the includes do not have
        {"lang": None, "source": None, "conversation_id": None},
        {"unknown": {"deep": [[[[{"x": 1}]]]]}},
        {"public_metrics": {"like_count": 1e2}},  # a float where a count belongs
        {"public_metrics": {"like_count": 2**70}},  # beyond 64 bits (orjson reads it as a float)
    ]
    return [{**copy.deepcopy(tweet), "id": str(1374400000000001000 + n), **c} for n, c in enumerate(changes)]


def _lines() -> list[tuple[str, list[Line]]]:
    pages = _pages()
    odd_page = copy.deepcopy(pages[0])
    odd_page["data"] = [*_odd_tweets(odd_page["data"][0], odd_page["includes"]), "not a tweet", 7]
    generator = TweetGenerator(seed=9)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    generated = [generator.tweet(start + timedelta(seconds=i)).payload for i in range(300)]
    twarc2 = [json.dumps(p).encode() for p in [*pages, odd_page, *generated]]
    surrogate = copy.deepcopy(pages[0])
    surrogate["data"] = [{**surrogate["data"][2], "text": "\ud800 lone surrogate"}]  # orjson refuses the page
    infinite = copy.deepcopy(pages[0])  # orjson refuses the page: the general path (json) reads infinity
    infinite["data"][7]["geo"] = {"coordinates": {"coordinates": [float("inf"), 28.5]}}
    unhashable = copy.deepcopy(pages[0])  # the general expander fails on the whole page: one reject
    unhashable["data"][3]["author_id"] = ["a list"]
    odd_includes = copy.deepcopy(pages[0])
    odd_includes["includes"]["users"].append({"name": "no id"})  # the general index keys it by None
    odd_includes["data"][5]["referenced_tweets"] = ["not an object"]
    duplicate_key = json.dumps({"data": [pages[0]["data"][4]], "includes": pages[0]["includes"]}).encode()
    duplicate_key = duplicate_key.replace(b'"text": ', b'"text": "first", "text": ', 1)
    twarc2 += [
        json.dumps(pages[1], separators=(" ,\t", "\t:  ")).encode(),  # JSON whitespace (tabs) between tokens
        json.dumps(pages[0], ensure_ascii=False).encode(),
        json.dumps({**pages[0], "includes": []}).encode(),
        json.dumps(odd_includes).encode(),
        duplicate_key,
        json.dumps(pages[0]).encode().replace(b'"context_annotations"', b'"context_annotations\xff"', 1),
        json.dumps(infinite).encode(),
        json.dumps(unhashable).encode(),
        json.dumps(surrogate).encode(),
        b'{"data": [{"id": "5", "text": "cut',  # invalid JSON
        b'{"id_str": "1", "user": {}}',  # another format
        json.dumps({**pages[1], "meta": {"next": 2**70}}).encode(),  # an integer beyond 64 bits outside the tweets
        b'{"data": {"id": "1374400000000000009", "text": "one stream message", "author_id": "9",'
        b' "created_at": "2021-03-23T16:10:00.000Z"}}',
    ]
    users = {u["id"]: u for u in pages[0]["includes"]["users"]}
    flat_tweets = [{**t, "author": users.get(t["author_id"])} for t in pages[0]["data"]]
    odd = _odd_tweets(pages[0]["data"][1], {})
    flat_tweets += [
        {**t, "author": users.get(t["author_id"]) if isinstance(t["author_id"], str) else None} for t in odd
    ]
    flat = [json.dumps(t).encode() for t in flat_tweets] + [b'{"data": []}', b"[1, 2]"]
    return [
        ("twarc2", [Line(n, data) for n, data in enumerate(twarc2, start=1)]),
        ("twarc2-flat", [Line(n, data) for n, data in enumerate(flat, start=1)]),
    ]


@pytest.mark.parametrize(("fmt", "lines"), _lines(), ids=["twarc2", "twarc2-flat"])
def test_fast_path_results_are_the_general_paths_byte_for_byte(monkeypatch, fmt, lines):
    latest = latest_allowed()
    fast = convert_lines(fmt, lines, latest)
    claims = {line.number: fast_line(fmt, line.data, latest) for line in lines}
    monkeypatch.setattr(readers, "fast_line", lambda *args: None)
    general = convert_lines(fmt, lines, latest)
    assert len(fast) == len(general)
    for ours, theirs in zip(fast, general, strict=True):
        assert ours == theirs  # records and originals as bytes, rejects with reason, detail and raw
    # The fast path did the work: every line it can read, and all but the odd tweets' unusual shapes.
    unread = [n for n, got in claims.items() if got is None]
    assert len(unread) == (
        7 if fmt == "twarc2" else 2
    )  # twarc2: + not UTF-8, infinity, unhashable, a reference that is no object
    converted = sum(isinstance(c, Converted) for got in claims.values() for c in got or ())
    assert converted >= sum(r[0] == "ok" and r[1] not in unread for r in general) - 8
    reasons = {r[2] for r in general if r[0] == "reject"}
    assert {"bad_type:id", "created_at_out_of_range", "bad_created_at", "oversize_record"} <= reasons
    assert {"missing_field:text", "out_of_range:like_count", f"format_mismatch:{fmt}"} <= reasons
    if fmt == "twarc2":
        assert {"invalid_json", "invalid_utf8", "unencodable", "not_a_tweet", "unreadable_payload:TypeError"} <= reasons
