"""Every hourly check reads what was stored: each one fails when a stored object is made wrong behind its back.
And one failing hour in a single-run backfill does not hide the hours that were committed."""

import dagster as dg
import pytest

from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.lib.combine import csv_to_table, table_to_csv
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.helpers import materialize_range, seed

ASSETS = [RAW_TWEETS, combined_tweets, filtered_tweets]


@pytest.fixture()
def hour(resources, bucket):
    key = next(iter(seed(resources, hours=1).expected))
    assert dg.materialize(ASSETS, resources=resources, partition_key=key).success
    return parse_partition_key(key)


def _overwrite(storage, dataset, hour, file, data: bytes) -> None:
    """Commit a wrong file with the hour's real metadata, as a buggy writer would."""
    files = {name: dataset.read_bytes(hour, name) for name in dataset.files}
    dataset.write_hour(hour, {**files, file: data}, dataset.read_metadata(hour))


def test_checks_pass_on_what_the_assets_wrote(resources, hour):
    storage = resources["storage"]
    for check in (
        checks.combined_counts_reconcile,
        checks.combined_unique_ids,
        checks.combined_schema,
        checks.combined_created_at_in_hour,
        checks.filtered_counts_reconcile,
    ):
        passed, details = check(storage, hour)
        assert passed, (check.__name__, details)


def test_counts_reconcile_fails_on_a_dropped_row_and_on_an_extra_raw_line(resources, hour):
    storage = resources["storage"]
    table = csv_to_table(storage.combined.read_bytes(hour, "tweets.csv"))
    _overwrite(storage, storage.combined, hour, "tweets.csv", table_to_csv(table.slice(1)))
    passed, details = checks.combined_counts_reconcile(storage, hour)
    assert not passed and details["stored_rows"] == details["kept"] - 1
    _overwrite(storage, storage.combined, hour, "tweets.csv", table_to_csv(table))
    storage.s3.put(storage.raw_hour(hour) + "late-object", b'{"late": 1}\n')
    passed, details = checks.combined_counts_reconcile(storage, hour)
    assert not passed and details["raw_lines"] == details["records_read"] + 1


def test_unique_ids_fails_on_a_repeated_id(resources, hour):
    storage = resources["storage"]
    table = csv_to_table(storage.combined.read_bytes(hour, "tweets.csv"))
    import pyarrow as pa

    _overwrite(
        storage, storage.combined, hour, "tweets.csv", table_to_csv(pa.concat_tables([table, table.slice(0, 2)]))
    )
    assert checks.combined_unique_ids(storage, hour) == (False, {"repeated_ids": 2})


def test_schema_fails_on_a_missing_column(resources, hour):
    storage = resources["storage"]
    table = csv_to_table(storage.combined.read_bytes(hour, "tweets.csv")).drop_columns(["lang"])
    _overwrite(storage, storage.combined, hour, "tweets.csv", table_to_csv(table))
    passed, details = checks.combined_schema(storage, hour)
    assert not passed and details["missing"] == ["lang"]


def test_created_at_in_hour_flags_a_tweet_from_another_day(resources, hour):
    import pyarrow as pa
    import pyarrow.compute as pc

    storage = resources["storage"]
    table = csv_to_table(storage.combined.read_bytes(hour, "tweets.csv"))
    created = table["created_at"].to_pylist()
    created[0] = "2020-01-01T00:00:00Z"
    table = table.set_column(table.schema.get_field_index("created_at"), "created_at", pa.array(created))
    _overwrite(storage, storage.combined, hour, "tweets.csv", table_to_csv(table))
    assert checks.combined_created_at_in_hour(storage, hour) == (False, {"outside_hour": 1})
    assert pc.count(table["id"]).as_py() == len(created)


def test_filter_counts_reconcile_fails_when_the_stored_corpus_lost_rows(resources, hour):
    storage = resources["storage"]
    kept = storage.filtered.read_parquet(hour, "tweets.parquet")
    from tweet_topics.storage.hourly import parquet_bytes

    _overwrite(storage, storage.filtered, hour, "tweets.parquet", parquet_bytes(kept.slice(3)))
    passed, details = checks.filtered_counts_reconcile(storage, hour)
    assert not passed and details["stored_kept"] == kept.num_rows - 3


