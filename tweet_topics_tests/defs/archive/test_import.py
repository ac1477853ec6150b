"""An archive imported by event time goes through the existing hourly assets unchanged: real twarc2 pages and a
v1.1 file land in their posting hours, every imported id is in its hour's combined CSV, the delivery ledger
accounts for every tweet, a re-import writes nothing, and the command line speaks one JSON line per hour."""

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tweet_topics.archive.importer import run_import
from tweet_topics.lib.combine import csv_to_table
from tweet_topics.lib.ledger import reconcile
from tweet_topics.storage.keys import parse_partition_key, partition_key
from tweet_topics_tests.conftest import DATA, REAL_TWEETS
from tweet_topics_tests.defs.archive.archive_hours import COMBINED_2021, RAW_2021
from tweet_topics_tests.helpers import materialize_range

V1_FILE = DATA / "archive" / "v1-statuses.jsonl"
ASSETS = [RAW_2021, COMBINED_2021]


def _keys(storage) -> list[str]:
    return sorted(o.key for o in storage.s3.list(""))


def test_import_then_backfill_finds_every_id_in_its_posting_hour(resources, bucket, tmp_path):
    storage = resources["storage"]
    result = run_import(storage, [str(REAL_TWEETS), str(V1_FILE)], workers=1)
    summary = result.summary()
    assert summary == {
        "read": 219,
        "imported": 219,
        "duplicates": 0,
        "rejected": 0,
        "hours": 4,
        "first_hour": "2021-03-23-13:00",
        "last_hour": "2021-03-23-16:00",
    }
    expected = {h.hour: set() for h in result.hours}
    for key in (k for k in _keys(storage) if k.startswith(storage.raw_prefix)):
        hour = datetime.strptime(key[len(storage.raw_prefix) : len(storage.raw_prefix) + 13], "%Y/%m/%d/%H")
        assert "/archive-import-1-" in key
        for line in storage.s3.get(key).splitlines():
            expected[hour.replace(tzinfo=UTC)].add(json.loads(line)["id"])
    assert sum(map(len, expected.values())) == 219
    originals = [k for k in _keys(storage) if k.startswith(storage.original_prefix)]
    assert len(originals) == 4 and sum(len(gzip.decompress(storage.s3.get(k)).splitlines()) for k in originals) == 219

    run = materialize_range(ASSETS, resources, summary["first_hour"], summary["last_hour"])
    assert run.success
    found = {}
    for hour, ids in expected.items():
        table = csv_to_table(storage.combined.read_bytes(hour, "tweets.csv"))
        found[partition_key(hour)] = storage.combined.read_metadata(hour)["delivery_ranges"]
        assert set(table["id"].to_pylist()) == ids, partition_key(hour)
        assert storage.combined.read_metadata(hour)["outside_hour"] == 0

    # The ledger object of the run: every imported tweet handed, and found in a committed hour.
    ledger = [json.loads(storage.s3.get(k)) for k in _keys(storage) if k.startswith(storage.streamer.ledger_prefix)]
    assert len(ledger) == 1 and ledger[0]["source"] == "import" and len(ledger[0]["hours"]) == 4
    (reconciled,) = reconcile(found, ledger, datetime.now(UTC), grace=timedelta(0))
    assert reconciled.handed == reconciled.found == 219 and not reconciled.missing and not reconciled.unexpected

    before = _keys(storage)
    again = run_import(storage, [str(V1_FILE), str(REAL_TWEETS)], workers=1)
    assert again.objects == 0 and again.summary()["duplicates"] == 219 and again.summary()["imported"] == 0
    assert _keys(storage) == before


def _cli(resources, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url}
    return subprocess.run(
        [sys.executable, "-m", "tweet_topics", "import", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.usefixtures("bucket")
def test_cli_dry_run_prints_hours_and_summary_and_writes_nothing(resources, tmp_path):
    storage = resources["storage"]
    out = _cli(resources, str(REAL_TWEETS), str(V1_FILE), "--dry-run")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[:-1] == [
        {"hour": "2021-03-23-13:00", "tweets": 4},
        {"hour": "2021-03-23-14:00", "tweets": 5},
        {"hour": "2021-03-23-15:00", "tweets": 10},
        {"hour": "2021-03-23-16:00", "tweets": 200},
    ]
    assert lines[-1] == {
        "read": 219,
        "imported": 219,
        "duplicates": 0,
        "rejected": 0,
        "hours": 4,
        "first_hour": "2021-03-23-13:00",
        "last_hour": "2021-03-23-16:00",
    }
    assert _keys(storage) == []
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    out = _cli(resources, str(bad))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"python -m tweet_topics import: error: {bad}:1: no known format fits (expected twarc2, twarc2-flat, v1, "
        "x-archive, csv): b'hello'"
    ]
    assert parse_partition_key(lines[-1]["first_hour"]).year == 2021
