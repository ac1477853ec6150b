"""Conversion in a second process (``streamer/convert_pool.py``): the same lines in the same order as converting
in-process, and a worker that dies or hangs loses, reorders and renumbers nothing. Real spawned processes, real
signals; the in-process loop is the peer."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from tweet_topics.lib.synthetic import TweetGenerator
from tweet_topics.streamer.convert import convert_chunk
from tweet_topics.streamer.convert_pool import ConvertPool
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.handover import Handover
from tweet_topics.streamer.producer import Batch
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.runner import Loop, Progress, run
from tweet_topics.streamer.sources import Item

HOSTILE = [
    b"not json",
    b'{"data": {"id": "1", "text": "caf\xe9"}}',
    b'{"data": {"id": "1", "text": 5}}',
    b"[" * 50_000 + b"]" * 50_000,
    b"{}",
]


def messages(n: int, seed: int = 21) -> list[bytes]:
    """Synthetic v2 messages as X's bytes, a hostile one every 97th."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    good = [json.dumps(t.payload).encode() for t in TweetGenerator(seed=seed).stream(n, start=start)]
    return [HOSTILE[i % len(HOSTILE)] if i % 97 == 50 else raw for i, raw in enumerate(good)]


def started(pool: ConvertPool, timeout: float = 60.0) -> ConvertPool:
    deadline = time.monotonic() + timeout
    while not pool.active:
        assert time.monotonic() < deadline, "the conversion worker did not start"
        time.sleep(0.05)
    return pool


class ListOutput:
    """Takes every batch at once and keeps its records in order."""

    def __init__(self, counters: Counters) -> None:
        self.counters, self.records = counters, []

    def submit(self, batch: Batch, timeout: float) -> bool:
        self.records += batch.records
        self.counters.add(in_memory=-len(batch.records), sent=len(batch.records))
        return True


def stream(raws: list[bytes], tmp_path: Path, pool: ConvertPool | None, chunks: Iterator | None = None) -> tuple:
    """The loop over X-style chunks of raw messages; returns (records, rejected seqs with reasons, counters)."""
    counters = Counters()
    rejects = RejectLog(tmp_path / "rejects.ndjson")
    loop = Loop("run-p", ListOutput(counters), counters, rejects, progress=Progress("run-p"), converter=pool)
    loop.max_age = 60.0
    source = chunks or ([Item(None, raw=r) for r in raws[i : i + 100]] for i in range(0, len(raws), 100))
    run(source, loop, threading.Event())
    loop.hand_off()
    kept = [json.loads(line) for line in (tmp_path / "rejects.ndjson").read_text().splitlines()]
    return loop.output.records, [(r["seq"], r["reason"]) for r in kept], counters  # type: ignore[attr-defined]


def test_the_worker_gives_the_in_process_lines_in_order(tmp_path):
    raws = messages(2_000)
    pool = started(ConvertPool())
    try:
        pending = [pool.submit(raws[i : i + 250], "run-w", i + 1) for i in range(0, len(raws), 250)]
        worker = [converted for p in pending for converted in pool.result(p)]
    finally:
        pool.close()
    assert pool.fallbacks == 0 and pool.restarts == 0  # it really was the worker
    assert worker == convert_chunk(raws, "run-w", 1)
    assert sum(line is None for line, _, _ in worker) >= 20  # rejects travel as values, with their reasons


def test_the_loop_with_a_worker_is_the_loop_without_one(tmp_path):
    raws = messages(3_000)
    alone = stream(raws, tmp_path / "alone", None)
    pool = started(ConvertPool())
    try:
        worker = stream(raws, tmp_path / "worker", pool)
    finally:
        pool.close()
    assert pool.fallbacks == 0
    assert worker[0] == alone[0] and worker[1] == alone[1] and len(alone[1]) >= 30
    assert worker[2].received == 3_000 and worker[2].balanced()


def test_a_killed_worker_loses_reorders_and_renumbers_nothing(tmp_path):
    """SIGKILL to the worker while chunks are at it: they are converted in-process, a new worker takes over."""
    raws = messages(6_000)
    expected = stream(raws, tmp_path / "alone", None)
    pool = started(ConvertPool())
    killed: list[int] = []

    def chunks() -> Iterator[list[Item]]:
        for i in range(0, len(raws), 100):
            if i in (1_000, 4_000):  # twice: the second kill hits the restarted worker
                started(pool)
                killed.extend(pool.pids())
                os.kill(pool.pids()[0], signal.SIGKILL)
            yield [Item(None, raw=r) for r in raws[i : i + 100]]

    try:
        records, rejected, counters = stream(raws, tmp_path / "killed", pool, chunks())
    finally:
        pool.close()
    assert len(set(killed)) == 2 and pool.restarts == 2
    assert records == expected[0] and rejected == expected[1]
    assert counters.received == 6_000 and counters.balanced()


def test_a_hung_worker_is_replaced_within_its_timeout(tmp_path):
    """SIGSTOP: the worker neither answers nor dies; after ``timeout`` the chunk is converted here."""
    raws = messages(500)
    pool = started(ConvertPool(timeout=1.0))
    try:
        stuck = pool.pids()[0]
        os.kill(stuck, signal.SIGSTOP)
        pending = pool.submit(raws, "run-h", 1)
        start = time.monotonic()
        assert pool.result(pending) == convert_chunk(raws, "run-h", 1)
        assert time.monotonic() - start < 10 and pool.fallbacks == 1 and pool.restarts == 1
        assert started(pool).pids() != [stuck]  # a new worker took over
        stat = Path(f"/proc/{stuck}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] in "ZX"  # killed, not left hanging
    finally:
        pool.close()


def test_handover_moves_chunks_in_order_and_stays_bounded():
    box: Handover[int] = Handover(100)
    most_waiting = 0

    def produce() -> None:
        for i in range(20_000):
            box.put(i)
        box.put_many(list(range(20_000, 20_050)))
        box.close()

    thread = threading.Thread(target=produce)
    thread.start()
    got: list[int] = []
    ended = False
    while not ended:
        most_waiting = max(most_waiting, len(box))
        chunk, ended = box.take(64, timeout=1.0)
        assert len(chunk) <= 64
        got += chunk
    thread.join()
    assert got == list(range(20_050)) and most_waiting <= 150


def test_the_worker_exits_when_its_streamer_is_killed(tmp_path):
    """SIGKILL of the process that owns the pool (no close, no atexit) must not leave the worker behind: a real
    parent process, killed; its worker is gone within a few seconds."""
    import subprocess
    import sys

    script = (
        "import os, sys, time\n"
        "from tweet_topics.streamer.convert_pool import ConvertPool\n"
        "pool = ConvertPool()\n"
        "while not pool.active:\n"
        "    time.sleep(0.05)\n"
        "print(pool.pids()[0], flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        os.kill(worker, 0)  # alive while its parent is
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(worker):
            time.sleep(0.1)
        assert not _running(worker), f"worker {worker} outlived its killed parent"
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (an exited orphan is reaped by init, not by us)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
