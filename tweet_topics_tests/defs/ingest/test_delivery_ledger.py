"""delivery_ledger through a real materialize: a record dropped between the streamer and S3 fails the check, and so
does a window where records were handed but nothing was committed (#26 defect 6)."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets
from tweet_topics.defs.ingest.ledger import delivery_ledger
from tweet_topics.lib.ledger import StreamerKeys

HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)  # inside the window
KEY = HOUR.strftime("%Y-%m-%d-%H:00")


def _record(seq: int) -> bytes:
    record = {
        "schema_version": 1,
        "id": str(1000 + seq),
        "created_at": HOUR.strftime("%Y-%m-%dT%H:10:00Z"),
        "text": f"rocket launch {seq}",
        "author_id": "7",
        "delivery": {"run": "run-a", "seq": seq},
    }
    return json.dumps(record).encode() + b"\n"


def _run(resources, handed_at: datetime, last: int = 50) -> tuple[bool, dict]:
    storage = resources["storage"]
    ledger = {"run": "run-a", "handed": [[1, last]], "rejected": [], "written_at": handed_at.isoformat()}
    storage.s3.put(StreamerKeys(storage.streamer_prefix).ledger("run-a", 1, last), json.dumps(ledger).encode())
    result = dg.materialize(
        [RAW_TWEETS, combined_tweets, delivery_ledger],
        resources=resources,
        selection=[delivery_ledger],
        raise_on_error=False,
    )
    [check] = result.get_asset_check_evaluations()
    meta = {k: v.value for k, v in result.asset_materializations_for_node("delivery_ledger")[0].metadata.items()}
    return check.passed, meta


def test_a_record_lost_after_the_streamer_fails_the_ledger_check(resources, bucket):
    storage = resources["storage"]
    landed = b"".join(_record(s) for s in range(1, 51) if s != 17)  # seq 17 never reached S3
    storage.s3.put(storage.raw_hour(HOUR) + "stream-1", landed)
    assert dg.materialize([RAW_TWEETS, combined_tweets], resources=resources, partition_key=KEY).success
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert not passed and (meta["handed"], meta["found"], meta["missing"]) == (50, 49, 1)
    assert "17" in meta["runs"]
    passed, meta = _run(resources, datetime.now(UTC))  # within the grace period: pending, not lost
    assert passed and meta["missing"] == 0


def test_complete_delivery_passes(resources, bucket):
    storage = resources["storage"]
    storage.s3.put(storage.raw_hour(HOUR) + "stream-1", b"".join(_record(s) for s in range(1, 51)))
    assert dg.materialize([RAW_TWEETS, combined_tweets], resources=resources, partition_key=KEY).success
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert passed and meta["found"] == 50
    summary = json.loads(storage.s3.get(storage.streamer.summary))
    assert sum(summary["sent_by_hour"].values()) == 50 and summary["lost"] == {}


def test_records_handed_while_nothing_was_committed_are_lost_not_zero(resources, bucket):
    """3,000 records handed to Firehose, every raw object gone, no hour committed: handed 3000, found 0."""
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2), last=3000)
    assert not passed and (meta["handed"], meta["found"], meta["missing"]) == (3000, 0, 3000)
    assert meta["hours_searched"] == 0


def test_records_removed_by_apply_deletions_are_accounted_for_not_lost(resources, bucket):
    """A deletion's audit entry names the delivery sequences it removed: they are not reported as missing."""
    storage = resources["storage"]
    landed = b"".join(_record(s) for s in range(1, 51) if s not in (17, 18))
    storage.s3.put(storage.raw_hour(HOUR) + "stream-1", landed)
    assert dg.materialize([RAW_TWEETS, combined_tweets], resources=resources, partition_key=KEY).success
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert not passed and meta["missing"] == 2  # without the audit entry they are lost
    audit = {"run": "r1", "deleted_delivery": {"run-a": [[17, 17]]}}
    storage.s3.put(f"{storage.audit_prefix}20260101T000000Z-r1.json", json.dumps(audit).encode())
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert not passed and meta["missing"] == 1 and meta["deleted_on_request"] == 1  # 18 was not deleted: lost
