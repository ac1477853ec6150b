"""Each hour tells its own truth: in a single-run backfill every hour's latest materialization carries that hour's
own counts and its own check results; a wrong hour is held back from the corpus; racing runs converge; an hour
without raw objects while the streamer was delivering fails a check."""

import json
from datetime import timedelta

import dagster as dg

from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.hourly.hours import combine_hour, filter_hour
from tweet_topics.lib.filtering import Blocklist
from tweet_topics.storage.keys import parse_partition_key, partition_key
from tweet_topics_tests.helpers import START, materialize_range, seed

ASSETS = [RAW_TWEETS, combined_tweets, filtered_tweets]


def latest(instance: dg.DagsterInstance, asset: str, key: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]), limit=1
    ).records
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def seed_varied(resources, hours: int) -> dict[str, int]:
    """Hours with different volumes: hour i gets 20 + 7 i tweets; returns the expected kept per hour."""
    expected = {}
    for i in range(hours):
        summary = seed(resources, hours=1, tweets_per_hour=20 + 7 * i, start=START + timedelta(hours=i), seed_value=i)
        expected.update({k: v["kept"] for k, v in summary.expected.items()})
    return expected


def test_each_hour_of_a_single_run_backfill_shows_its_own_counts_and_checks(resources, bucket):
    kept = seed_varied(resources, hours=6)
    keys = sorted(kept)
    assert len(set(kept.values())) == 6
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(ASSETS, resources, keys[0], keys[-1], instance=instance)
    assert result.success
    assert len(result.get_asset_materialization_events()) == 12  # one per hour and asset, none for the range
    for key in keys:
        combined = latest(instance, "combined_tweets", key)
        assert combined["kept"] == combined["dagster/row_count"] == kept[key]
        assert combined["path"].endswith(f"/{key[11:13]}/") and "hours" not in combined
        assert combined["raw_objects"] == 4 and combined["blocking_checks_failed"] == []
        filtered = latest(instance, "filtered_tweets", key)
        assert filtered["input"] == kept[key] and filtered["corpus"] == "fed to the corpus"
    partitions = {(e.check_name, e.partition) for e in result.get_asset_check_evaluations()}
    assert {(name, key) for name in ("counts_reconcile", "schema", "filter_counts_reconcile") for key in keys} <= (
        partitions
    )


def test_an_hour_failing_a_blocking_check_is_held_back_from_the_corpus(resources, bucket):
    keys = sorted(seed(resources, hours=2, tweets_per_hour=40).expected)
    storage = resources["storage"]
    for key in keys:
        combine_hour(storage, parse_partition_key(key))
    # A combine whose count ledger does not reconcile: the gate computed before the commit records it.
    bad = parse_partition_key(keys[1])
    meta = storage.combined.read_metadata(bad)
    failures = checks.gate_failures(meta["records_read"] + 1, meta, meta["kept"], b"id,text\n", b"")
    assert sorted(failures) == ["counts_reconcile", "schema"]
    files = {name: storage.combined.read_bytes(bad, name) for name in storage.combined.files}
    storage.combined.write_hour(bad, files, {**meta, "failed_checks": failures})

    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(ASSETS, resources, keys[0], keys[-1], selection=[filtered_tweets], instance=instance)
    assert result.success  # the other hour is not hidden
    held = latest(instance, "filtered_tweets", keys[1])
    assert held["kept"] == 0 and "counts_reconcile" in held["corpus"] and "held back" in held["corpus"]
    assert storage.filtered.read_parquet(bad, "tweets.parquet").num_rows == 0
    assert storage.filtered.read_metadata(bad)["held_back"] == meta["kept"] > 0
    assert latest(instance, "filtered_tweets", keys[0])["kept"] > 0


