"""A rerun of apply_deletions after a failure mid-hour repairs the hour and accounts for what the failed run removed.

The first run fails in the retweet hour after its raw and original objects were rewritten, before the hour was
re-combined (``combine_hour`` raising once). Then: the combined hour still names the deleted tweet, and a rerun's
rewrite finds nothing left to change there. After the rerun no object in the bucket names the tweet, the hours
reconcile, and the audit's ``deleted_delivery`` holds the sequences of every removed record, those removed by the
failed run included; no progress record is left."""

import json
from datetime import datetime

import pytest

import tweet_topics.archive.deletions as deletions
from tweet_topics.archive.deletions import apply_deletions
from tweet_topics.lib.archive.compliance import Actions
from tweet_topics.lib.ledger import merge
from tweet_topics.lib.records import dumps_record
from tweet_topics.storage.catalog import COMBINED_CSV, PREDICTIONS_PARQUET
from tweet_topics_tests.defs.archive.test_deletions_later_hours import (
    REFERRED,
    RETWEETED,
    H,
    _commit_hours,
    _hours,
    _reconciles,
    _searchable,
    _stored,
)


def _delivered(lines: dict[datetime, list[bytes]]) -> tuple[dict[datetime, list[bytes]], dict[str, int]]:
    """The lines with a streamer delivery (run ``r1``, a seq per line, as the streamer writes it); id -> seq."""
    out, seqs = {}, {}
    for n, (hour, body) in enumerate(lines.items()):
        out[hour] = []
        for i, line in enumerate(body):
            record = json.loads(line)
            seqs[record["id"]] = 100 * n + i
            out[hour].append(dumps_record(record | {"delivery": {"run": "r1", "seq": 100 * n + i}}))
    return out, seqs


def _setup(storage, resources) -> tuple[str, dict[str, str], dict[str, int]]:
    tid, lines, ids = _hours()
    lines, seqs = _delivered(lines)
    _commit_hours(storage, resources, lines)
    return tid, ids, seqs


@pytest.mark.parametrize("rerun_also", [None, "reply"])  # the same list again, or a longer one (the reply too)
def test_a_rerun_after_a_failure_mid_hour_repairs_the_hour_and_keeps_the_audit(resources, bucket, monkeypatch,
                                                                                rerun_also):  # fmt: skip
    storage = resources["storage"]
    tid, ids, seqs = _setup(storage, resources)
    actions = Actions(remove={tid}, tombstone={tid}, by_action={"delete": 1})
    real, failed = deletions.combine_hour, []

    def combine_failing_once(storage_, hour: datetime) -> None:
        if hour == RETWEETED and not failed:
            failed.append(hour)
            raise RuntimeError("S3 went away")
        real(storage_, hour)

    monkeypatch.setattr(deletions, "combine_hour", combine_failing_once)
    with pytest.raises(RuntimeError):
        apply_deletions(storage, actions, "first-run")
    raw = b"".join(storage.s3.get(o.key) for o in storage.s3.list(storage.raw_hour(RETWEETED)))
    assert tid.encode() not in raw and tid.encode() in storage.combined.read_bytes(RETWEETED, COMBINED_CSV)
    assert not list(storage.s3.list(storage.audit_prefix))

    if rerun_also:  # the retweet hour's raw object, rewritten by the failed run, now loses one more record
        actions = Actions(remove={tid, ids[rerun_also]}, tombstone={tid, ids[rerun_also]}, by_action={"delete": 2})
    audit = apply_deletions(storage, actions, "second-run")
    for info in storage.s3.list(""):
        assert tid.encode() not in _searchable(info.key, storage.s3.get(info.key)), info.key
    retweeted, _, filtered = _stored(storage, RETWEETED)
    assert ids["retweet"] not in retweeted
    assert ids["reply"] not in retweeted if rerun_also else retweeted[ids["reply"]]["in_reply_to_id"] is None
    assert storage.predictions.read_parquet(RETWEETED, PREDICTIONS_PARQUET)["id"].to_pylist() == filtered
    removed = [tid, ids["retweet"], ids["linking_quote"], ids["link"]] + ([ids[rerun_also]] if rerun_also else [])
    assert audit["records_removed"] == len(removed)
    assert audit["deleted_delivery"] == {"r1": merge(seqs[i] for i in removed)}
    assert not list(storage.s3.list(f"{storage.compliance_prefix}pending/"))
    for hour in (H, RETWEETED, REFERRED):
        _reconciles(storage, hour)