def test_a_failing_hour_does_not_hide_the_committed_ones(resources, bucket):
    """filtered_tweets over 3 hours whose middle hour was never combined: 2 hours are recorded, the run names 1."""
    keys = sorted(seed(resources, hours=3).expected)
    for key in (keys[0], keys[2]):
        assert dg.materialize(ASSETS, resources=resources, partition_key=key, selection=[combined_tweets]).success
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(
        ASSETS, resources, keys[0], keys[-1], selection=[filtered_tweets], raise_on_error=False, instance=instance
    )
    assert not result.success
    assert sorted(instance.get_materialized_partitions(dg.AssetKey("filtered_tweets"))) == [keys[0], keys[2]]
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert keys[1] in message and "1 of 3 hours failed" in message
    storage = resources["storage"]
    assert storage.filtered.committed_hours() == [parse_partition_key(keys[0]), parse_partition_key(keys[2])]


def test_a_retry_across_an_hour_boundary_is_kept_once(resources, bucket):
    """Firehose's at-least-once delivery put the same tweet into two adjacent hours: it stays in the first."""
    import json

    storage = resources["storage"]
    first, second = parse_partition_key("2026-03-01-10:00"), parse_partition_key("2026-03-01-11:00")

    def line(tweet_id: str, minute: int) -> bytes:
        record = {
            "schema_version": 1,
            "id": tweet_id,
            "created_at": f"2026-03-01T10:{minute:02d}:00Z",
            "text": f"rocket {tweet_id}",
            "author_id": "3",
        }
        return json.dumps(record).encode() + b"\n"

    storage.s3.put(storage.raw_hour(first) + "s-1", line("501", 58) + line("502", 59))
    storage.s3.put(storage.raw_hour(second) + "s-1", line("502", 59) + line("503", 1))
    for key in ("2026-03-01-10:00", "2026-03-01-11:00"):
        result = dg.materialize(ASSETS, resources=resources, partition_key=key, selection=[combined_tweets])
        assert result.success and all(
            c.passed for c in result.get_asset_check_evaluations() if c.check_name != "created_at_in_hour"
        )
    meta = storage.combined.read_metadata(second)
    assert (meta["kept"], meta["duplicates"], meta["cross_hour_duplicates"]) == (1, 1, 1)
    assert csv_to_table(storage.combined.read_bytes(second, "tweets.csv"))["id"].to_pylist() == ["503"]
    assert storage.combined.read_metadata(first)["kept"] == 2
    # Re-running in the other order (or together) gives the same: only the previous hour is consulted.
    for key in ("2026-03-01-11:00", "2026-03-01-10:00"):
        assert dg.materialize(ASSETS, resources=resources, partition_key=key, selection=[combined_tweets]).success
    assert storage.combined.read_metadata(first)["kept"] == 2
    assert storage.combined.read_metadata(second)["cross_hour_duplicates"] == 1


def test_an_hour_whose_raw_objects_are_gone_keeps_its_committed_output(resources, bucket):
    """Raw data expired by a lifecycle rule: a re-run fails naming the hour instead of committing an empty hour."""
    keys = sorted(seed(resources, hours=1).expected)
    storage, hour = resources["storage"], parse_partition_key(keys[0])
    assert dg.materialize(ASSETS, resources=resources, partition_key=keys[0], selection=[combined_tweets]).success
    kept = storage.combined.read_metadata(hour)["kept"]
    s3 = storage.s3.aws.client("s3")
    for info in list(storage.s3.list(storage.raw_hour(hour))):
        s3.delete_object(Bucket=storage.bucket, Key=info.key)
    result = dg.materialize(
        ASSETS, resources=resources, partition_key=keys[0], selection=[combined_tweets], raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert keys[0] in str(failure.event_specific_data.error) and "no raw objects" in str(
        failure.event_specific_data.error
    )
    assert storage.combined.read_metadata(hour)["kept"] == kept > 0
