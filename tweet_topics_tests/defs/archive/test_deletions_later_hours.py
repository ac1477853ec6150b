"""apply_deletions reaches the hours that refer to a deleted tweet days later, and a replay of those hours after the
list gives the same stored result (issue 25, the soak's finding).

A tweet in hour H; in H+5 a retweet of it and a reply to it (plus a bad line, quarantined, that answers it); in
H+30 a quote of it, a quote of it that names its status URL (as X's quotes do) and a tweet linking to it; all
committed (combined, filtered), with originals and a predictions hour. After the list: no object in the bucket names
the tweet; the retweet, the linking quote and the link are gone; the reply, the plain quote and the bad line stay
with the reference nulled; every hour's counts reconcile; the audit names the three hours."""

import gzip
import io
import json
import random
from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from tweet_topics.defs.archive.deletions import apply_deletions
from tweet_topics.defs.hourly import checks
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.lib.combine import csv_to_table
from tweet_topics.lib.records import dumps_record, record_from_v2
from tweet_topics.lib.synthetic import TweetGenerator, firehose_key
from tweet_topics.storage.catalog import COMBINED_CSV, FILTERED_PARQUET, PREDICTIONS_PARQUET, QUARANTINE
from tweet_topics.storage.hourly import parquet_bytes
from tweet_topics.storage.keys import partition_key

H = datetime(2026, 3, 2, 5, tzinfo=UTC)
RETWEETED, REFERRED = H + timedelta(hours=5), H + timedelta(hours=30)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
OWN = ("source_key", "line_number")


def _records(hour: datetime, seed: int) -> list[dict]:
    tweets = TweetGenerator(seed=seed).tweets_between(hour, hour + timedelta(hours=1), 6)
    return [record_from_v2(t.payload) for t in tweets]


def _hours() -> tuple[str, dict[datetime, list[bytes]], dict[str, str]]:
    """(the deleted id, raw lines per hour, role -> id of the records referring to it)."""
    target = _records(H, 1)[0]
    tid = target["id"]
    later, refs = _records(RETWEETED, 2), _records(REFERRED, 3)
    retweet = dict(later[0], retweeted_id=tid, is_retweet=True, text="RT @someone: " + target["text"])
    reply = dict(later[1], in_reply_to_id=tid, conversation_id=tid)
    bad = dict(later[2], text=None, in_reply_to_id=tid, id=str(int(later[2]["id"]) + 7))  # quarantined: no text
    quote = dict(refs[0], quoted_id=tid)
    url = f"https://twitter.com/someone/status/{tid}"
    linking_quote = dict(refs[1], quoted_id=tid, urls=[url], num_urls=1)
    link = dict(refs[2], text=refs[2]["text"] + " " + url)
    roles = {"retweet": retweet, "reply": reply, "bad": bad, "quote": quote, "linking_quote": linking_quote}
    roles["link"] = link
    lines = {
        H: [dumps_record(r) for r in _records(H, 1)],
        RETWEETED: [dumps_record(r) for r in (retweet, reply, bad, *later[2:])],
        REFERRED: [dumps_record(r) for r in (quote, linking_quote, link, *refs[3:])],
    }
    return tid, lines, {role: r["id"] for role, r in roles.items()}


def _deliver(storage, hour: datetime, lines: list[bytes], seed: int) -> None:
    key = firehose_key(storage.raw_prefix, "s", hour + timedelta(minutes=20), random.Random(seed))
    storage.s3.put(key, b"".join(lines))


def _commit(resources: dict, hour: datetime) -> None:
    assets = [RAW_TWEETS, combined_tweets, filtered_tweets]
    selection = [combined_tweets, filtered_tweets]
    run = dg.materialize(assets, selection=selection, partition_key=partition_key(hour), resources=resources,
                         run_config=QUIET)  # fmt: skip
    assert run.success


def _commit_hours(storage, resources, lines: dict[datetime, list[bytes]]) -> None:
    """Deliver each hour's lines, commit combined and filtered, and store its originals and predictions."""
    for seed, (hour, body) in enumerate(lines.items()):
        _deliver(storage, hour, body, seed)
        _commit(resources, hour)
        originals = b"".join(json.dumps({"data": json.loads(line)}).encode() + b"\n" for line in body)
        storage.s3.put(storage.original_key(hour, f"{seed:064x}"), gzip.compress(originals))
        kept = storage.filtered.read_parquet(hour, FILTERED_PARQUET, columns=["id"])
        predictions = pa.table({"id": kept["id"], "dominant_topic": pa.array([0] * kept.num_rows)})
        storage.predictions.write_hour(hour, {PREDICTIONS_PARQUET: parquet_bytes(predictions)}, {"rows": 1})


