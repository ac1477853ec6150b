"""Append-only, fsynced spool of NDJSON record batches for when Firehose is unreachable.

Each batch is one segment file written to a temp name, fsynced, then renamed, so a crash never leaves half a
batch. Segments are replayed in order (their names sort by sequence) and deleted only after delivery.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        existing = self.segments()
        self._next = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0

    def segments(self) -> list[Path]:
        return sorted(self.directory.glob("segment-*.ndjson"))

    def append(self, records: list[bytes]) -> Path:
        path = self.directory / f"segment-{self._next:012d}.ndjson"
        self._write(path, records)
        self._next += 1
        return path

    def rewrite(self, path: Path, records: list[bytes]) -> None:
        """Atomically replace a segment with what is left of it (keeps its place in the order)."""
        self._write(path, records)

    def _write(self, path: Path, records: list[bytes]) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            handle.write(b"".join(r if r.endswith(b"\n") else r + b"\n" for r in records))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def pending(self) -> Iterator[tuple[Path, list[bytes]]]:
        """Oldest segment first; delete a segment with ``done`` once its records are delivered."""
        for path in self.segments():
            yield path, [line + b"\n" for line in path.read_bytes().split(b"\n") if line]

    @staticmethod
    def done(path: Path) -> None:
        path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(len([x for x in p.read_bytes().split(b"\n") if x]) for p in self.segments())
