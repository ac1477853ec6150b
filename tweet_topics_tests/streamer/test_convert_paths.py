"""The streamer's conversion fast paths give exactly what the slow, obvious code gives (issue 27, target 3)."""

from __future__ import annotations

import random
from datetime import datetime

import emoji
import pytest

from tweet_topics.lib.records.entities import _WHITESPACE, clean_text
from tweet_topics.lib.records.storable import CANONICAL_FORMAT, _canonical_time
from tweet_topics.lib.synthetic import TweetGenerator


def reference_clean_text(text: str) -> str:
    """What ``clean_text`` did before the fast path: the emoji library over the whole text."""
    return _WHITESPACE.sub(" ", emoji.replace_emoji(text, replace=" ")).strip()


def test_clean_text_equals_the_emoji_library_on_every_emoji_and_random_mixes():
    keys = list(emoji.EMOJI_DATA)
    for key in keys:  # every emoji of the table, in context (ZWJ joins, keycap digits, accents around)
        text = f"a{key}b 1{key}{key}\u200d{key}é #{key}"
        assert clean_text(text) == reference_clean_text(text), repr(text)
    rng = random.Random(7)
    parts = [*"ab #*19 \t\né\u200d\ufe0f\ufe0e\u20e3\u2640\u2642©™ℹ", "\U0001f3fb", "\U0001f3ff", "\U000e0067"]
    parts += ["\U000e007f", "\U0001f3f4", "\U0001f1fa", "\U0001f1f8", *rng.sample(keys, 300)]
    for _ in range(5_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 12)))
        assert clean_text(text) == reference_clean_text(text), repr(text)
    for tweet in TweetGenerator(seed=3).stream(500):
        text = tweet.payload["data"]["text"]
        assert clean_text(text) == reference_clean_text(text)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00Z",
        "2024-02-29T23:59:59Z",
        "2026-02-29T00:00:00Z",
        "2026-02-30T12:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:61Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_canonical_times_are_checked_as_strptime_would(value):
    try:
        datetime.strptime(value, CANONICAL_FORMAT)
        valid = True
    except ValueError:
        valid = False
    if valid:
        assert _canonical_time(value) == value
    else:
        with pytest.raises(ValueError):
            _canonical_time(value)


def test_a_stream_message_received_as_bytes_is_kept_as_x_sent_it():
    """stream x hands the loop X's bytes (parsed with the conversion): its original is those bytes, one line."""
    import json

    from tweet_topics.streamer.originals import original_line
    from tweet_topics.streamer.sources import Item

    payload = TweetGenerator(seed=3).tweet(datetime(2026, 1, 1)).payload
    raw = json.dumps(payload).encode()
    assert original_line(Item(None, raw=raw), {}) == raw + b"\n"
    pretty = json.dumps(payload, indent=2).encode()  # not X's form, but a line must stay one line
    line = original_line(Item(None, raw=pretty), {})
    assert line.count(b"\n") == 1 and json.loads(line) == payload


def test_the_writers_shortcut_for_x_bytes_writes_what_original_line_gives(tmp_path):
    """``OriginalWriter.add`` keeps an ordinary message's bytes without copying them; anything to strip or split
    still goes through ``original_line``: the batch file is byte for byte the lines ``original_line`` gives."""
    import json

    from tweet_topics.storage.original_keys import OriginalKeys
    from tweet_topics.streamer.originals import OriginalWriter, original_line
    from tweet_topics.streamer.sources import Item

    payloads = [t.payload for t in TweetGenerator(seed=4).stream(6, start=datetime(2026, 1, 1))]
    raws = [json.dumps(p).encode() for p in payloads]
    raws += [raws[0] + b"\r", b"  " + raws[1], json.dumps(payloads[2], indent=1).encode(), raws[3] + b"\n", raws[4]]
    writer = OriginalWriter(None, "unused", OriginalKeys("original/"), tmp_path / "originals", "run-o")
    for seq, raw in enumerate(raws, start=1):
        writer.add(Item(None, raw=raw), seq)
    writer.seal()
    (sealed,) = (tmp_path / "originals").iterdir()
    assert sealed.name.endswith(f"-run-o-0000000001-{len(raws):010d}.ndjson")
    assert sealed.read_bytes() == b"".join(original_line(Item(None, raw=raw), {}) for raw in raws)


def test_long_emoji_runs_go_through_in_pieces_with_the_same_result():
    """emoji.replace_emoji is quadratic in a chain of zero-width joiners (found by fuzzing the import: 16,000
    characters took 2.7 s, a 1 MB line minutes); long runs are cut where no emoji sequence can go on."""
    from tweet_topics.lib.records.entities import EMOJI_PIECE, _emoji_pieces

    keys = list(emoji.EMOJI_DATA)
    families = [k for k in keys if "\u200d" in k]
    flags = [k for k in keys if len(k) == 2 and all("\U0001f1e6" <= c <= "\U0001f1ff" for c in k)]
    rng = random.Random(11)
    for _ in range(300):
        parts = [rng.choice(rng.choice([keys, families, flags])) for _ in range(rng.randint(20, 150))]
        text = "".join(part + rng.choice(["", "", "\u200d", "\ufe0f", "\U0001f3fd", "x "]) for part in parts)
        assert clean_text(text) == reference_clean_text(text), repr(text[:80])
    chain = "\U0001f468\u200d" * 2000  # no emoji is this long: cut every EMOJI_PIECE characters
    assert all(len(piece) <= EMOJI_PIECE for piece in _emoji_pieces(chain))
    assert clean_text(chain) == reference_clean_text(chain)
    flags_run = "".join(rng.choice(flags) for _ in range(200)) + "\U0001f1e6"
    assert all(len(piece) % 2 == 0 for piece in _emoji_pieces(flags_run)[:-1])  # never half a flag
    assert clean_text(flags_run) == reference_clean_text(flags_run)
