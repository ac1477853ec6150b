"""The original JSON beside the streamer's records (issue 25): every delivered record has its payload in the
``original/`` hour it was delivered to (a page's tweet with only the includes it references); turned off by the
setting; and files a run could not upload are uploaded by the next start (the write-ahead guarantee)."""

import gzip
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config

from tweet_topics.settings import get_settings
from tweet_topics.storage.keys import hour_from_key
from tweet_topics.storage.original_keys import OriginalKeys
from tweet_topics.streamer.originals import OriginalWriter
from tweet_topics.streamer.sources import Item
from tweet_topics_tests.conftest import REAL_TWEETS
from tweet_topics_tests.streamer.conftest import delivered_ids, streamer_env


def _originals(resources) -> dict[str, tuple[datetime, dict]]:
    """id -> (the hour of its original object, its payload)."""
    storage = resources["storage"]
    out = {}
    for info in storage.s3.list(storage.original_prefix):
        for line in gzip.decompress(storage.s3.get(info.key)).splitlines():
            payload = json.loads(line)
            out[payload["data"]["id"]] = (hour_from_key(storage.original_prefix, info.key), payload)
    return out


def _replay(resources, tmp_path, **env: str) -> None:
    argv = ["-m", "tweet_topics", "stream", "replay", str(REAL_TWEETS), "--state-dir", str(tmp_path / "state")]
    done = subprocess.run(
        [sys.executable, *argv],
        env=streamer_env(resources["aws"].endpoint_url, **env),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_streamed_record_has_its_original_in_its_raw_hour(resources, firehose, tmp_path):
    _replay(resources, tmp_path)
    ids = delivered_ids(resources)
    originals = _originals(resources)
    assert len(ids) == 200 and set(originals) == set(ids)
    storage = resources["storage"]
    raw_hours = {hour_from_key(storage.raw_prefix, o.key) for o in storage.s3.list(storage.raw_prefix)}
    pages = [json.loads(line) for line in REAL_TWEETS.read_text().splitlines()]
    tweets = {t["id"]: t for page in pages for t in page["data"]}
    users = {u["id"]: u for page in pages for u in page["includes"]["users"]}
    for tweet_id, (hour, payload) in originals.items():
        assert hour in raw_hours or hour + timedelta(hours=1) in raw_hours  # the hour Firehose delivered to
        assert payload["data"] == tweets[tweet_id]  # what X sent, unchanged
        authors = {u["id"] for u in payload["includes"]["users"]}
        assert payload["data"]["author_id"] in authors and authors <= set(users)
        assert len(payload["includes"]["users"]) < len(pages[0]["includes"]["users"])  # not the page's includes


def test_keep_original_off_writes_none(resources, firehose, tmp_path):
    _replay(resources, tmp_path, TWEET_TOPICS_KEEP_ORIGINAL="false")
    assert len(delivered_ids(resources)) == 200 and _originals(resources) == {}
    assert not (tmp_path / "state" / "originals").exists() or not any((tmp_path / "state" / "originals").iterdir())


def test_files_not_uploaded_are_uploaded_by_the_next_start(resources, bucket, tmp_path):
    settings = get_settings()
    keys = OriginalKeys(settings.original_prefix)
    directory = tmp_path / "originals"
    page = json.loads(REAL_TWEETS.read_text().splitlines()[0])
    items = [Item({"data": t, "includes": page["includes"]}, complete=False) for t in page["data"][:10]]
    dead = boto3.client(  # a closed port: every put fails
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name=settings.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=0.2, retries={"total_max_attempts": 1}),
    )
    failing = OriginalWriter(dead, settings.bucket, keys, directory, "run-a")
    failing.start()
    for seq, item in enumerate(items[:6], start=1):
        failing.add(item, seq)
    assert failing.close(until=time.monotonic() + 1) == 1  # the put failed: the sealed file stays
    killed = OriginalWriter(dead, settings.bucket, keys, directory, "run-b")  # never uploads, never seals
    for seq, item in enumerate(items[6:], start=1):
        killed.add(item, seq)
    killed.flush()  # the loop flushes with its write-ahead log, before the items count as received; then the kill
    assert len(list(directory.iterdir())) == 2 and _originals(resources) == {}

    restarted = OriginalWriter(resources["aws"].client("s3"), settings.bucket, keys, directory, "run-c")
    restarted.start()
    assert restarted.close(until=time.monotonic() + 30) == 0 and not list(directory.iterdir())
    originals = _originals(resources)
    assert set(originals) == {t["id"] for t in page["data"][:10]}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert {hour for hour, _ in originals.values()} <= {now, now - timedelta(hours=1)}


def test_a_payload_orjson_refuses_is_kept_escaped():
    from tweet_topics.streamer.originals import original_line

    line = original_line(Item({"data": {"id": "1", "text": "\ud800 lone"}}), {})
    assert json.loads(line)["data"]["text"] == "\ud800 lone" and line.endswith(b"\n") and b"\\ud800" in line
