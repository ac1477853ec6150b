"""Real streamer processes against the real local Firehose (moto server), through a TCP fault proxy.

Deadlines are asserted as contracts with generous slack (the machine is shared), not as performance timings.
"""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import UTC, datetime, timedelta

from tweet_topics.lib.ledger import reconcile
from tweet_topics.settings import get_settings
from tweet_topics.streamer.options import StreamOptions
from tweet_topics_tests.streamer.conftest import (
    delivered_ids,
    found_ranges,
    ledger_entries,
    streamer_env,
    wait_for,
)
from tweet_topics_tests.streamer.faultproxy import FaultProxy

SLACK = 4.0  # seconds of scheduling slack on a busy 2-core machine
STARTUP = 40.0  # interpreter + imports + the bounded start-up check on a loaded 2-core machine (as the soak's)


def stream_argv(**options) -> list[str]:
    return ["-m", "tweet_topics", *StreamOptions(**options).argv()]


def books_balance(summary: dict) -> bool:
    return summary["received"] + summary["inherited"] == (
        summary["sent"] + summary["backlog"] + summary["rejected"] + summary["in_memory"]
    )


def spool_lines(state) -> int:
    return sum(len([x for x in p.read_bytes().split(b"\n") if x]) for p in (state / "spool").glob("segment-*.ndjson"))


def test_blackhole_spools_by_the_deadline_sigterm_exits_in_budget_restart_delivers(
    resources, firehose, tmp_path, streamer_processes
):
    deadline, budget = 2.0, 8.0
    state = tmp_path / "state"
    with FaultProxy(resources["aws"].endpoint_url, mode="blackhole", lifetime=120) as proxy:
        argv = stream_argv(
            source="synthetic",
            rate=200.0,
            state_dir=state,
            heartbeat_interval=0.5,
            send_deadline=deadline,
            shutdown_budget=budget,
        )
        streamer = streamer_processes(argv, streamer_env(proxy.url), tmp_path / "run1")
        segments = lambda: list((state / "spool").glob("segment-*.ndjson"))  # noqa: E731
        first_spool = wait_for(segments, STARTUP + 10, context=lambda: streamer.stderr()[-3000:])
        spooled = r"spooled \d+ records, oldest ([\d.]+)s old"  # logged just after the segment appears
        wait_for(lambda: re.search(spooled, streamer.stderr()), SLACK)
        ages = [float(a) for a in re.findall(spooled, streamer.stderr())]
        assert ages and ages[0] <= deadline + 1.0 + SLACK, ages  # batch age at spool: flush age + deadline
        time.sleep(1.0)
        sent_at = time.monotonic()
        streamer.proc.send_signal(signal.SIGTERM)
        code = streamer.wait(timeout=budget + 20)
        shutdown = time.monotonic() - sent_at
        summary = streamer.summary()
        assert code == 3, streamer.stderr()[-3000:]  # records remain (durably) in the spool
        assert shutdown <= budget + SLACK, shutdown
        assert books_balance(summary) and summary["in_memory"] == 0
        assert summary["sent"] == 0 and summary["backlog"] == summary["received"] > 0
        assert spool_lines(state) == summary["backlog"]
        print(
            f"\nblackhole: first spool {first_spool:.1f}s after start, batch age {ages[0]:.1f}s "
            f"(deadline {deadline}s); SIGTERM -> exit {shutdown:.1f}s (budget {budget}s)"
        )

        # The network comes back: the next run delivers the spool first, then its own tweets.
        proxy.mode = "pass"
        argv = stream_argv(
            source="synthetic",
            seed=8,
            max_tweets=20,
            state_dir=state,
            heartbeat_interval=0.5,
            send_deadline=deadline,
            shutdown_budget=budget,
        )
        second = streamer_processes(argv, streamer_env(proxy.url), tmp_path / "run2")
        assert second.wait(timeout=60) == 0, second.stderr()[-3000:]
    again = second.summary()
    assert again["inherited"] == summary["backlog"] and again["backlog"] == 0 and books_balance(again)
    ids = delivered_ids(resources)
    assert len(set(ids)) == summary["received"] + 20
    # The ledger both runs wrote reconciles with what landed: nothing handed is missing, nothing unexpected.
    results = reconcile(
        {"all": found_ranges(resources)},
        ledger_entries(resources),
        now=datetime.now(UTC) + timedelta(hours=1),
        grace=timedelta(minutes=1),
    )
    assert len(results) == 2 and all(r.ok and not r.unexpected for r in results), results
    assert sum(r.handed for r in results) == summary["received"] + 20


def test_tweets_queued_at_sigterm_are_all_delivered(resources, firehose, tmp_path, streamer_processes):
    """3,000 stream messages are still queued when SIGTERM arrives: every one is received and delivered."""
    marker = tmp_path / "pumped"
    argv = [
        "-m",
        "tweet_topics_tests.streamer.xstandin",
        "sigterm",
        "3000",
        str(marker),
        "--",
        *StreamOptions(source="x", state_dir=tmp_path / "state", heartbeat_interval=1.0).argv(),
    ]
    env = streamer_env(resources["aws"].endpoint_url, TWEET_TOPICS_X_BEARER_TOKEN="canary-token-77aa")
    streamer = streamer_processes(argv, env, tmp_path / "run")
    assert streamer.wait(timeout=90) == 0, streamer.stderr()[-3000:]
    summary = streamer.summary()
    assert summary["received"] == 3000 and summary["sent"] == 3000 and books_balance(summary)
    assert len(set(delivered_ids(resources))) == 3000
    assert "canary-token-77aa" not in streamer.stderr() + streamer.stdout()


