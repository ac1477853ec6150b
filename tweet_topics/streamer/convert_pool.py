"""Conversion in a second process: X's bytes -> record lines off the main interpreter (issue 27).

Conversion is GIL-bound (~40 us per tweet) and on one interpreter it competes with the sender (botocore), the
originals uploader and tweepy's thread. ``ConvertPool`` sends chunks of raw messages with their first sequence
number to a worker process and the loop takes the results strictly in submission order, so sequence numbers, the
write-ahead log and the books are exactly those of the in-process path (``convert.convert_chunk`` either way).

Nothing depends on the worker: until it has started, and whenever it crashes, hangs past ``timeout`` or refuses
work, the chunk is converted in-process and the pool is started again (after ``MAX_RESTARTS`` failures the run
stays in-process). The worker is spawned (the parent has threads: a fork could copy a held lock) and ignores
SIGTERM/SIGINT, which systemd sends to the whole unit: the main process decides when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from tweet_topics.streamer.convert import Converted, convert_chunk

log = logging.getLogger("tweet_topics.streamer")
MAX_RESTARTS = 3  # worker failures after which the run converts in-process
TIMEOUT = 10.0  # seconds a chunk (~250 messages, ~10 ms of work) may take before the worker counts as hung


# Touches every lazily loaded part of conversion (hashtag, mention, URL and emoji tables), so the worker is warm
# before it counts as started and its first real chunk is not late.
WARM_UP = (
    b'{"data":{"id":"1","text":"warm #up @x https://x.com \xf0\x9f\x9a\x80","created_at":"2026-01-01T00:00:00.000Z",'
    b'"author_id":"2","lang":"en"},"includes":{"users":[{"id":"2","username":"x","name":"x"}]}}'
)


def _start_worker() -> None:
    """The worker's initializer: SIGTERM/SIGINT are for the main process, which drains and then closes the pool;
    conversion's lazy parts are loaded now."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    convert_chunk([WARM_UP], "warm-up", 1)


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """A worker whose streamer died without closing the pool (SIGKILL, the OOM killer) exits instead of waiting on
    its queue forever: it holds no data of its own (every chunk's inputs stay with the parent)."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


@dataclass
class Pending:
    """One submitted chunk: its inputs (kept for the in-process fallback) and the worker's future, if any."""

    raws: list[bytes]
    run: str
    first_seq: int
    future: Future[list[Converted]] | None
    generation: int = 0  # the pool it went to: a failure of an earlier, replaced pool restarts nothing


class ConvertPool:
    """One conversion process (a second core's worth; more would only compete on a 2-core host); ``submit``
    never blocks, ``result`` always returns the chunk's outcome."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.restarts = 0  # worker failures so far
        self.fallbacks = 0  # chunks converted in-process because the worker could not
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None
        self._pids: list[int] = []
        self._generation = 0
        self._start()

    def _start(self) -> None:
        if self.restarts >= MAX_RESTARTS:
            return
        self._generation += 1
        try:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker)
            self._ready = self._executor.submit(os.getpid)
        except (OSError, RuntimeError) as exc:  # no processes left, no semaphores: convert in-process
            self._executor, self._ready = None, None
            log.warning("conversion worker did not start (%s); converting in-process", type(exc).__name__)

    @property
    def active(self) -> bool:
        """The worker is up and takes chunks (else ``submit`` converts at ``result``, in-process)."""
        if self._ready is None or not self._ready.done():
            return False
        if not self._pids:
            try:
                self._pids = [self._ready.result()]
            except Exception as exc:
                self._failed(f"worker did not start ({type(exc).__name__})", self._generation)
                return False
        return self._executor is not None

    def pids(self) -> list[int]:
        """The worker process's id, once started (for monitoring and the crash test)."""
        return list(self._pids) if self.active else []

    def submit(self, raws: list[bytes], run: str, first_seq: int) -> Pending:
        future = None
        if self.active:
            try:
                future = self._executor.submit(convert_chunk, raws, run, first_seq)  # type: ignore[union-attr]
            except RuntimeError as exc:  # BrokenProcessPool, or shut down: this chunk goes in-process
                self._failed(f"worker refused a chunk ({type(exc).__name__})", self._generation)
        return Pending(raws, run, first_seq, future, self._generation)

    def done(self, pending: Pending) -> bool:
        return pending.future is None or pending.future.done()

    def result(self, pending: Pending) -> list[Converted]:
        """The chunk's conversion; the worker's if it answers in time, else converted here, in-process."""
        stale = pending.generation != self._generation  # its pool was replaced: what it has not answered is lost
        if pending.future is not None and not (stale and not pending.future.done()):
            try:
                return pending.future.result(timeout=self.timeout)
            except FutureTimeout:
                self._failed(f"worker gave no answer within {self.timeout:.0f}s", pending.generation, kill=True)
            except Exception as exc:  # BrokenProcessPool (the worker died), a pickling error, …
                self._failed(f"worker failed ({type(exc).__name__})", pending.generation)
        if pending.future is not None:
            self.fallbacks += 1
        return convert_chunk(pending.raws, pending.run, pending.first_seq)

    def _failed(self, why: str, generation: int, kill: bool = False) -> None:
        """Drop this pool (its later chunks convert in-process at ``result``) and start another."""
        if self._executor is None or generation != self._generation:
            return
        self.restarts += 1
        log.warning("conversion worker: %s; restart %d of %d", why, self.restarts, MAX_RESTARTS)
        self._stop(kill)
        self._start()

    def _stop(self, kill: bool) -> None:
        executor, pids = self._executor, self._pids
        self._executor, self._ready, self._pids = None, None, []
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        for pid in pids if kill else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a hung worker would hold its chunk's memory forever

    def close(self) -> None:
        """At exit, after the loop took every result: stop the worker."""
        executor = self._executor
        self._executor, self._ready = None, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
