"""The live source's offsets: late-listed keys are not skipped, the offset stays small, replays are exact."""

from datetime import UTC, datetime, timedelta

from tweet_topics.live.offsets import RawOffset, advance, initial_offset, key_time, new_objects

PREFIX = "raw/tweets/"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
LOOKBACK = timedelta(minutes=15)


def key(at: datetime, tag: str = "a") -> str:
    return f"{PREFIX}{at:%Y/%m/%d/%H}/stream-1-{at:%Y-%m-%d-%H-%M-%S}-{tag}"


def test_key_time_reads_the_name_and_ignores_foreign_keys():
    at = NOW - timedelta(minutes=3)
    assert key_time(PREFIX, key(at)) == at.replace(microsecond=0)
    assert key_time(PREFIX, f"{PREFIX}2026/03/01/12/odd-name") == datetime(2026, 3, 1, 12, 59, 59, tzinfo=UTC)
    assert key_time(PREFIX, f"{PREFIX}notes.txt") is None


def test_a_late_listed_key_inside_the_lookback_is_read():
    start = initial_offset(PREFIX, NOW, timedelta(minutes=60))
    first = advance(start, [key(NOW - timedelta(minutes=2), "b")], PREFIX, NOW, LOOKBACK, 100)
    late = key(NOW - timedelta(minutes=4), "a")  # named earlier, listed later: a high-water mark would skip it
    second = advance(first, [late, key(NOW - timedelta(minutes=2), "b")], PREFIX, NOW, LOOKBACK, 100)
    assert new_objects(first, second) == [late]
    assert advance(second, [late], PREFIX, NOW, LOOKBACK, 100) is second  # nothing new: no empty batch


def test_old_keys_fold_into_the_floor_and_backlogs_are_split():
    keys = [key(NOW - timedelta(minutes=m), str(m)) for m in range(60, 0, -1)]
    offset = advance(RawOffset(PREFIX), keys, PREFIX, NOW, LOOKBACK, 25)
    assert len(offset.keys) == 25 and new_objects(RawOffset(PREFIX), offset) == sorted(keys)[:25]
    seen = set(offset.keys)
    while True:
        nxt = advance(offset, keys, PREFIX, NOW, LOOKBACK, 25)
        if nxt is offset:
            break
        batch = new_objects(offset, nxt)
        assert not seen & set(batch)
        seen |= set(batch)
        offset = nxt
    assert seen == set(keys)  # every key read exactly once across the batches
    assert len(offset.keys) < len(keys) / 2 and offset.floor > PREFIX  # old keys folded: the offset stays small
    assert RawOffset.from_dict(offset.to_dict()) == offset
