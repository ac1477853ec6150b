"""Live vs batch on one real hour: the live query and the hourly assets score the same objects with one model."""

from datetime import UTC, datetime, timedelta

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.live.checks import live_reconciles_with_batch
from tweet_topics.defs.topics.assignments import tweet_topic_assignments
from tweet_topics.live.reconcile import reconcile_hour
from tweet_topics.live.runner import LiveOptions, LiveProcess
from tweet_topics.storage.keys import partition_key
from tweet_topics_tests.helpers import materialize_range
from tweet_topics_tests.live.support import fit_tiny_model, put_raw, raw_objects


def test_live_reconciles_with_the_batch_and_names_the_minutes_that_do_not(settings, resources, bucket, spark, tmp_path):
    storage = resources["storage"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)  # a closed partition
    version = fit_tiny_model(spark, storage, "tiny-reconcile", tmp_path)
    objects = raw_objects(storage, count=3, per_object=40, when=hour + timedelta(minutes=20), seed=17)
    put_raw(storage, objects)
    options = LiveOptions(checkpoint=str(tmp_path / "checkpoint"), start_back_minutes=120)
    process = LiveProcess(settings, options, storage=storage)
    process.query = process.start_query(spark)
    process.query.processAllAvailable()
    process.query.stop()
    key = partition_key(hour)
    scored = materialize_range(
        [RAW_TWEETS, combined_tweets, filtered_tweets, tweet_topic_assignments], resources, key, key
    )
    assert scored.success and storage.predictions.read_metadata(hour)["model_version"] == version
    result = reconcile_hour(storage, hour)
    assert result.status == "match" and result.live == result.batch > 0 and result.agreement >= 0.99, result
    assert live_reconciles_with_batch(storage=storage).passed
    # The live query lost a minute (say, it was down and its checkpoint was reset): the check names it.
    lost = sorted(storage.s3.list(storage.live.minutes_of_hour(hour)), key=lambda o: o.key)[0]
    storage.s3.delete_keys([lost.key])
    failed = live_reconciles_with_batch(storage=storage)
    minute = lost.key.rsplit("/", 2)[-2] + ":" + lost.key.rsplit("/", 1)[-1].split(".")[0]
    assert not failed.passed and f"T{minute}" in failed.description and "only in the batch" in failed.description
