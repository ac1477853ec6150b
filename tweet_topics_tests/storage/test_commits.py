"""Atomic, conditional hour commits: a killed writer leaves the previous version whole, a stale run cannot
overwrite a newer commit, and an hour committed from older raw objects is requested again by the sensor."""

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tweet_topics.defs.hourly.hours import combine_hour, commit_combined, read_raw_hour
from tweet_topics.defs.ingest.sensors import raw_tweets_sensor
from tweet_topics.storage.hourly import CorruptHour, StaleCommit
from tweet_topics.storage.keys import partition_key

HOUR = datetime(2026, 3, 1, 5, tzinfo=UTC)
FILES = ("tweets.csv", "quarantine.ndjson")


def version(n: int) -> dict[str, bytes]:
    return {"tweets.csv": f"id\n{n}\n".encode(), "quarantine.ndjson": f'{{"v": {n}}}\n'.encode()}


def test_a_stale_run_cannot_overwrite_a_newer_commit(resources, bucket):
    combined = resources["storage"].combined
    combined.write_hour(HOUR, version(1), {"v": 1})
    stale = combined.begin(HOUR)
    newer = combined.begin(HOUR)
    combined.write_hour(HOUR, version(2), {"v": 2}, token=newer)
    with pytest.raises(StaleCommit, match="another run committed"):
        combined.write_hour(HOUR, version(3), {"v": 3}, token=stale)
    assert combined.read_metadata(HOUR) == {"v": 2}
    assert combined.read_bytes(HOUR, "tweets.csv") == b"id\n2\n"
    # The refused run left nothing behind; the replaced version's files are gone too.
    live = {f["key"] for f in combined.read_commit(HOUR)["files"].values()} | {combined.commit_key(HOUR)}
    assert {o.key for o in resources["storage"].s3.list(combined.hour_prefix(HOUR))} == live


def test_two_first_commits_race_and_one_wins(resources, bucket):
    combined = resources["storage"].combined
    first, second = combined.begin(HOUR), combined.begin(HOUR)
    combined.write_hour(HOUR, version(1), {"v": 1}, token=first)
    with pytest.raises(StaleCommit):
        combined.write_hour(HOUR, version(2), {"v": 2}, token=second)
    assert combined.read_metadata(HOUR) == {"v": 1}


def test_a_retried_commit_whose_first_attempt_landed_is_ours_not_stale(resources, bucket):
    """boto3 retries a PutObject whose response was lost; the retry meets 412 from our own commit: success."""
    from tweet_topics.storage.hourly import CommitToken

    combined = resources["storage"].combined
    first = combined.write_hour(HOUR, version(1), {"v": 1}, token=CommitToken(None, None))
    again = combined.commit_written(HOUR, first["files"], {"v": 1}, token=CommitToken(None, None))
    assert again["files"] == first["files"]
    assert combined.read_bytes(HOUR, "tweets.csv") == b"id\n1\n", "our files were not deleted as 'stale'"


