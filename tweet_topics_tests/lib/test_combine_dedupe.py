"""Dedupe keeps the first row of every id, wherever the duplicate sits (found by the soak, issue 26)."""

from datetime import UTC, datetime, timedelta

from tweet_topics.lib.combine import combine_objects
from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, render_hour

HOUR = datetime(2026, 3, 1, 5, tzinfo=UTC)


def test_a_duplicate_before_later_unique_rows_loses_none_of_them():
    batch = TweetGenerator(seed=5).tweets_between(HOUR, HOUR + timedelta(hours=1), 40)
    hour = render_hour(batch, HOUR, "raw/", "s", n_objects=2, faults=FaultSpec())
    (key_a, body_a), (key_b, body_b) = hour.objects
    first_line = body_a.split(b"\n")[0]
    # Firehose redelivers the first record at the start of the second object, before its own unique rows.
    objects = [(key_a, body_a), (key_b, first_line + b"\n" + body_b)]
    result = combine_objects(objects, hour=HOUR)
    ids = result.table["id"].to_pylist()
    assert len(ids) == len(set(ids)), "a repeated id was kept"
    assert sorted(ids, key=int) == sorted(hour.expected_ids, key=int), "a unique id was lost"
    assert result.stats["duplicates"] == 1
