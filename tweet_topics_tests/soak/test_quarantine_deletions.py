"""The soak's quarantine count against a deletion list, on the real stack (the seed-26 soak of 2026-12-05).

That day's hour 00:00 ended in a truncated copy of tweet 2129011048097775629 (its last line, a duplicate cut in
half); the deletion list applied at 03:15 happened to draw that id, and apply_deletions removed the cut copy with
the tweet, as X's deletions require of any line naming it. The quarantine then held one truncated line less than
was injected, and the soak, comparing with the injected count, failed. Here the same interleaving is driven
directly: an hour is committed with its poison lines, a deletion list names the tweets they copy or refer to, and
a later object brings another one after the tombstones exist.
"""

import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.archive.deletions import apply_deletions
from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets
from tweet_topics.lib.records import dumps_record, record_from_v2
from tweet_topics.lib.synthetic import FaultSpec, TweetGenerator, firehose_key, render_hour
from tweet_topics.storage.catalog import QUARANTINE
from tweet_topics.storage.keys import partition_key
from tweet_topics_tests.soak.audit import audit, expected_quarantine
from tweet_topics_tests.soak.day import Poison
from tweet_topics_tests.soak.runs import QUIET

HOUR = datetime(2026, 3, 1, 5, tzinfo=UTC)
DELETED_AT = HOUR + timedelta(hours=2)
FAULTS = FaultSpec(malformed_json=1, duplicates=2, missing_text=1, truncated_last_line=True)


def _commit(resources: dict) -> None:
    run = dg.materialize(
        [RAW_TWEETS, combined_tweets], selection=[combined_tweets], partition_key=partition_key(HOUR),
        resources=resources, run_config=QUIET,
    )  # fmt: skip
    assert run.success


def test_poison_lines_naming_deleted_tweets_leave_the_quarantine_and_the_rest_stay(resources, bucket, tmp_path):
    storage = resources["storage"]
    tweets = TweetGenerator(seed=5).tweets_between(HOUR, HOUR + timedelta(hours=1), 20)
    rendered = render_hour(tweets, HOUR, storage.raw_prefix, "s", n_objects=3, faults=FAULTS, seed=5)
    for key, body in rendered.objects:
        storage.s3.put(key, body)
    poison = [Poison(HOUR + timedelta(minutes=30), reason, line) for _, reason, line in rendered.poison_lines]
    _commit(resources)
    assert Counter(q["reason"] for q in _quarantine(storage)) == rendered.expected_malformed
    # The cut last line is a duplicate: a truncated copy naming its tweet. The missing-text line carries the
    # first record's fields, so it refers to that tweet (conversation_id) without being it.
    cut = next(line for _, reason, line in rendered.poison_lines if reason == "truncated_line")
    copied = re.search(rb'"id":"(\d+)"', cut)
    assert copied, cut
    first, second = (record_from_v2(t.payload) for t in tweets[:2])
    deleted = {copied.group(1).decode(), first["id"], second["id"]}
    ids_file = tmp_path / "deletions.txt"
    ids_file.write_text("".join(f"{i}\n" for i in sorted(deleted)))
    run = apply_deletions.execute_in_process(
        run_config={**QUIET, "ops": {"apply_deletions_op": {"config": {"ids_file": str(ids_file)}}}},
        resources={"storage": storage},
    )
    assert run.success and run.output_for_node("apply_deletions_op")["records_removed"] >= 2
    # After the list: an object whose bad line refers to a deleted tweet meets the tombstones (the line stays, its
    # reference nulled, as the rewrite leaves a stored one), one whose bad line names no deleted tweet is
    # quarantined as ever.
    late_at = HOUR + timedelta(minutes=50)
    refers = dumps_record(dict(second, id="9123457", text=None)).rstrip(b"\n")
    broken = b'{"id": "77", "text": "late and broken'
    storage.s3.put(firehose_key(storage.raw_prefix, "s", late_at, random.Random(1)), refers + b"\n" + broken + b"\n")
    poison += [Poison(DELETED_AT + timedelta(hours=1), "missing_field:text", refers)]
    poison += [Poison(DELETED_AT + timedelta(hours=1), "invalid_json", broken)]
    _commit(resources)

    expected = expected_quarantine(poison, deleted)
    # Gone: the truncated copy (before the list: rewritten away). Kept: both missing-text lines, stored before the
    # list or delivered after it (their reference nulled either way), and both invalid lines.
    assert expected == Counter({"invalid_json": 2, "missing_field:text": 2})
    a = audit(storage, {i: "generator" for i in rendered.expected_ids}, [HOUR], [], deleted, quarantine=expected)
    assert a.quarantine_without_reason == 0 and a.quarantined == a.quarantine_expected
    # What the soak compared before: every injected line, deleted or not - one truncated line too many.
    injected = Counter(p.reason for p in poison)
    assert injected - a.quarantined == Counter({"truncated_line": 1})
    late = [q for q in _quarantine(storage) if q["line"].startswith('{"schema_version":1,"id":"9123457"')]
    assert len(late) == 1 and json.loads(late[0]["line"])["conversation_id"] is None, late
    assert not a.undeleted and not a.lost and not a.duplicated
    assert checks.combined_counts_reconcile(storage, HOUR)[0]


def _quarantine(storage) -> list[dict]:
    return [json.loads(line) for line in storage.combined.read_bytes(HOUR, QUARANTINE).splitlines()]