def test_racing_filter_runs_converge_on_the_newer_combined_commit(resources, bucket):
    """#26 defect 5: run B began before run A committed, but read a newer combined commit; B's refused commit
    is retried on the current upstream instead of leaving the hour on A's older input for good."""
    key = next(iter(seed(resources, hours=1, tweets_per_hour=40).expected))
    storage, hour = resources["storage"], parse_partition_key(key)
    args = (Blocklist(terms=()), 1, ("en",))
    combine_hour(storage, hour)
    token_b = storage.filtered.begin(hour)  # run B begins
    filter_hour(storage, hour, *args)  # run A reads the first combined commit and commits
    storage.s3.put(storage.raw_hour(hour) + "late-object", seed_line(hour))
    newer = combine_hour(storage, hour)  # a newer combined commit (a late object)
    stats = filter_hour(storage, hour, *args, token=token_b)  # run B: refused once, then converges
    assert storage.filtered.read_commit(hour)["inputs"]["combined_commit"] == newer["commit"]
    assert stats["input"] == newer["kept"] == storage.filtered.read_metadata(hour)["input"]
    assert checks.filtered_from_current_combined(storage, hour)[0]


def seed_line(hour) -> bytes:
    record = {
        "schema_version": 1,
        "id": "999000111",
        "created_at": hour.strftime("%Y-%m-%dT%H:30:00Z"),
        "text": "a late rocket launch tweet that arrived",
        "author_id": "5",
        "lang": "en",
    }
    return json.dumps(record).encode() + b"\n"


def test_no_data_while_the_streamer_delivered_fails_and_a_quiet_hour_says_why(resources, bucket):
    storage = resources["storage"]
    silent, quiet = START + timedelta(hours=30), START + timedelta(hours=31)
    entry = {
        "run": "run-z",
        "handed": [[1, 300]],
        "rejected": [],
        "written_at": (silent + timedelta(minutes=20)).isoformat(),
    }
    storage.s3.put(storage.streamer.ledger("run-z", 1, 300), json.dumps(entry).encode())
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(
        ASSETS, resources, partition_key(silent), partition_key(quiet), selection=[combined_tweets], instance=instance
    )
    assert result.success
    by_hour = {
        e.partition: e for e in result.get_asset_check_evaluations() if e.check_name == "no_data_while_streaming"
    }
    failed = by_hour[partition_key(silent)]
    assert not failed.passed and failed.metadata["handed_by_ledger"].value == 300
    assert by_hour[partition_key(quiet)].passed
    assert "quiet hour" in by_hour[partition_key(quiet)].metadata["why"].value
    assert storage.combined.read_metadata(silent)["kept"] == 0  # committed empty, with the check failing


def test_topic_trends_backfill_gives_each_hour_its_own_metadata(resources, bucket):
    """topic_trends over 3 scored hours in one run: each hour's materialization has its own path, commit and
    baseline (0, 1, 2 trailing hours), not the last hour's."""
    import pyarrow as pa

    from tweet_topics.defs.reports.trends import topic_trends
    from tweet_topics.storage.catalog import PREDICTIONS_PARQUET
    from tweet_topics.storage.hourly import parquet_bytes

    predictions = resources["storage"].predictions
    keys = []
    for i in range(3):
        n = 20 + 10 * i
        table = pa.table(
            {
                "id": [str(j) for j in range(n)],
                "clean_text": ["rocket orbit launch"] * n,
                "dominant_topic": [j % 2 for j in range(n)],
                "dominant_prob": [0.8] * n,
            }
        )
        hour = START + timedelta(hours=i)
        predictions.write_hour(hour, {PREDICTIONS_PARQUET: parquet_bytes(table)}, {"model_version": "none"})
        keys.append(partition_key(hour))
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_range([topic_trends], resources, keys[0], keys[-1], instance=instance).success
    commits = set()
    for i, key in enumerate(keys):
        meta = latest(instance, "topic_trends", key)
        assert meta["baseline_hours"] == i and meta["path"].endswith(f"/{key[11:13]}/") and "hours" not in meta
        commits.add(meta["commit"])
    assert len(commits) == 3
