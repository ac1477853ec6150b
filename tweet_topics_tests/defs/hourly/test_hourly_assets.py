import csv
import io
import json

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.lib.combine import csv_to_table
from tweet_topics.lib.filtering import FILTER_REASONS
from tweet_topics.lib.synthetic import FaultSpec
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.helpers import materialize_range, seed

ASSETS = [RAW_TWEETS, combined_tweets, filtered_tweets]
FAULTS = FaultSpec(malformed_json=2, duplicates=3, missing_text=1, truncated_last_line=True, legacy_tab_lines=3)


def materializations(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict]:
    """Each hour's materialization metadata (one materialization per hour, none for the range)."""
    out: dict[str, dict] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            if mat.asset_key.to_user_string() == asset:
                assert mat.partition not in out, f"{asset} {mat.partition} materialized twice"
                out[mat.partition] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_backfill_range_in_one_run_matches_generated_input(resources, bucket):
    seeded = seed(resources, hours=3, faults=FAULTS)
    keys = sorted(seeded.expected)
    result = materialize_range(ASSETS, resources, keys[0], keys[-1])
    assert result.success
    combined = materializations(result, "combined_tweets")
    assert sorted(combined) == keys
    for key, expected in seeded.expected.items():
        got = combined[key]
        assert (got["kept"], got["malformed"], got["duplicates"]) == (
            expected["kept"],
            expected["malformed"],
            expected["duplicates"],
        )
        assert got["records_read"] == got["kept"] + got["malformed"] + got["duplicates"]
        assert got["dagster/row_count"] == got["kept"] and got["path"].endswith(f"/{key[11:13]}/")
        filtered = materializations(result, "filtered_tweets")[key]
        assert filtered["input"] == got["kept"]
        assert filtered["input"] == filtered["kept"] + sum(filtered[r] for r in FILTER_REASONS)
        assert filtered["retweet"] > 0 and filtered["non_english"] > 0 and filtered["blocklisted"] > 0
    evaluations = result.get_asset_check_evaluations()
    by_check: dict[str, set[str]] = {}
    for evaluation in evaluations:
        assert evaluation.passed, (evaluation.check_name, evaluation.partition, evaluation.metadata)
        by_check.setdefault(evaluation.check_name, set()).add(evaluation.partition)
    assert by_check == {
        name: set(keys)
        for name in (
            "counts_reconcile",
            "created_at_in_hour",
            "unique_ids",
            "schema",
            "no_data_while_streaming",
            "volume",
            "filter_counts_reconcile",
            "built_from_current_combined",
        )
    }

    layout = resources["storage"]
    hour = parse_partition_key(keys[1])
    quarantine = layout.combined.read_bytes(hour, "quarantine.ndjson").decode().splitlines()
    assert len(quarantine) == seeded.expected[keys[1]]["malformed"]
    assert all({"source_key", "line_number", "reason", "line"} <= set(json.loads(q)) for q in quarantine)
    corpus = layout.filtered.read_parquet(hour, "tweets.parquet")
    assert corpus.num_rows == materializations(result, "filtered_tweets")[keys[1]]["kept"]
    assert not any(corpus["is_retweet"].to_pylist())
    # Goddard tweets survive the blocklist's 'god'.
    texts = [
        t
        for k in keys
        for t in layout.filtered.read_parquet(parse_partition_key(k), "tweets.parquet")["clean_text"].to_pylist()
    ]
    assert any(t.startswith("goddard ") for t in texts)
    rejected = layout.filtered.read_parquet(hour, "rejected.parquet")
    assert set(rejected["reason"].to_pylist()) <= set(FILTER_REASONS)


def test_rerun_replaces_hour_with_identical_bytes(resources, bucket):
    seeded = seed(resources, hours=1, faults=FAULTS)
    key = next(iter(seeded.expected))
    hour = parse_partition_key(key)
    storage = resources["storage"]
    combined = storage.combined
    assert dg.materialize(ASSETS, resources=resources, partition_key=key).success
    first = combined.read_commit(hour)
    first_bytes = {name: combined.read_bytes(hour, name) for name in combined.files}
    assert dg.materialize(ASSETS, resources=resources, partition_key=key).success
    second = combined.read_commit(hour)
    assert {name: combined.read_bytes(hour, name) for name in combined.files} == first_bytes
    assert {n: f["sha256"] for n, f in first["files"].items()} == {n: f["sha256"] for n, f in second["files"].items()}
    # The replaced version's files are gone: the hour holds its commit and the files it names, nothing else.
    listed = sorted(o.key for o in storage.s3.list(combined.hour_prefix(hour)))
    assert listed == sorted([combined.commit_key(hour), *(f["key"] for f in second["files"].values())])
    assert not list(storage.s3.list("_staging/"))
    # The catalog's column schema is what was stored: the CSV's header and the filtered Parquet's columns.
    for spec in (*combined_tweets.specs, *filtered_tweets.specs):
        columns = [c.name for c in spec.metadata["dagster/column_schema"].columns]
        header = next(csv.reader(io.StringIO(combined.read_bytes(hour, COMBINED_CSV).decode())))
        assert columns == header == storage.filtered.read_parquet(hour, FILTERED_PARQUET).schema.names


def test_empty_hour_is_not_a_failure(resources, bucket):
    result = dg.materialize(ASSETS, resources=resources, partition_key="2026-03-02-00:00")
    assert result.success
    table = csv_to_table(
        resources["storage"].combined.read_bytes(parse_partition_key("2026-03-02-00:00"), "tweets.csv")
    )
    assert table.num_rows == 0 and "text" in table.column_names
