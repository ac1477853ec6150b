"""The soak's slice of real streaming: the real ``stream synthetic`` process, killed and cut off on schedule.

Three runs of one resumable synthetic sequence whose clock starts at a simulated time (the streamer's own
checkpoint carries the origin, so ``--resume`` continues the simulated clock): run 1 under Firehose partial
failures is SIGKILLed; run 2 is blackholed until it spools and is then SIGTERMed; run 3 delivers the spool and
the rest under partial failures and ends by itself. Firehose (moto) names objects by the real clock, so the
objects are then moved to the simulated hour their newest record belongs to - what Firehose's clock would have
named them. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tweet_topics.lib.synthetic import TweetGenerator, firehose_key
from tweet_topics.storage.keys import hour_from_key
from tweet_topics.streamer.options import StreamOptions
from tweet_topics_tests.soak.httpfaults import PartialFailures
from tweet_topics_tests.streamer.faultproxy import FaultProxy

STARTUP = 40.0  # interpreter, imports and the start-up check on a loaded 2-core machine
DEADLINE, BUDGET = 2.0, 8.0  # --send-deadline and --shutdown-budget of the soak's streamer runs
EXIT_LINE = re.compile(r"exit: (.*)")


@dataclass
class SliceConfig:
    origin: datetime  # simulated created_at of the sequence's first tweet
    seed: int = 5
    rate: float = 150.0  # tweets per second (real), 1/rate seconds apart in simulated time
    tweets: int = 1500  # run 3's own tweets (runs 1 and 2 are cut off by faults)
    kill_after: tuple[int, int] = (200, 600)  # run 1 is SIGKILLed once this many are durable (drawn)


@dataclass
class SliceOutcome:
    positions: int = 0  # the sequence positions 0 .. positions-1 were handed over (final checkpoint)
    runs: list[dict[str, Any]] = field(default_factory=list)  # per run: fault, exit code, exit-line counters
    faults: list[str] = field(default_factory=list)
    failed_entries: int = 0  # entries the HTTP proxy failed (partial failures): each must be retried
    objects_moved: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)  # the streamer's rejects file, with reasons

    def expected_ids(self, config: SliceConfig) -> list[str]:
        """The ids of the sequence's first ``positions`` tweets, regenerated independently of the streamer."""
        generator, step = TweetGenerator(seed=config.seed), timedelta(seconds=1 / config.rate)
        return [generator.tweet(config.origin + step * i).id for i in range(self.positions)]


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"soak: {what} not within {timeout:.0f}s")
        time.sleep(0.1)


def _checkpoint(state: Path) -> int:
    try:
        return int(json.loads((state / "checkpoint.json").read_text())["delivered"])
    except (OSError, ValueError, KeyError):
        return 0


def _exit_counters(stderr: str) -> dict[str, Any]:
    lines = EXIT_LINE.findall(stderr)
    if not lines:
        return {}
    return dict(pair.split("=", 1) for pair in lines[-1].split() if "=" in pair)


