import json

import pytest

from tweet_topics.lib.records import (
    LEGACY_FIELDS,
    RECORD_FIELDS,
    RecordError,
    dumps_record,
    legacy_line_from_record,
    record_from_legacy_line,
    record_from_payload,
    record_from_v1,
    validate_record,
)
from tweet_topics_tests.conftest import REAL_TWEETS


def real_payloads():
    for line in REAL_TWEETS.read_text().splitlines():
        page = json.loads(line)
        for tweet in page["data"]:
            yield {"data": tweet, "includes": page["includes"]}


def test_every_real_v2_tweet_parses_and_validates():
    records = [record_from_payload(p) for p in real_payloads()]
    assert len(records) == 200
    for record in records:
        assert validate_record(json.loads(dumps_record(record))) == record
    retweets = [r for r in records if r["is_retweet"]]
    assert retweets, "the real file is mostly retweets"
    # Retweets carry the original's full text, not the truncated 'RT @user:' form.
    assert all(not r["text"].startswith("RT @") for r in retweets)
    assert all(r["user_screen_name"] for r in records)
    assert any(r["hashtags"] for r in records)


def test_v1_extended_and_retweet():
    status = {
        "id_str": "1477000000000000001",
        "created_at": "Fri Dec 31 19:58:56 +0000 2021",
        "lang": "en",
        "text": "RT @NASA: Webb unfolds…",
        "truncated": False,
        "source": '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
        "user": {
            "id_str": "42",
            "screen_name": "jdoe",
            "name": "Jane",
            "followers_count": 120,
            "created_at": "Mon Jan 07 10:00:00 +0000 2019",
        },
        "retweeted_status": {
            "id_str": "1476",
            "text": "short",
            "extended_tweet": {
                "full_text": "Webb unfolds its sunshield #JWST @esa",
                "entities": {"hashtags": [{"text": "JWST"}], "user_mentions": [{"screen_name": "esa"}], "urls": []},
            },
        },
    }
    record = record_from_v1(status)
    assert record["text"] == "Webb unfolds its sunshield #JWST @esa"
    assert record["is_retweet"] and record["retweeted_id"] == "1476"
    assert record["hashtags"] == ["JWST"] and record["mentions"] == ["esa"]
    assert record["source"] == "Twitter for iPhone"
    assert record["created_at"] == "2021-12-31T19:58:56Z"
    assert record["user_joined"] == "2019-01-07T10:00:00Z"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"data": {"text": "no id", "author_id": "1", "created_at": "2021-01-01T00:00:00Z"}}, "missing_field:id"),
        ({"data": {"id": "1", "text": "x", "created_at": "2021-01-01T00:00:00Z"}}, "missing_field:author_id"),
        ({"data": {"id": "1", "text": "x", "author_id": "2", "created_at": "yesterday"}}, "bad_created_at"),
        ({"foo": 1}, "unknown_payload_shape"),
        ([1, 2], "not_an_object"),
    ],
)
def test_bad_payloads_are_rejected_with_reason(payload, reason):
    with pytest.raises(RecordError) as info:
        record_from_payload(payload)
    assert info.value.reason == reason


def test_x_html_escapes_are_undone_in_real_v2_records():
    records = {r["id"]: r for r in (record_from_payload(p) for p in real_payloads())}
    for record in records.values():
        for field in ("text", "clean_text"):
            assert not any(e in record[field] for e in ("&amp;", "&lt;", "&gt;")), (record["id"], record[field])
    # The payload says "sex &amp; drug"; the record says what the author typed.
    assert "for sex & drug #" in records["1374396138548125701"]["text"]
    assert "for sex & drug " in records["1374396138548125701"]["clean_text"]
    # A retweet takes the original's text from includes.tweets, unescaped the same way.
    assert "illegal immigration & crossings" in records["1374396110425399302"]["text"]


def test_x_html_escapes_are_undone_in_v1_and_legacy_records():
    status = {
        "id_str": "1477000000000000002",
        "created_at": "Fri Dec 31 19:58:56 +0000 2021",
        "text": "Webb &amp; Hubble &lt;3 #JWST https://t.co/a?x=1&amp;y=2",
        "user": {"id_str": "42", "screen_name": "jdoe"},
    }
    record = record_from_v1(status)
    assert record["text"] == "Webb & Hubble <3 #JWST https://t.co/a?x=1&y=2"
    assert record["clean_text"] == record["text"]
    # No entities block: they come from the unescaped text, so the URL keeps its query intact.
    assert record["hashtags"] == ["JWST"] and record["urls"] == ["https://t.co/a?x=1&y=2"]
    # The legacy writer stores text escaped, as the reference stored X's text; reading it back undoes that once.
    line = legacy_line_from_record(record)
    assert "Webb &amp; Hubble &lt;3" in line
    back = record_from_legacy_line(line)
    assert back["text"] == record["text"] and back["clean_text"] == record["clean_text"]


def test_legacy_tab_round_trip_and_malformed():
    record = record_from_payload(
        {
            "data": {
                "id": "99",
                "text": "Hubble sees #galaxy @NASA",
                "author_id": "5",
                "created_at": "2021-12-31T19:00:18.000Z",
                "lang": "en",
            },
            "includes": {"users": [{"id": "5", "username": "u5", "name": "U"}]},
        }
    )
    line = legacy_line_from_record(record)
    assert line.endswith("\t\n") and line.count("\t") == len(LEGACY_FIELDS)
    back = record_from_legacy_line(line)
    assert back["id"] == "99" and back["text"] == record["text"]
    assert back["hashtags"] == ["galaxy"] and back["mentions"] == ["NASA"]
    assert set(back) == set(RECORD_FIELDS)
    with pytest.raises(RecordError) as info:
        record_from_legacy_line(line.replace("Hubble", "Hub\tble"))
    assert info.value.reason == "legacy_field_count"


def test_validate_record_types():
    good = json.loads(dumps_record(record_from_payload(next(real_payloads()))))
    with pytest.raises(RecordError, match="bad_type:user_followers"):
        validate_record(dict(good, user_followers="many"))
    with pytest.raises(RecordError, match="unsupported_schema_version"):
        validate_record(dict(good, schema_version=99))