def test_readers_verify_the_commit_sha256(resources, bucket):
    combined = resources["storage"].combined
    commit = combined.write_hour(HOUR, version(1), {"v": 1})
    resources["storage"].s3.put(commit["files"]["tweets.csv"]["key"], b"id\n666\n")
    with pytest.raises(CorruptHour, match="sha256"):
        combined.read_bytes(HOUR, "tweets.csv")


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from tweet_topics.settings import load_settings
    from tweet_topics.storage.catalog import Storage

    storage = Storage.from_settings(load_settings())
    client = storage.s3.aws.client("s3")
    target = sys.argv[1]

    def die(params, **kwargs):
        if params["Key"].endswith(target):
            os._exit(9)  # the process dies right before this PutObject, as a kill would leave it

    client.meta.events.register("before-parameter-build.s3.PutObject", die)
    hour = datetime(2026, 3, 1, 5, tzinfo=UTC)
    storage.combined.write_hour(hour, {"tweets.csv": b"id\\n2\\n3\\n", "quarantine.ndjson": b""}, {"v": 2})
    """
)


@pytest.mark.parametrize("die_before", ["quarantine.ndjson", "_commit.json"])
def test_a_writer_killed_mid_write_leaves_the_previous_version_whole(resources, bucket, die_before):
    combined = resources["storage"].combined
    combined.write_hour(HOUR, version(1), {"v": 1})
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["storage"].s3.aws.endpoint() or ""}
    run = subprocess.run([sys.executable, "-c", KILL_SCRIPT, die_before], env=env, capture_output=True, timeout=60)
    assert run.returncode == 9, run.stderr.decode()[-2000:]
    assert combined.read_metadata(HOUR) == {"v": 1}
    assert {n: combined.read_bytes(HOUR, n) for n in FILES} == version(1)


def _evaluate(resources, cursor):
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context,
    ):
        return raw_tweets_sensor(context)


def _raw_line(tweet_id: int) -> bytes:
    record = {
        "schema_version": 1,
        "id": str(tweet_id),
        "created_at": "2026-03-01T00:00:00Z",
        "text": f"rocket launch number {tweet_id}",
        "author_id": "1",
    }
    return json.dumps(record).encode() + b"\n"


def test_an_hour_committed_from_older_raw_objects_is_requested_again(resources, bucket):
    """Run 1 reads 2 objects; a late 3rd lands; the sensor requests run 2, which begins before run 1 commits.
    Run 1 commits first, so run 2 is refused as stale. The sensor sees the commit read older objects than are
    there and requests the hour again; that run commits all 300 records, and then the hour is settled."""
    storage = resources["storage"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for n in (1, 2):
        storage.s3.put(f"{storage.raw_hour(hour)}stream-{n}", b"".join(_raw_line(n * 100 + i) for i in range(100)))
    tick = _evaluate(resources, None)
    assert [r.partition_key for r in tick.run_requests] == [partition_key(hour)]
    run1 = read_raw_hour(storage, hour)  # run 1 lists and reads 200 records
    storage.s3.put(f"{storage.raw_hour(hour)}stream-3-late", b"".join(_raw_line(300 + i) for i in range(100)))
    tick = _evaluate(resources, tick.cursor)
    assert [r.partition_key for r in tick.run_requests] == [partition_key(hour)]  # the late object changed it
    run2 = read_raw_hour(storage, hour)  # run 2 reads all 300, beginning before run 1's commit
    commit_combined(storage, run1)
    with pytest.raises(StaleCommit):
        commit_combined(storage, run2)
    assert storage.combined.read_metadata(hour)["kept"] == 200
    again = _evaluate(resources, tick.cursor)
    assert [r.partition_key for r in again.run_requests] == [partition_key(hour)], "commit read older objects"
    assert again.run_requests[0].run_key != tick.run_requests[0].run_key
    assert _evaluate(resources, again.cursor).run_requests == [], "requested once per newer commit, not every tick"
    combine_hour(storage, hour)
    assert storage.combined.read_metadata(hour)["kept"] == 300
    settled = _evaluate(resources, again.cursor)
    assert settled.run_requests == []
    assert _evaluate(resources, settled.cursor).run_requests == []


def test_a_late_object_is_requested_once_while_its_run_is_pending(resources, bucket):
    """A settled hour gets a late object: one request; ticks before that run commits request nothing more."""
    storage = resources["storage"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    storage.s3.put(f"{storage.raw_hour(hour)}stream-1", b"".join(_raw_line(i) for i in range(10)))
    tick = _evaluate(resources, None)
    combine_hour(storage, hour)
    tick = _evaluate(resources, tick.cursor)
    assert tick.run_requests == []
    storage.s3.put(f"{storage.raw_hour(hour)}stream-2-late", b"".join(_raw_line(50 + i) for i in range(10)))
    tick = _evaluate(resources, tick.cursor)
    assert len(tick.run_requests) == 1
    assert _evaluate(resources, tick.cursor).run_requests == [], "no redundant second run before the first commits"


def test_raw_hours_before_the_first_partition_are_skipped_not_fatal():
    """The sensor's split (``lib.hour_tracker.within_partitions``) on a real plan: the old hour is skipped and named,
    the valid one is requested; nothing raises."""
    from tweet_topics.lib.hour_tracker import plan, summarize, within_partitions

    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    listing = [("raw/2026/03/02/05/a", 10, "e1"), ("raw/2026/03/02/09/b", 10, "e2")]
    due, _ = plan(
        summarize(listing, "raw/"),
        None,
        now,
        timedelta(seconds=60),
        timedelta(minutes=5),
        timedelta(hours=72),
        committed=lambda hour: None,
    )
    kept, skipped = within_partitions(due, first=datetime(2026, 3, 2, 8, tzinfo=UTC))
    assert [partition_key(r.summary.hour) for r in kept] == ["2026-03-02-09:00"]
    assert [partition_key(r.summary.hour) for r in skipped] == ["2026-03-02-05:00"]
