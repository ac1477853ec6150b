"""Per-hour spill files: an unsorted archive is parsed once, in bounded memory, and written hour by hour.

The converters (worker processes, or the importer itself for X archives and CSV) append each batch's tweets to
per-hour files of their own (``<hour>.<owner>``: no two processes share a file) and report only where they wrote:
one :class:`Segment` per hour and batch. Lines are ``id TAB index TAB record TAB original`` (JSON lines hold no
raw TAB or newline; the record without its delivery field, ``index`` its place in the batch). So the importer
never holds or copies tweets while parsing: it numbers the batches in input order, and reading an hour gives each
tweet its delivery sequence (the batch's first + index) and its delivery field. Files are opened only to flush a
batch, so an archive spanning years needs no more file handles than one.
"""

from __future__ import annotations

import os
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


class Segment(NamedTuple):
    batch: int  # input order of the batch
    part: int  # order within the batch (a batch larger than the buffer is flushed in parts)
    path: str
    offset: int
    length: int


class SpillWriter:
    """One batch's tweets appended to its owner's per-hour files, at most ``buffer_bytes`` held at once."""

    def __init__(self, directory: str, batch: int, buffer_bytes: int) -> None:
        self.directory, self.batch, self.buffer_bytes = directory, batch, buffer_bytes
        self.owner = str(os.getpid())
        self.segments: list[tuple[str, Segment]] = []
        self.counts: dict[str, int] = {}
        self._buffers: dict[str, list[bytes]] = {}
        self._size = 0
        self._part = 0

    def add(self, hour: str, tweet_id: str, index: int, record: bytes, original: bytes) -> None:
        """``hour`` is ``YYYYMMDDHH``; ``record`` has no delivery field and ends with its newline."""
        line = b"%s\t%d\t%s\t%s\n" % (tweet_id.encode(), index, record[:-1], original)
        self._buffers.setdefault(hour, []).append(line)
        self.counts[hour] = self.counts.get(hour, 0) + 1
        self._size += len(line)
        if self._size >= self.buffer_bytes:
            self.flush()

    def flush(self) -> None:
        for hour, lines in self._buffers.items():
            path = os.path.join(self.directory, f"{hour}.{self.owner}")
            data = b"".join(lines)
            with open(path, "ab") as handle:
                offset = handle.tell()
                handle.write(data)
            self.segments.append((hour, Segment(self.batch, self._part, path, offset, len(data))))
        self._part += 1
        self._buffers.clear()
        self._size = 0


class HourSpill:
    def __init__(self, directory: Path | None = None, buffer_bytes: int = 8 * 1024 * 1024) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tweet-topics-import-", dir=directory))
        self.buffer_bytes = buffer_bytes
        self.run = ""  # the delivery run of every record read back
        self.counts: dict[str, int] = {}
        self._segments: dict[str, list[Segment]] = {}
        self._first_seq: dict[int, int] = {}

    def writer(self, batch: int) -> SpillWriter:
        return SpillWriter(str(self.dir), batch, self.buffer_bytes)

    def add_batch(
        self, batch: int, first_seq: int, segments: list[tuple[str, Segment]], counts: dict[str, int]
    ) -> None:
        """Where a batch was spilled; its tweet at index ``i`` has the delivery sequence ``first_seq + i``."""
        self._first_seq[batch] = first_seq
        for hour, segment in segments:
            self._segments.setdefault(hour, []).append(segment)
        for hour, n in counts.items():
            self.counts[hour] = self.counts.get(hour, 0) + n

    def hours(self) -> list[str]:
        return sorted(self.counts)

    def read(self, hour: str) -> Iterator[Spilled]:
        """The hour's tweets in input order, one segment (one batch's part) in memory at a time."""
        run = self.run.encode()
        for segment in sorted(self._segments.get(hour, [])):
            first = self._first_seq[segment.batch]
            with open(segment.path, "rb") as handle:
                handle.seek(segment.offset)
                data = handle.read(segment.length)
            for line in data.split(b"\n")[:-1]:
                tweet_id, index, record, original = line.split(b"\t", 3)
                seq = first + int(index)
                delivery = b',"delivery":{"run":"%s","seq":%d}}\n' % (run, seq)
                yield Spilled(tweet_id.decode(), seq, record[:-1] + delivery, original)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
