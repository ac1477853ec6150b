"""Per-hour spill files: an unsorted archive is parsed once, in bounded memory, and written hour by hour.

Each converted tweet is appended to its hour's file as one line ``id TAB seq TAB record TAB original`` (JSON
lines hold no raw TAB or newline). At most ``buffer_bytes`` are held in memory across all hours; files are opened
only while flushing, so an archive spanning years needs no more file handles than one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class Spilled(NamedTuple):
    id: str
    seq: int
    record: bytes  # with the delivery field, newline included
    original: bytes  # no newline


class HourSpill:
    def __init__(self, directory: Path | None = None, buffer_bytes: int = 32 * 1024 * 1024) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tweet-topics-import-", dir=directory))
        self.buffer_bytes = buffer_bytes
        self._buffers: dict[str, list[bytes]] = {}
        self._size = 0
        self.counts: dict[str, int] = {}

    def add(self, hour: str, tweet_id: str, seq: int, record: bytes, original: bytes) -> None:
        """``hour`` is ``YYYYMMDDHH``; ``record`` ends with its newline."""
        line = b"%s\t%d\t%s\t%s\n" % (tweet_id.encode(), seq, record[:-1], original)
        self._buffers.setdefault(hour, []).append(line)
        self.counts[hour] = self.counts.get(hour, 0) + 1
        self._size += len(line)
        if self._size >= self.buffer_bytes:
            self.flush()

    def flush(self) -> None:
        for hour, lines in self._buffers.items():
            with open(self.dir / hour, "ab") as handle:
                handle.writelines(lines)
        self._buffers.clear()
        self._size = 0

    def hours(self) -> list[str]:
        return sorted(self.counts)

    def read(self, hour: str) -> Iterator[Spilled]:
        """The hour's tweets in input order."""
        self.flush()
        with open(self.dir / hour, "rb") as handle:
            for line in handle:
                tweet_id, seq, record, original = line.rstrip(b"\n").split(b"\t", 3)
                yield Spilled(tweet_id.decode(), int(seq), record + b"\n", original)

    def close(self) -> None:
        self._buffers.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
