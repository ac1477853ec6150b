"""Tombstones consulted by the combine: after apply_deletions, a replay (a new Firehose object in the raw hour)
carrying the deleted tweet, a retweet of it, a quote of it and a malformed line naming it brings none of them back
into combined or filtered; the hour's counts still reconcile with them counted as deleted_on_request."""

import io
import json
import random
from datetime import UTC, datetime

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tweet_topics.archive.importer import run_import
from tweet_topics.defs.archive.deletions import apply_deletions
from tweet_topics.defs.hourly import checks
from tweet_topics.lib.synthetic.firehose import firehose_key
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET, QUARANTINE
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.conftest import REAL_TWEETS
from tweet_topics_tests.defs.archive.archive_hours import COMBINED_2021, FILTERED_2021, RAW_2021
from tweet_topics_tests.helpers import materialize_range

HOUR = "2021-03-23-16:00"


def _raw_records(storage, hour) -> list[dict]:
    return [
        json.loads(line)
        for info in storage.s3.list(storage.raw_hour(hour))
        for line in storage.s3.get(info.key).splitlines()
    ]


def _replay(records: list[dict], target: dict) -> bytes:
    """What a replay through the streamer lands: the deleted tweet again, a retweet, a quote, a broken line."""
    retweet = dict(records[1], id="1374400000000000001", retweeted_id=target["id"], is_retweet=True)
    quote = dict(records[2], id="1374400000000000002", quoted_id=target["id"])
    lines = [dict(target), retweet, quote, dict(records[3], id="1374400000000000003")]
    for seq, line in enumerate(lines, start=1):
        line["delivery"] = {"run": "replay-test", "seq": seq}
    body = b"".join(json.dumps(r).encode() + b"\n" for r in lines)
    return body + b'{"id": "' + target["id"].encode() + b'", "text": "cut off\n'


def test_a_replayed_deleted_tweet_never_reaches_combined_or_filtered(resources, bucket, tmp_path):
    storage = resources["storage"]
    run_import(storage, [str(REAL_TWEETS)], workers=1)
    hour = parse_partition_key(HOUR)
    assert materialize_range([RAW_2021, COMBINED_2021, FILTERED_2021], resources, HOUR, HOUR).success
    records = _raw_records(storage, hour)
    target = next(r for r in records if not r["retweeted_id"])
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(target["id"] + "\n")
    assert apply_deletions.execute_in_process(
        run_config={"ops": {"apply_deletions_op": {"config": {"ids_file": str(ids_file)}}}},
        resources={"storage": storage},
    ).success
    assert target["id"] not in {r["id"] for r in _raw_records(storage, hour)}

    key = firehose_key(storage.raw_prefix, "tweets-stream", datetime(2021, 3, 23, 16, 40, tzinfo=UTC), random.Random(3))
    storage.s3.aws.client("s3").put_object(Bucket=storage.bucket, Key=key, Body=_replay(records, target))
    assert materialize_range([RAW_2021, COMBINED_2021, FILTERED_2021], resources, HOUR, HOUR).success

    csv = storage.combined.read_bytes(hour, COMBINED_CSV)
    assert target["id"].encode() not in csv and target["id"].encode() not in storage.combined.read_bytes(
        hour, QUARANTINE
    )
    table = pacsv.read_csv(
        io.BytesIO(csv),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=True, column_types={n: "string" for n in ("id", "quoted_id", "retweeted_id")}
        ),
    ).to_pylist()
    by_id = {r["id"]: r for r in table}
    assert "1374400000000000001" not in by_id  # the retweet went with its tweet
    assert by_id["1374400000000000002"]["quoted_id"] is None and "1374400000000000003" in by_id
    filtered = pq.read_table(io.BytesIO(storage.filtered.read_bytes(hour, FILTERED_PARQUET))).to_pylist()
    assert target["id"] not in {r["id"] for r in filtered}
    meta = storage.combined.read_metadata(hour)
    assert meta["deleted_on_request"] == 3 and meta["deleted_references_nulled"] == 1
    passed, details = checks.combined_counts_reconcile(storage, hour)
    assert passed and details["deleted_on_request"] == 3, details