def _committed(storage, resources, tmp_path) -> tuple[str, dict[str, str], dict]:
    """The three hours committed with originals and predictions, then the deletion list applied; the audit."""
    tid, lines, ids = _hours()
    _commit_hours(storage, resources, lines)
    assert ids["linking_quote"] in storage.predictions.read_parquet(REFERRED, PREDICTIONS_PARQUET)["id"].to_pylist()
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(tid + "\n")
    run = apply_deletions.execute_in_process(
        run_config={**QUIET, "ops": {"apply_deletions_op": {"config": {"ids_file": str(ids_file)}}}},
        resources={"storage": storage},
    )
    assert run.success
    return tid, ids, run.output_for_node("apply_deletions_op")


def _searchable(key: str, data: bytes) -> bytes:
    if key.endswith(".gz"):
        return gzip.decompress(data)
    if key.endswith(".parquet"):
        return json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str).encode()
    return data


def _stored(storage, hour: datetime) -> tuple[dict[str, dict], list[tuple[str, str]], list[str]]:
    """What the hour stores, without the combine's bookkeeping: rows by id, quarantined (reason, line), filtered ids."""
    table = csv_to_table(storage.combined.read_bytes(hour, COMBINED_CSV))
    rows = {r["id"]: {k: v for k, v in r.items() if k not in OWN} for r in table.to_pylist()}
    quarantine = storage.combined.read_bytes(hour, QUARANTINE).splitlines()
    lines = sorted((q["reason"], q["line"]) for q in map(json.loads, quarantine))
    return rows, lines, sorted(storage.filtered.read_parquet(hour, FILTERED_PARQUET, columns=["id"])["id"].to_pylist())


def _reconciles(storage, hour: datetime) -> None:
    for check in (checks.combined_counts_reconcile, checks.filtered_counts_reconcile):
        passed, details = check(storage, hour)
        assert passed, (check.__name__, partition_key(hour), details)


def test_deletion_reaches_later_hours_that_retweet_reply_or_quote(resources, bucket, tmp_path):
    storage = resources["storage"]
    tid, ids, audit = _committed(storage, resources, tmp_path)
    assert audit["hours"] == [partition_key(h) for h in (H, RETWEETED, REFERRED)]
    assert audit["committed_hours_read"] == 3 and audit["records_removed"] == 4  # tweet, retweet, linking quote, link
    for info in storage.s3.list(""):
        assert tid.encode() not in _searchable(info.key, storage.s3.get(info.key)), info.key
    retweeted, _, _ = _stored(storage, RETWEETED)
    referred, _, filtered = _stored(storage, REFERRED)
    assert ids["retweet"] not in retweeted and retweeted[ids["reply"]]["in_reply_to_id"] is None
    assert retweeted[ids["reply"]]["conversation_id"] is None
    assert referred[ids["quote"]]["quoted_id"] is None and ids["quote"] in filtered
    assert ids["linking_quote"] not in referred and ids["link"] not in referred
    assert storage.predictions.read_parquet(REFERRED, PREDICTIONS_PARQUET)["id"].to_pylist() == filtered
    (bad,) = [json.loads(q) for q in storage.combined.read_bytes(RETWEETED, QUARANTINE).splitlines()]
    assert bad["reason"] == "missing_field:text" and json.loads(bad["line"])["in_reply_to_id"] is None
    for hour in (H, RETWEETED, REFERRED):
        _reconciles(storage, hour)


def test_records_delivered_after_the_list_are_stored_as_the_rewrite_stores_them(resources, bucket, tmp_path):
    storage = resources["storage"]
    tid, _, _ = _committed(storage, resources, tmp_path)
    _, lines, _ = _hours()
    for seed, (stored_at, replayed_at) in enumerate(((RETWEETED, H + timedelta(hours=50)),
                                                     (REFERRED, H + timedelta(hours=75)))):  # fmt: skip
        _deliver(storage, replayed_at, lines[stored_at], 10 + seed)
        _commit(resources, replayed_at)
        assert _stored(storage, replayed_at) == _stored(storage, stored_at)
        _reconciles(storage, replayed_at)
        meta = storage.combined.read_metadata(replayed_at)
        assert meta["deleted_on_request"] == (1 if stored_at == RETWEETED else 2), meta
        for file in (COMBINED_CSV, QUARANTINE):
            assert tid.encode() not in storage.combined.read_bytes(replayed_at, file)
