"""delivery_ledger through a real materialize: a record dropped between the streamer and S3 fails the check."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets
from tweet_topics.defs.ingest.ledger import delivery_ledger
from tweet_topics.lib.ledger import StreamerKeys

HOUR = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _record(seq: int) -> bytes:
    record = {
        "schema_version": 1,
        "id": str(1000 + seq),
        "created_at": "2026-03-01T09:10:00Z",
        "text": f"rocket launch {seq}",
        "author_id": "7",
        "delivery": {"run": "run-a", "seq": seq},
    }
    return json.dumps(record).encode() + b"\n"


def _run(resources, handed_at: datetime) -> tuple[bool, dict]:
    storage = resources["storage"]
    ledger = {"run": "run-a", "handed": [[1, 50]], "rejected": [], "written_at": handed_at.isoformat()}
    storage.s3.put(StreamerKeys(storage.streamer_prefix).ledger("run-a", 1, 50), json.dumps(ledger).encode())
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
    assert dg.materialize([RAW_TWEETS, combined_tweets], resources=resources, partition_key="2026-03-01-09:00").success
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert not passed and (meta["handed"], meta["found"], meta["missing"]) == (50, 49, 1)
    assert "17" in meta["runs"]
    passed, meta = _run(resources, datetime.now(UTC))  # within the grace period: pending, not lost
    assert passed and meta["missing"] == 0


def test_complete_delivery_passes(resources, bucket):
    storage = resources["storage"]
    storage.s3.put(storage.raw_hour(HOUR) + "stream-1", b"".join(_record(s) for s in range(1, 51)))
    assert dg.materialize([RAW_TWEETS, combined_tweets], resources=resources, partition_key="2026-03-01-09:00").success
    passed, meta = _run(resources, datetime.now(UTC) - timedelta(hours=2))
    assert passed and meta["found"] == 50
    summary = json.loads(storage.s3.get(storage.streamer.summary))
    assert sum(summary["sent_by_hour"].values()) == 50 and summary["lost"] == {}
