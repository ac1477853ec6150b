"""Write-ahead log of the batch being built, so a SIGKILL loses nothing the streamer already received.

Every record is written (``os.write``, no userspace buffer) to its batch's journal file before it counts as
received (the main loop writes each chunk of records it took from the source in one call); the file is deleted
once the whole batch is delivered or spooled. Data written with ``write`` survives
the death of the process (it is in the page cache), so on the next start any journal file left behind is moved
into the spool and delivered - at-least-once: a batch delivered just before the kill may be sent twice (the
combine drops duplicate ids). Not fsynced per record: a power loss can still lose the last second.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from tweet_topics.streamer.spool import BadLine, Spool, valid_lines

log = logging.getLogger("tweet_topics.streamer")
JOURNAL = re.compile(r"batch-[A-Za-z0-9_.:-]{1,64}-\d{12}\.ndjson")


class JournalFile:
    """The journal of one batch; a failed write marks it ``broken`` (the batch still lives in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
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


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def start(self, run: str, first_seq: int) -> JournalFile:
        return JournalFile(self.directory / f"batch-{run}-{first_seq:012d}.ndjson")

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
