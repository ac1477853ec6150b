"""Write-ahead log of the batch being built, so a SIGKILL loses nothing the streamer already received.

Every record is written (``os.write``, no userspace buffer) to its batch's journal file before it counts as
received (the main loop writes each chunk of records it took from the source in one call); the file is deleted
once the whole batch is delivered or spooled. Data written with ``write`` survives
the death of the process (it is in the page cache), so on the next start any journal file left behind is moved
into the spool and delivered - at-least-once: a batch delivered just before the kill may be sent twice (the
combine drops duplicate ids). Not fsynced per record: a power loss can still lose the last second.

The main loop opens no file itself: the thread that deletes a delivered batch's file opens the next one ahead
(``refill``), because every system call on the main loop waits for the GIL again afterwards (an open per batch was
~7 % of its time at 15,000 tweets/s). Files are numbered in the order batches take them, so ``recover`` keeps
the order; a file opened ahead and never used is empty and deleted at exit or by ``recover``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import deque
from pathlib import Path

from tweet_topics.streamer.spool import BadLine, Spool, valid_lines

log = logging.getLogger("tweet_topics.streamer")
JOURNAL = re.compile(r"batch-[A-Za-z0-9_.:-]{1,64}-\d{12}\.ndjson")
SPARES = 2  # files opened ahead for the next batches


class JournalFile:
    """The journal of one batch; a failed write marks it ``broken`` (the batch still lives in memory)."""

    def __init__(self, path: Path, owner: Journal | None = None) -> None:
        self.path = path
        self.owner = owner  # told when this file is deleted, so it opens the next one ahead
        self.broken = False
        try:
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            self._fd, self.broken = None, True

    def append(self, lines: bytes) -> bool:
        """Write whole records (one or many lines); False, and ``broken``, if not all of it was written."""
        if self._fd is None:
            return False
        view = memoryview(lines)
        try:
            while view:
                view = view[os.write(self._fd, view) :]  # a short write (a signal, a full disk) goes on or raises
            return True
        except OSError:
            self.broken = True
            return False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def sync(self) -> None:
        """At exit, for a batch left only here: fsync it, so it outlives a power loss too."""
        if self.broken:
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return  # discarded meanwhile: the batch became durable elsewhere
        except OSError:
            self.broken = True
            return
        try:
            os.fsync(fd)
        except OSError:
            self.broken = True
        finally:
            os.close(fd)

    def discard(self) -> None:
        """The batch is durable elsewhere (Firehose or the spool)."""
        self.close()
        self.path.unlink(missing_ok=True)
        if self.owner is not None:
            self.owner.refill()


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._spares: deque[JournalFile] = deque()
        self._lock = threading.Lock()  # numbers and spares: taken in the order they were numbered
        self._number = 0
        self._run: str | None = None

    def start(self, run: str, first_seq: int) -> JournalFile:
        """The log of the batch that starts with ``first_seq``: a file opened ahead, or one opened now."""
        with self._lock:
            self._run = run
            return self._spares.popleft() if self._spares else self._open(run)

    def _open(self, run: str) -> JournalFile:
        self._number += 1
        return JournalFile(self.directory / f"batch-{run}-{self._number:012d}.ndjson", self)

    def refill(self) -> None:
        """Open the next batches' files ahead (called off the main loop, by the thread that deleted one)."""
        with self._lock:
            if self._run is not None and len(self._spares) < SPARES:
                self._spares.append(self._open(self._run))

    def release(self) -> None:
        """At exit: delete the files opened ahead and never used (empty)."""
        with self._lock:
            self._run = None
            while self._spares:
                spare = self._spares.popleft()
                spare.close()
                spare.path.unlink(missing_ok=True)

    def recover(self, spool: Spool, on_bad_line: BadLine) -> int:
        """Move what a killed run left into the spool (before anything new); returns the records moved."""
        moved = 0
        for path in sorted(self.directory.iterdir()):
            if not JOURNAL.fullmatch(path.name):
                path.unlink(missing_ok=True)  # only this module writes here
                continue
            records = [line + b"\n" for line in valid_lines(path.read_bytes(), on_bad_line)]
            if records:
                spool.append(records)
                moved += len(records)
            path.unlink()
        if moved:
            log.warning("recovered %d received-but-unsent records from the write-ahead log into the spool", moved)
        return moved
