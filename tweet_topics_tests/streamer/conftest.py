"""Shared pieces of the streamer tests: the real local Firehose, a streamer subprocess, what landed in S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tweet_topics.lib.ledger import delivery_ranges
from tweet_topics.settings import get_settings


@pytest.fixture()
def firehose(resources, bucket):
    """The delivery stream into the test bucket, provisioned the way provision_infra does (logs, role, stream)."""
    infra = resources["infra"]
    infra.logs.ensure()
    infra.iam.ensure()
    infra.ensure_firehose()
    return resources["aws"].client("firehose")


def raw_lines(resources) -> list[bytes]:
    store, layout = resources["storage"].s3, resources["storage"]
    lines: list[bytes] = []
    for info in store.list(layout.raw_prefix):
        lines += [line for line in store.get(info.key).splitlines() if line]
    return lines


def delivered_ids(resources) -> list[str]:
    return [json.loads(line)["id"] for line in raw_lines(resources)]


def found_ranges(resources) -> dict[str, list[list[int]]]:
    return delivery_ranges([b"\n".join(raw_lines(resources))])


def ledger_entries(resources) -> list[dict]:
    store = resources["storage"].s3
    prefix = get_settings().streamer_prefix + "ledger/"
    return [json.loads(store.get(info.key)) for info in store.list(prefix)]


def streamer_env(endpoint: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "TWEET_TOPICS_AWS_ENDPOINT_URL": endpoint, **extra}


class Streamer:
    """A real streamer process; its stdout/stderr go to files so a test can read them while it runs."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = workdir / "stdout", workdir / "stderr"
        self.started = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, *argv], env=env, stdout=out, stderr=err)

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def summary(self) -> dict:
        return json.loads(self.stdout().strip().splitlines()[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def streamer_processes() -> Iterator[Callable[..., Streamer]]:
    """Start streamer processes; any still running at the end of the test is killed (by its own pid)."""
    started: list[Streamer] = []

    def start(argv: list[str], env: dict[str, str], workdir: Path) -> Streamer:
        started.append(Streamer(argv, env, workdir))
        return started[-1]

    yield start
    for streamer in started:
        streamer.kill()


def wait_for(
    condition: Callable[[], object], timeout: float, step: float = 0.05, context: Callable[[], str] | None = None
) -> float:
    """Seconds until ``condition()`` was true; fails the test after ``timeout`` (with ``context()``, e.g. the
    process's log tail, in the message)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s" + (f"\n{context()}" if context else ""))
        time.sleep(step)
    return time.monotonic() - start