class _Run:
    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.err, self.out = workdir / "stderr", workdir / "stdout"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, *argv], env=env, stdout=out, stderr=err)

    def finish(self, timeout: float) -> tuple[int, dict[str, Any]]:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        counters = _exit_counters(self.err.read_text(errors="replace"))
        lines = self.out.read_text(errors="replace").strip().splitlines()
        with contextlib.suppress(IndexError, ValueError, AttributeError):  # stdout's summary: every counter
            counters.update({k: v for k, v in json.loads(lines[-1]).items() if k not in counters})
        return code, counters

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_slice(config: SliceConfig, endpoint: str, workdir: Path, rng: random.Random, log: Callable) -> SliceOutcome:
    """Three streamer runs through the fault proxies; returns what happened (objects still under real hours)."""
    state = workdir / "state"
    state.mkdir(parents=True, exist_ok=True)
    # The streamer's own resume state: sequence ``seed`` from the simulated origin, nothing delivered yet.
    (state / "checkpoint.json").write_text(
        json.dumps({"seed": config.seed, "origin": config.origin.isoformat(), "delivered": 0})
    )
    outcome = SliceOutcome()
    with PartialFailures(endpoint, seed=rng.randrange(10**6)) as http, FaultProxy(http.url, lifetime=900) as tcp:
        env = {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": tcp.url}

        def start(name: str, max_tweets: int | None) -> _Run:
            options = StreamOptions(
                source="synthetic",
                seed=config.seed,
                rate=config.rate,
                resume=True,
                max_tweets=max_tweets,
                state_dir=state,
                heartbeat_interval=0.5,
                send_deadline=DEADLINE,
                shutdown_budget=BUDGET,
            )
            return _Run(["-m", "tweet_topics", *options.argv()], env, workdir / name)

        runs: list[_Run] = []
        try:
            http.share = rng.uniform(0.1, 0.5)
            outcome.faults.append(f"firehose partial failures {http.share:.0%} of entries (run 1)")
            runs.append(start("run1", None))
            target = rng.randrange(*config.kill_after)
            _wait(lambda: _checkpoint(state) >= target, STARTUP + 30, "run 1 delivering")
            runs[-1].proc.send_signal(signal.SIGKILL)
            code, counters = runs[-1].finish(10)
            outcome.faults.append(f"streamer SIGKILL after {_checkpoint(state)} delivered (run 1)")
            outcome.runs.append({"run": 1, "fault": "SIGKILL", "exit": code, **counters})
            log(f"  streamer run 1: SIGKILL at checkpoint {_checkpoint(state)}")

            http.share = 0.0
            runs.append(start("run2", None))
            base = _checkpoint(state)
            _wait(lambda: _checkpoint(state) >= base + config.kill_after[0] // 2, STARTUP + 30, "run 2 delivering")
            tcp.mode = "blackhole"
            _wait(lambda: list((state / "spool").glob("segment-*.ndjson")), DEADLINE + 30, "run 2 spooling")
            time.sleep(rng.uniform(0.5, 2.0))
            runs[-1].proc.send_signal(signal.SIGTERM)
            code, counters = runs[-1].finish(BUDGET + 30)
            outcome.faults += [
                "firehose blackhole (run 2, until its exit)",
                f"streamer SIGTERM while spooling (exit {code})",
            ]
            outcome.runs.append({"run": 2, "fault": "blackhole + SIGTERM", "exit": code, **counters})
            log(f"  streamer run 2: blackholed, SIGTERM -> exit {code} {counters}")

            tcp.mode = "pass"
            http.share = rng.uniform(0.1, 0.5)
            outcome.faults.append(f"firehose partial failures {http.share:.0%} of entries (run 3)")
            runs.append(start("run3", config.tweets))
            code, counters = runs[-1].finish(STARTUP + 60 + config.tweets / config.rate)
            outcome.runs.append({"run": 3, "fault": "recovery", "exit": code, **counters})
            log(f"  streamer run 3: exit {code} {counters}")
            http.share = 0.0
            for attempt in range(3):  # exit 3: records spooled under the partial failures; the next start sends them
                if code != 3:
                    break
                runs.append(start(f"drain{attempt + 1}", 1))
                code, counters = runs[-1].finish(STARTUP + 60)
                outcome.runs.append({"run": 4 + attempt, "fault": "none (drains the spool)", "exit": code, **counters})
                log(f"  streamer run {4 + attempt}: exit {code} {counters}")
        finally:
            for run in runs:
                run.kill()
        outcome.failed_entries = http.failed_entries
    outcome.positions = _checkpoint(state)
    rejects = state / "rejects.ndjson"
    outcome.rejects = [json.loads(line) for line in rejects.read_text().splitlines()] if rejects.exists() else []
    return outcome


def move_to_simulated_hours(storage: Any, stream: str, day: tuple[datetime, datetime], rng: random.Random) -> int:
    """Re-key objects Firehose named by the real clock to the simulated hour of their newest record.

    Only objects outside the simulated ``day`` are moved (the slice's); returns how many were moved."""
    raw_prefix, s3 = storage.raw_prefix, storage.s3
    client = s3.aws.client("s3")
    moved = 0
    for info in list(s3.list(raw_prefix)):
        hour = hour_from_key(raw_prefix, info.key)
        if hour is None or day[0] <= hour < day[1]:
            continue
        body = s3.get(info.key)
        newest = max(_created_at(line) for line in body.splitlines() if line.strip())
        s3.put(firehose_key(raw_prefix, stream, newest, rng), body)
        client.delete_object(Bucket=s3.bucket, Key=info.key)  # the raw client: the store never deletes raw data
        moved += 1
    return moved


def _created_at(line: bytes) -> datetime:
    return datetime.fromisoformat(json.loads(line)["created_at"].replace("Z", "+00:00"))
