"""Range arithmetic and reconciliation of the delivery ledger."""

import json
from datetime import UTC, datetime, timedelta

from tweet_topics.lib.ledger import count, delivery_ranges, merge, reconcile, subtract

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def line(run: str, seq: int) -> bytes:
    return json.dumps({"id": str(seq), "delivery": {"run": run, "seq": seq}}).encode() + b"\n"


def test_range_arithmetic():
    assert merge([5, 1, 2, 3, [7, 9], 8, [20, 21]]) == [[1, 3], [5, 5], [7, 9], [20, 21]]
    assert count([[1, 3], [7, 9]]) == 6
    assert subtract([[1, 10]], [[2, 3], [5, 5], [9, 12]]) == [[1, 1], [4, 4], [6, 8]]
    assert subtract([[1, 3]], []) == [[1, 3]] and subtract([], [[1, 3]]) == []


def test_a_record_dropped_between_streamer_and_s3_is_a_gap_after_the_grace_period():
    sent = [s for s in range(1, 101) if s != 42]  # seq 42 was handed to Firehose but never landed
    hour_a = delivery_ranges([b"".join(line("r1", s) for s in sent[:60])])
    hour_b = delivery_ranges([b"".join(line("r1", s) for s in sent[60:]) + b'{"no": "delivery"}\n'])
    ledger = [
        {
            "run": "r1",
            "handed": [[1, 100]],
            "rejected": [[101, 101]],
            "written_at": (NOW - timedelta(hours=2)).isoformat(),
        }
    ]
    [result] = reconcile({"h1": hour_a, "h2": hour_b}, ledger, NOW, grace=timedelta(minutes=30))
    assert (result.handed, result.found, result.rejected) == (100, 99, 1)
    assert result.missing == [[42, 42]] and not result.ok
    [fresh] = reconcile({"h1": hour_a, "h2": hour_b}, ledger, NOW - timedelta(hours=2), grace=timedelta(minutes=30))
    assert fresh.ok and fresh.pending == 1, "within the grace period a missing record is pending, not lost"


def test_complete_delivery_reconciles_and_unledgered_records_are_reported():
    found = {"h1": delivery_ranges([b"".join(line("r2", s) for s in range(1, 51))])}
    ledger = [{"run": "r2", "handed": [[1, 40]], "written_at": (NOW - timedelta(hours=1)).isoformat()}]
    [result] = reconcile(found, ledger, NOW, grace=timedelta(minutes=5))
    assert result.ok and result.missing == [] and result.unexpected == [[41, 50]]
