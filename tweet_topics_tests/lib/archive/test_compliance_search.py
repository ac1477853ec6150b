"""The search apply_deletions runs over committed hours decides "names the id" exactly as the rewrite does."""

import random

import pytest

from tweet_topics.lib.archive.compliance import Actions, names_any, rewrite

TWEET = "2028334482846646196"


@pytest.mark.parametrize("extra", [0, 8, 500])  # memchr first for a short list, digit runs for a long one
def test_names_any_agrees_with_the_rewrite(extra):
    ids = {TWEET.encode(), b"20283"} | {str(10**18 + i).encode() for i in range(extra)}
    lines = {
        f'{{"id":"1","text":"see https://twitter.com/a/status/{TWEET}"}}': True,  # named in a text
        f'{{"id":"1","text":"1{TWEET}"}}': False,  # a longer number is not the id
        f'{{"id":"1","text":"{TWEET}9"}}': True,  # its first 19 digits are the id
        f'{{"id":"1","text":"{"7" * 19}20283"}}': True,  # split every 19 digits, as the rewrite splits
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
