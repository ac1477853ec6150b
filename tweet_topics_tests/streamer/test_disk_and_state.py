"""Disk trouble, stray spool files, heartbeat states, the checkpoint under throttling, redaction of tracebacks."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.streamer.producer import Batch
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.runner import Checkpoint, Loop, Progress, run
from tweet_topics.streamer.secrets import RedactSecrets
from tweet_topics.streamer.sources import synthetic_source
from tweet_topics.streamer.spool import Spool
from tweet_topics.streamer.status import Health
from tweet_topics_tests.streamer.conftest import delivered_ids, wait_for
from tweet_topics_tests.streamer.test_streamer import FlakyFirehose, pipeline

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (CI runs as root); skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def records(count: int, seed: int = 1) -> list[bytes]:
    from tweet_topics.streamer.convert import to_record

    tweets = TweetGenerator(seed=seed).stream(count, start=ORIGIN + timedelta(hours=seed))  # ids differ per seed
    return [to_record(t.payload, "disk", i + 1)[0] for i, t in enumerate(tweets)]


def test_a_full_disk_loses_nothing_and_says_disk_full(resources, firehose, tiny_disk):
    flaky = FlakyFirehose(firehose, down_calls=10**6)  # Firehose down: every batch must go to the spool
    counters, sender, loop = pipeline(flaky, tiny_disk, deadline=0.2)
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * (900 * 1024))  # leaves less than a batch of room
    sender.start()
    health = Health(counters, loop, sender)
    batches = [records(500, seed=s) for s in range(1, 9)]
    handed = 0
    for batch in batches:  # 8 batches of ~1 MiB: more than the disk and than the queue hold
        counters.add(received=len(batch), in_memory=len(batch))
        if not sender.submit(Batch(batch, time.monotonic()), timeout=2.0):
            counters.add(received=-len(batch), in_memory=-len(batch))
            break
        handed += 1
    assert handed < len(batches)  # backpressure: the sender stopped taking batches
    wait_for(lambda: health.state() == "disk_full", 10)
    assert health.status()["state"] == "disk_full" and counters.in_memory > 0 and counters.balanced()
    assert not list(tiny_disk.glob("spool/*.tmp"))  # a failed write leaves no partial segment
    # The disk frees up and Firehose comes back: everything held is delivered; nothing was lost.
    filler.unlink()
    flaky.down_calls = 0
    wait_for(lambda: counters.in_memory == 0 and counters.backlog == 0, 60)
    sender.close(network_until=time.monotonic() + 10)
    sender.join(30)
    assert counters.sent == handed * 500 and counters.balanced()
    assert len(set(delivered_ids(resources))) == handed * 500
    assert health.state() == "running"


def test_stray_files_tmp_leftovers_and_bad_lines_in_the_spool(tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    good = records(3)
    (spool_dir / "segment-000000000001.ndjson").write_bytes(good[0] + b"not json\n" + good[1] + good[2][:40])
    (spool_dir / "segment-000000000002.ndjson").write_bytes(good[2])
    (spool_dir / "segment-000000000003.ndjson.tmp").write_bytes(b"half a batch")
    (spool_dir / "notes.txt").write_text("an operator's note")
    (spool_dir / "segment-7.ndjson").write_bytes(good[0])  # not the strict name: not ours
    bad: list[str] = []
    spool = Spool(spool_dir, on_bad_line=lambda reason, raw: bad.append(reason))
    assert [p.name for p in spool.segments()] == ["segment-000000000001.ndjson", "segment-000000000002.ndjson"]
    assert not list(spool_dir.glob("*.tmp"))
    assert sorted(p.name.split(".")[0] for p in (tmp_path / "spool-stray").iterdir()) == ["notes", "segment-7"]
    assert len(spool) == 5  # every line counts as backlog until it is read
    pending = list(spool.pending())
    assert [len(lines) for _, lines in pending] == [2, 1] and sorted(bad) == ["bad_spool_line", "truncated_spool_line"]
    assert len(spool) == 3
    assert Spool(spool_dir).segments()  # a second start is clean and reads the same


def test_heartbeat_states_follow_what_happened(resources, firehose, tmp_path):
    flaky = FlakyFirehose(firehose, down_calls=10**6)
    counters, sender, loop = pipeline(flaky, tmp_path, deadline=0.3)
    health = Health(counters, loop, sender)
    assert health.status()["state"] == "running"  # quiet: nothing to deliver is not a fault
    sender.start()
    counters.add(received=10, in_memory=10)
    sender.submit(Batch(records(10), time.monotonic()), 1.0)
    wait_for(lambda: counters.backlog == 10, 10)
    status = health.status()
    assert status["state"] == "degraded" and status["spool_backlog"] == 10 and status["last_delivery_at"] is None
    flaky.down_calls = 0  # Firehose is back: the backlog drains and the state recovers
    wait_for(lambda: health.state() == "running", 10)
    status = health.status()
    assert status["spool_backlog"] == 0 and status["last_delivery_at"] and status["state_since"]
    sender.close(time.monotonic() + 5)
    sender.join(10)


def test_checkpoint_never_claims_more_than_is_durable_under_50_percent_throttling(resources, firehose, tmp_path):
    flaky = FlakyFirehose(firehose, fail_share=0.5, seed=4)
    counters, sender, _ = pipeline(flaky, tmp_path, deadline=0.4)
    progress = Progress("cp")
    checkpoint = Checkpoint(tmp_path / "checkpoint.json", {"seed": 3}, "delivered", 0)
    loop = Loop(
        "cp", sender, counters, RejectLog(tmp_path / "rejects.ndjson"), checkpoint=checkpoint, progress=progress
    )
    sender.on_delivered = sender.on_spooled = lambda rs: progress.done([json.loads(r)["delivery"]["seq"] for r in rs])
    sender.start()
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    run(synthetic_source(10**6, rate=1500, seed=3, origin=ORIGIN, stop=stop), loop, stop)
    loop.advance_checkpoint()  # taken while batches are still in flight: it must not count them
    claimed = json.loads((tmp_path / "checkpoint.json").read_text())["delivered"]
    spooled = [json.loads(line)["id"] for p in sender.spool.segments() for line in p.read_bytes().splitlines()]
    durable = set(delivered_ids(resources)) | set(spooled)
    generator = TweetGenerator(seed=3)  # the source's own sequence: tweet i is created at ORIGIN + i / rate
    step = timedelta(seconds=1 / 1500)
    ids = [generator.tweet(ORIGIN + step * i).payload["data"]["id"] for i in range(claimed)]
    assert 0 < claimed <= counters.received and counters.retried > 0
    missing = [n for n, i in enumerate(ids) if i not in durable]
    assert not missing, (claimed, missing[:10], len(missing), counters.snapshot())  # every claimed tweet is durable
    loop.hand_off()
    sender.close(time.monotonic() + 10)
    sender.join(30)
    assert counters.balanced() and counters.in_memory == 0


def test_redaction_covers_log_exception_tracebacks_and_exception_text():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(["tok-3f9a-secret"]))
    logger = logging.getLogger("tweet_topics.test_redaction_tb")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError("GET https://api.x.com/2/stream?bearer=tok-3f9a-secret failed")
        except ConnectionError:
            logger.exception("stream failed with %s", "tok-3f9a-secret")
        logger.warning("stack", stack_info=True, extra={"note": "x"})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "ConnectionError" in text and "***" in text
    assert "tok-3f9a-secret" not in text
