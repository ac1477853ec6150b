"""The fast v2 path (``lib.records.fast``, the streamer's ``raw_to_record``) gives byte for byte what the general
path gives (``to_record(parse_line(raw))``): the same line, or the same reject, for real tweets, synthetic ones,
every field x odd values and JSON-level oddities. And it really is taken for ordinary messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tweet_topics.lib.records.fast import v2_record_line
from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.streamer.convert import Reject, parse_line, raw_to_record, to_record
from tweet_topics_tests.helpers import paths, replaced

DATA = Path(__file__).resolve().parents[2] / "data"
REAL_TWEETS = DATA / "real-tweets" / "twarc-hashtags-tweets1-pages1-2.jsonl"

ODD: dict[str, Any] = {
    "none": None,
    "int": 5,
    "negative": -1,
    "int64_max": 2**63 - 1,
    "past_int64": 2**63,
    "below_int64": -(2**63) - 1,
    "huge_int": 2**70,
    "float": 1.5,
    "integral_float": 5.0,
    "tiny_float": 1e-05,
    "big_float": 1e17,
    "nan": float("nan"),
    "bool": True,
    "empty": "",
    "space": " \t\n",
    "rt_only": "RT @nasa: ",
    "escaped": "a &amp;lt; b &gt; c",
    "emoji_text": "launch 🚀🇺🇸 #Artemis\u2028 @nasa https://nasa.gov.",
    "control": "a\u0000b\u001fc\u007f",
    "unicode_digits": "١٢٣",
    "long_id": "1" * 20,
    "huge_text": "x" * 1_100_000,
    "list": [1, {"a": None}],
    "empty_list": [],
    "str_list": ["a", "b"],
    "dict": {"id": {"x": 1}},
    "empty_dict": {},
    "annotations_only": {"annotations": [{"type": "Place"}]},
    "unknown_keys_only": {"foo": 1},
    "null_urls": {"urls": None},
    "deep": json.loads("[" * 500 + "]" * 500),
    "lone_surrogate": "\ud800 bad",
    "v2_time": "2026-02-28T23:59:59.999Z",
    "v2_time_no_ms": "2026-02-28T23:59:59Z",
    "time_offset": "2026-02-28T23:59:59+02:00",
    "time_6_digits": "2026-02-28T23:59:59.123456Z",
    "impossible_date": "2026-02-30T00:00:00.000Z",
    "hour_24": "2026-01-01T24:00:00.000Z",
    "year_999": "0999-01-01T00:00:00.000Z",
    "v1_time": "Fri Dec 31 19:58:56 +0000 2021",
    "coordinates": [2.35, 48.85],
    "int_coordinates": [2, 48],
    "tiny_coordinates": [1e-05, 2.0],
    "one_coordinate": [2.35],
    "three_coordinates": [1.5, 2.5, "x"],
}


def outcome(convert: Any) -> tuple:
    try:
        return ("sent", *convert())
    except Reject as exc:
        return ("rejected", exc.reason)


def general(raw: bytes, seq: int = 7) -> tuple:
    return outcome(lambda: to_record(parse_line(raw), "run-1", seq))


def fast(raw: bytes, seq: int = 7) -> tuple:
    return outcome(lambda: raw_to_record(raw, "run-1", seq))


def real_messages() -> list[dict]:
    out = []
    for line in REAL_TWEETS.read_text().splitlines():
        page = json.loads(line)
        out += [{"data": tweet, "includes": page["includes"]} for tweet in page["data"]]
    return out


@pytest.mark.parametrize("style", ["tweepy", "compact", "ascii"])
def test_every_real_tweet_takes_the_fast_path_with_the_same_bytes(style):
    dump = {
        "tweepy": lambda m: json.dumps(m),
        "compact": lambda m: json.dumps(m, ensure_ascii=False, separators=(",", ":")),
        "ascii": lambda m: json.dumps(m, ensure_ascii=True, indent=1),
    }[style]
    messages = real_messages()
    assert len(messages) == 200
    for seq, message in enumerate(messages):
        raw = dump(message).encode()
        expected = general(raw, seq)
        assert expected[0] == "sent"
        assert v2_record_line(raw, "run-1", seq) == expected[1:], message["data"]["id"]


def test_synthetic_tweets_take_the_fast_path_with_the_same_bytes():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for seed in (1, 5):
        for seq, tweet in enumerate(TweetGenerator(seed=seed).stream(1_500, start=start)):
            raw = json.dumps(tweet.payload).encode()
            assert v2_record_line(raw, "run-1", seq) == general(raw, seq)[1:]


def test_every_field_x_odd_values_gives_the_same_line_or_the_same_reject():
    retweet = next(m for m in real_messages() if m["data"].get("referenced_tweets"))
    wanted = {r["id"] for r in retweet["data"]["referenced_tweets"]}
    tweets = [t for t in retweet["includes"]["tweets"] if t["id"] in wanted]
    users = {retweet["data"]["author_id"], *(t.get("author_id") for t in tweets)}
    includes = {  # only what the record reads, so the cases stay few
        "tweets": tweets,
        "users": [u for u in retweet["includes"]["users"] if u["id"] in users],
        "places": [{"id": "p", "full_name": "Paris, France", "country": "France", "country_code": "FR"}],
    }
    geo = {"place_id": "p", "coordinates": {"type": "Point", "coordinates": [2.35, 48.85]}}
    bases = [
        TweetGenerator(seed=5).tweet(datetime(2026, 1, 1, tzinfo=UTC)).payload,
        {"data": {**retweet["data"], "geo": geo}, "includes": includes},
    ]
    cases = taken = 0
    for base in bases:
        for path in paths(base):
            for name, value in ODD.items():
                raw = json.dumps(replaced(base, path, value)).encode()
                expected = general(raw)
                assert fast(raw) == expected, (path, name)
                cases += 1
                taken += v2_record_line(raw, "run-1", 7) is not None
    print(f"\n{cases} cases, {taken} on the fast path")
    assert cases > 3_000 and cases // 4 < taken < cases  # both paths exercised


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: raw.replace(b'"text": ', b'"text": "shadowed", "text": ', 1),  # duplicate key: the last wins
        lambda raw: raw.replace(b'"lang": "en"', b'"lang": "\\ud800"'),  # escaped lone surrogate
        lambda raw: raw.replace(b'"lang": "en"', b'"lang": "\\ud83d\\ude80"'),  # an escaped pair is a rocket
        lambda raw: raw.replace(b'"lang": "en"', b'"lang": "e\\u0000n"'),
        lambda raw: raw.replace(b'"retweet_count": 0', b'"retweet_count": NaN'),
        lambda raw: raw.replace(b'"retweet_count": 0', b'"retweet_count": 1e400'),
        lambda raw: raw.replace(b'"retweet_count": 0', b'"retweet_count": -0'),
        lambda raw: raw.replace(b'"retweet_count": 0', b'"retweet_count": 18446744073709551616'),
        lambda raw: raw + b" trailing",
        lambda raw: b" \n" + raw + b"\r\n ",
        lambda raw: b"\xef\xbb\xbf" + raw,  # a byte-order mark
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw.replace(b"Sky Watcher", b"Sky \xff Watcher"),  # not UTF-8
        lambda raw: b"[" + raw + b"]",
        lambda raw: b'{"data": null}',
        lambda raw: b'{"data": {"id": "1", "text": "t", "author_id": "2", "created_at": "2026-01-01T00:00:00.000Z"}}',
    ],
)
def test_json_level_oddities_give_the_same_outcome(change):
    payload = TweetGenerator(seed=8).tweet(datetime(2026, 1, 1, tzinfo=UTC)).payload
    raw = change(json.dumps(payload).encode())
    assert fast(raw) == general(raw)


def test_strings_are_written_as_json_dumps_writes_them_on_every_code_point():
    """The fast path's encoder (msgspec) against ``json.dumps(ensure_ascii=False)``, the general path's."""
    encode = msgspec.json.Encoder().encode
    for point in range(0x110000):
        if not 0xD800 <= point <= 0xDFFF:
            text = f"a{chr(point)}b"
            assert encode(text) == json.dumps(text, ensure_ascii=False).encode(), hex(point)


SKIPPED_FIELD_ODDITIES = {  # msgspec skips fields it does not map without checking them; Python's json does not
    "bytes that are no UTF-8": (b'"matching_rules": [{"tag": "\xff"}]', "invalid_utf8"),
    "an encoded surrogate": (b'"x": "\xed\xa0\x80"', "invalid_utf8"),
    "an integer past Python's digit limit": (b'"x": ' + b"1" * 4301, "invalid_json"),
    # Where json's recursion limit falls depends on the caller's stack (msgspec's moves with it, a few levels
    # further): the fast path leaves any deep message to json, which decides (here: a record).
    "nesting 850 deep": (b'"x": ' + b"[" * 850 + b"]" * 850, None),
}


@pytest.mark.parametrize("case", sorted(SKIPPED_FIELD_ODDITIES))
def test_what_json_refuses_in_a_field_the_fast_path_skips_is_decided_by_json(case):
    """Found by differential fuzzing: the first three were records on the fast path and rejects on the general."""
    extra, reason = SKIPPED_FIELD_ODDITIES[case]
    message = {"data": {"id": "1", "text": "hi", "author_id": "2", "created_at": "2026-01-01T00:00:00.000Z"}}
    raw = json.dumps(message).encode()[:-1] + b", " + extra + b"}"
    assert v2_record_line(raw, "run-1", 7) is None
    assert general(raw) == fast(raw)
    assert general(raw)[:2] == ("rejected", reason) if reason else general(raw)[0] == "sent"


def test_deep_structure_inside_strings_keeps_the_fast_path():
    """Brackets in strings do not nest: a text of 2,000 of them is an ordinary message."""
    message = {"data": {"id": "1", "text": "[{" * 1000, "author_id": "2", "created_at": "2026-01-01T00:00:00.000Z"}}
    raw = json.dumps(message).encode()
    assert v2_record_line(raw, "run-1", 7) is not None and fast(raw) == general(raw)


def test_an_integer_coordinate_past_a_float_is_a_reject_not_a_crash():
    """``float()`` of a 310-digit integer raised OverflowError through ``to_record`` (and ``convert_chunk``)."""
    from tweet_topics.streamer.convert import convert_chunk

    huge = b"1" + b"0" * 309
    raw = (
        b'{"data":{"id":"1","text":"hi","author_id":"2","created_at":"2026-01-01T00:00:00.000Z",'
        b'"geo":{"coordinates":{"type":"Point","coordinates":[' + huge + b",1]}}}}"
    )
    assert general(raw)[:2] == ("rejected", "out_of_range:coords_lon") and fast(raw) == general(raw)
    [(line, reason, _)] = convert_chunk([raw], "run-1", 1)
    assert line is None and reason == "out_of_range:coords_lon"
