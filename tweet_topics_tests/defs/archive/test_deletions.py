"""apply_deletions over an imported and backfilled range: no object (every version of every key) names a deleted
id afterwards, the hours' counts still reconcile, the delivery ledger accounts for what left, and a re-import does
not bring the deleted tweets back."""

import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from tweet_topics.archive.importer import run_import
from tweet_topics.defs.archive.deletions import apply_deletions
from tweet_topics.defs.hourly import checks
from tweet_topics.lib.ledger import merge, reconcile, subtract
from tweet_topics.storage.keys import parse_partition_key, partition_key
from tweet_topics_tests.conftest import DATA, REAL_TWEETS, empty_bucket
from tweet_topics_tests.defs.archive.archive_hours import COMBINED_2021, FILTERED_2021, RAW_2021
from tweet_topics_tests.helpers import materialize_range

V1_FILE = DATA / "archive" / "v1-statuses.jsonl"


def _every_version(storage) -> list[tuple[str, bytes]]:
    """Every version of every object in the bucket, as searchable text (gzip opened, Parquet read)."""
    s3, out = storage.s3.aws.client("s3"), []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=storage.bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=storage.bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"]
            data = body.read()
            if version["Key"].endswith(".gz"):
                data = gzip.decompress(data)
            elif version["Key"].endswith(".parquet"):
                data = json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str).encode()
            out.append((version["Key"], data))
    return out


def _ids(storage) -> dict[str, dict]:
    records = {}
    for info in storage.s3.list(storage.raw_prefix):
        for line in storage.s3.get(info.key).splitlines():
            record = json.loads(line)
            records[record["id"]] = record
    return records


def test_deleted_ids_leave_no_trace_and_counts_still_reconcile(resources, bucket, tmp_path):
    storage = resources["storage"]
    s3 = storage.s3.aws.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        _run(storage, resources, tmp_path)
    finally:
        empty_bucket(storage.s3)  # versions and delete markers gone, the bucket unversioned again


def _run(storage, resources, tmp_path) -> None:
    imported = run_import(storage, [str(REAL_TWEETS), str(V1_FILE)], workers=1)
    first, last = imported.summary()["first_hour"], imported.summary()["last_hour"]
    assert materialize_range([RAW_2021, COMBINED_2021, FILTERED_2021], resources, first, last).success
    records = _ids(storage)
    retweeted = {r["retweeted_id"] for r in records.values() if r["retweeted_id"]}
    originals = sorted(i for i in records if i not in retweeted and records[i]["retweeted_id"] is None)
    v1_ids = [json.loads(line)["id_str"] for line in V1_FILE.read_text().splitlines()]
    # A retweeted tweet among the imported ones takes its retweets with it; one tweet is protected, one scrubbed.
    target = next(i for i in v1_ids if i in retweeted and i in records)
    deleted = [originals[0], originals[1], target]
    protected, scrubbed = originals[2], originals[3]
    ids_file = tmp_path / "compliance.ndjson"
    ids_file.write_text(
        f"{deleted[0]}\n{deleted[1]}\n"
        + json.dumps({"id": target, "action": "delete"})
        + "\n"
        + json.dumps({"id": protected, "action": "protect"})
        + "\n"
        + json.dumps({"id": scrubbed, "action": "scrub_geo"})
        + "\nnot-an-id\n"
    )
    retweets = [i for i, r in records.items() if r["retweeted_id"] == target]
    assert retweets
    before = {key.split("/")[0] for key, data in _every_version(storage) if target.encode() in data}
    assert before >= {"raw", "original", "combined", "filtered"}, before  # the scan below can fail
    result = apply_deletions.execute_in_process(
        run_config={"ops": {"apply_deletions_op": {"config": {"ids_file": str(ids_file)}}}},
        resources={"storage": storage},
    )
    assert result.success
    audit = result.output_for_node("apply_deletions_op")
    gone = {*deleted, protected, *retweets}
    assert audit["records_removed"] == len(gone) and audit["unreadable_lines"] == 1
    assert audit["by_action"] == {"delete": 3, "protect": 1, "scrub_geo": 1}

    # No trace: no version of any object names a removed id (tombstones hold digests; audit and metadata counts).
    versions = _every_version(storage)
    assert len(versions) > len(list(storage.s3.list(""))) - 5  # noncurrent versions purged, current ones scanned
    for key, data in versions:
        for tweet_id in gone:
            assert tweet_id.encode() not in data, (key, tweet_id)
    assert set(_ids(storage)) == set(records) - gone and scrubbed in _ids(storage)

    # Counts still reconcile in every hour the deletion rewrote.
    for key in audit["hours"]:
        hour = parse_partition_key(key)
        for check in (checks.combined_counts_reconcile, checks.filtered_counts_reconcile):
            passed, details = check(storage, hour)
            assert passed, (check.__name__, key, details)

    # The ledger accounts for the removal: what was handed minus what was deleted is exactly what is found.
    found = {
        partition_key(h): storage.combined.read_metadata(h)["delivery_ranges"]
        for h in storage.combined.committed_hours()
    }
    (run,) = audit["deleted_delivery"]
    assert len(merge(audit["deleted_delivery"][run])) >= 1
    ledger = [json.loads(storage.s3.get(o.key)) for o in storage.s3.list(storage.streamer.ledger_prefix)]
    (reconciled,) = reconcile(found, ledger, datetime.now(UTC), grace=timedelta(0))
    assert reconciled.missing == audit["deleted_delivery"][run]
    assert subtract(reconciled.missing, audit["deleted_delivery"][run]) == []

    # A re-import rejects the deleted tweets (and retweets of them); only the protected one may come back.
    again = run_import(storage, [str(REAL_TWEETS), str(V1_FILE)], workers=1)
    assert again.imported == 1 and again.tombstoned == len(gone) - 1
    assert set(_ids(storage)) == set(records) - gone | {protected}
