"""The search apply_deletions runs over committed hours decides "names the id" exactly as the rewrite does."""

import random

import pytest

from tweet_topics.lib.archive.compliance import Actions, id_digest, names_any, rewrite

TWEET = "2028334482846646196"


@pytest.mark.parametrize("extra", [0, 8, 500])  # memchr first for a short list, digit runs for a long one
def test_names_any_agrees_with_the_rewrite(extra):
    ids = {TWEET.encode()} | {str(10**18 + i).encode() for i in range(extra)}
    lines = {
        f'{{"id":"1","text":"see https://twitter.com/a/status/{TWEET}"}}': True,  # named in a text
        f'{{"id":"1","text":"1{TWEET}"}}': False,  # a longer number is not the id
        f'{{"id":"1","text":"{TWEET}9"}}': True,  # its first 19 digits are the id
        f'{{"id":"1","text":"{"7" * 19}{TWEET}"}}': True,  # split every 19 digits, as the rewrite splits
        '{"id":"1","text":"nothing here 2028"}': False,
    }
    for line, expected in lines.items():
        data = line.encode()
        assert (rewrite(data, Actions(remove={i.decode() for i in ids})).removed > 0) == expected, line
        assert names_any(data, ids) == expected, line


def test_names_any_finds_an_id_past_the_first_chunk():
    filler = b"".join(b'{"n":%d}\n' % random.Random(1).randrange(10**6) for _ in range(300_000))  # ~3 MB
    ids = {TWEET.encode(), *(str(10**18 + i).encode() for i in range(20))}
    assert not names_any(filler, ids)
    assert names_any(filler + TWEET.encode() + b"\n", ids) and names_any(filler + b" " + TWEET.encode(), ids)


def _lines() -> tuple[list[dict], str, str]:
    from datetime import UTC, datetime

    from tweet_topics.lib.records import record_from_v2
    from tweet_topics.lib.synthetic import TweetGenerator

    hour = datetime(2026, 3, 2, 5, tzinfo=UTC)
    records = [record_from_v2(t.payload) for t in TweetGenerator(seed=4).tweets_between(hour, hour, 8)]
    tid, old = records[0]["id"], "20"  # a snowflake id, and a pre-2010 id that is also a count and a date part
    url = f"https://twitter.com/a/status/{tid}"
    return (
        [
            records[0],
            dict(records[1], retweeted_id=tid, is_retweet=True),
            dict(records[2], quoted_id=tid),
            dict(records[3], quoted_id=tid, urls=[url], num_urls=1),
            dict(records[4], in_reply_to_id=old, user_followers=20, text="20 of 20 at 20:20"),
            dict(records[5], id=old),
            dict(records[6], text=None, conversation_id=tid),  # quarantined, refers only
            dict(records[7], text="see " + url),
        ],
        tid,
        old,
    )


def test_the_combine_stores_what_the_rewrite_stores():
    """combine(rewrite(raw)) == drop_tombstoned(combine(raw)), content for content, short ids included."""
    import json

    from tweet_topics.lib.archive.tombstones import drop_tombstoned
    from tweet_topics.lib.combine import combine_objects

    records, tid, old = _lines()
    raw = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
    rewritten = combine_objects([("k", rewrite(raw, Actions(remove={tid, old})).body)])
    tombstoned = combine_objects([("k", raw)])
    gone = drop_tombstoned(tombstoned, {id_digest(tid), id_digest(old)})

    def content(result):
        rows = [{k: v for k, v in r.items() if k != "line_number"} for r in result.table.to_pylist()]
        return rows, sorted((q["reason"], q["line"]) for q in result.quarantine)

    assert content(tombstoned) == content(rewritten)
    assert gone == 5  # the tweet, its retweet, the quote naming its URL, the link, the old tweet
    rows = {r["id"]: r for r in tombstoned.table.to_pylist()}
    assert rows[records[2]["id"]]["quoted_id"] is None and rows[records[4]["id"]]["in_reply_to_id"] is None
    assert rows[records[4]["id"]]["user_followers"] == 20  # "20" as a count is no reference to tweet 20
    (line,) = tombstoned.quarantine
    assert json.loads(line["line"])["conversation_id"] is None
