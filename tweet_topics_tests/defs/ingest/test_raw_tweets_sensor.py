from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.ingest.sensors import raw_tweets_sensor
from tweet_topics.storage.keys import partition_key
from tweet_topics_tests.helpers import START, seed


def evaluate(resources, cursor=None):
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context,
    ):
        return raw_tweets_sensor(context)


def test_closed_hours_are_requested_once_and_late_objects_rerequest(resources, bucket):
    seed(resources, hours=2, tweets_per_hour=20)
    store, layout = resources["storage"].s3, resources["storage"]
    now = datetime.now(UTC)
    # The current hour is still open: it must not be requested.
    store.put(f"{layout.raw_hour(now)}stream-1-open-hour", b"{}\n")
    # Closed hours must lie within the sensor's look-back: re-key the seeded objects to recent hours.
    recent = [now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=h) for h in (3, 2)]
    for hour_start, hour in zip((START, START + timedelta(hours=1)), recent, strict=True):
        for info in list(store.list(layout.raw_hour(hour_start))):
            store.put(layout.raw_hour(hour) + info.key.rsplit("/", 1)[1], store.get(info.key))
            store.aws.client("s3").delete_object(Bucket=store.bucket, Key=info.key)

    first = evaluate(resources)
    requested = sorted(r.partition_key for r in first.run_requests)
    assert requested == [partition_key(h) for h in recent]
    assert partition_key(now) not in requested
    events = {e.partition for e in first.asset_events}
    assert events == set(requested)

    again = evaluate(resources, first.cursor)
    assert again.run_requests == [], "unchanged hours are not requested twice"

    store.put(f"{layout.raw_hour(recent[0])}stream-1-late-object", b"{}\n")
    late = evaluate(resources, again.cursor)
    assert [r.partition_key for r in late.run_requests] == [partition_key(recent[0])]
    assert late.run_requests[0].run_key != first.run_requests[0].run_key


def test_an_hour_the_ledger_says_had_deliveries_is_requested_without_raw_objects(resources, bucket):
    """Missing is not empty: the streamer handed records in a closed hour that has no raw objects."""
    import json

    storage = resources["storage"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    entry = {
        "run": "run-q",
        "handed": [[1, 80]],
        "rejected": [],
        "written_at": (hour + timedelta(minutes=9)).isoformat(),
    }
    storage.s3.put(storage.streamer.ledger("run-q", 1, 80), json.dumps(entry).encode())
    first = evaluate(resources)
    [request] = first.run_requests
    assert request.partition_key == partition_key(hour) and request.run_key == f"ledger-only-{partition_key(hour)}"
    assert first.asset_events == []  # no raw objects: raw_tweets is not recorded for it


def test_a_corpus_hour_filtered_from_an_older_combined_commit_is_refiltered_once_settled(resources, bucket):
    """#26 defect 5, the second way to converge: the run that read the newer combined commit died, so the corpus
    hour still holds the older input; once the newer commit has settled the sensor asks for filtered_tweets."""
    from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
    from tweet_topics.defs.ingest.sensors import REFILTER_AFTER, stale_filtered_hours
    from tweet_topics.lib.filtering import Blocklist

    storage = resources["storage"]
    seed(resources, hours=1, tweets_per_hour=20)
    hour = START
    combine_hour(storage, hour)
    filter_hour(storage, hour, Blocklist(terms=()), 1, ("en",))
    newer = combine_hour(storage, hour)["commit"]  # the run that would filter it died
    now = datetime.fromisoformat(newer)
    assert stale_filtered_hours(storage, [hour], now) == []  # its own run may still be filtering
    assert stale_filtered_hours(storage, [hour], now + REFILTER_AFTER) == [(hour, newer)]
    filter_hour(storage, hour, Blocklist(terms=()), 1, ("en",))
    assert stale_filtered_hours(storage, [hour], now + REFILTER_AFTER) == []