def test_a_quiet_stream_flushes_a_lone_tweet_and_keeps_beating(resources, firehose, tmp_path, streamer_processes):
    marker = tmp_path / "pumped"
    argv = [
        "-m",
        "tweet_topics_tests.streamer.xstandin",
        "quiet",
        "1",
        str(marker),
        "--",
        *StreamOptions(source="x", state_dir=tmp_path / "state", heartbeat_interval=0.5).argv(),
    ]
    env = streamer_env(resources["aws"].endpoint_url, TWEET_TOPICS_X_BEARER_TOKEN="t")
    streamer = streamer_processes(argv, env, tmp_path / "run")
    wait_for(marker.exists, STARTUP + 10)
    latency = wait_for(lambda: delivered_ids(resources), 1.0 + SLACK)
    store, key = resources["storage"].s3, get_settings().streamer_prefix + "heartbeat.json"
    first = json.loads(store.get(key))
    time.sleep(2.0)
    later = json.loads(store.get(key))
    assert later["updated_at"] > first["updated_at"] and later["state"] == "running"
    assert later["counts"]["received"] == 1 and later["last_delivery_at"] and later["spool_backlog"] == 0
    streamer.proc.send_signal(signal.SIGTERM)
    assert streamer.wait(timeout=30) == 0
    assert json.loads(store.get(key))["state"] == "stopped"
    print(f"\nquiet stream: lone tweet in S3 {latency:.2f}s after it was handed over")


def test_sigkill_loses_nothing_received(resources, firehose, tmp_path, streamer_processes):
    """Blackholed, so every record is still in memory when SIGKILL comes; the write-ahead log has them."""
    state, marker = tmp_path / "state", tmp_path / "pumped"
    with FaultProxy(resources["aws"].endpoint_url, mode="blackhole", lifetime=120) as proxy:
        argv = [
            "-m",
            "tweet_topics_tests.streamer.xstandin",
            "quiet",
            "1500",
            str(marker),
            "--",
            *StreamOptions(source="x", state_dir=state, send_deadline=30.0).argv(),
        ]
        env = streamer_env(proxy.url, TWEET_TOPICS_X_BEARER_TOKEN="t")
        streamer = streamer_processes(argv, env, tmp_path / "run1")
        wait_for(marker.exists, STARTUP + 15)
        time.sleep(1.5)
        streamer.proc.send_signal(signal.SIGKILL)
        streamer.wait(timeout=10)
        assert not list((state / "spool").glob("segment-*.ndjson"))  # nothing was spooled before the kill
        proxy.mode = "pass"
        argv = [
            "-m",
            "tweet_topics_tests.streamer.xstandin",
            "sigterm",
            "0",
            str(tmp_path / "m2"),
            "--",
            *StreamOptions(source="x", state_dir=state).argv(),
        ]
        second = streamer_processes(argv, env, tmp_path / "run2")
        assert second.wait(timeout=60) == 0, second.stderr()[-3000:]
    assert second.summary()["inherited"] == 1500
    assert len(set(delivered_ids(resources))) == 1500


def test_a_missing_delivery_stream_exits_2_with_one_line(resources, bucket, tmp_path, streamer_processes):
    env = streamer_env(resources["aws"].endpoint_url, TWEET_TOPICS_FIREHOSE_STREAM="no-such-stream")
    streamer = streamer_processes(stream_argv(source="synthetic", max_tweets=5, state_dir=tmp_path), env, tmp_path)
    assert streamer.wait(timeout=60) == 2
    lines = streamer.stderr().strip().splitlines()
    assert len(lines) == 1 and "no-such-stream" in lines[0] and "does not exist" in lines[0], lines


def test_sigterm_during_an_outage_keeps_every_handed_message(resources, firehose, tmp_path, streamer_processes):
    """#26.1: 6,000 messages handed to ``on_data``, Firehose blackholed, SIGTERM, default budgets: every message
    is spooled, journaled or rejected before exit (0 lost, books honest), and the next start delivers them all."""
    state = tmp_path / "state"
    with FaultProxy(resources["aws"].endpoint_url, mode="pass", lifetime=150) as proxy:
        argv = [
            "-m",
            "tweet_topics_tests.streamer.xstandin",
            "sigterm",
            "6000",
            str(tmp_path / "pumped"),
            "--",
            *StreamOptions(source="x", state_dir=state).argv(),
        ]
        env = streamer_env(proxy.url, TWEET_TOPICS_X_BEARER_TOKEN="canary-outage-token")
        first = streamer_processes(argv, env, tmp_path / "run1")
        wait_for(lambda: "streamer run" in first.stderr(), STARTUP)  # the stream check passed: the outage starts
        proxy.mode = "blackhole"
        code = first.wait(timeout=90)
        summary = first.summary()
        print(f"\noutage + SIGTERM: {summary}")
        assert code == 3, first.stderr()[-3000:]  # durable, not delivered: the next start delivers
        assert summary["offered"] == summary["received"] == 6000, summary
        assert summary["lost"] == 0 and summary["in_memory"] == 0, summary
        durable = summary["sent"] + summary["backlog"] + summary["journaled"] + summary["rejected"]
        assert durable == 6000 and summary["backlog"] + summary["journaled"] > 0, summary
        assert "balanced=True" in first.stderr()
        proxy.mode = "pass"
        argv[argv.index("sigterm") + 1] = "0"
        second = streamer_processes(argv, env, tmp_path / "run2")
        assert second.wait(timeout=60) == 0, second.stderr()[-3000:]
    assert second.summary()["inherited"] == 6000
    assert len(set(delivered_ids(resources))) == 6000
