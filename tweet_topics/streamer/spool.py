"""Append-only, fsynced spool of NDJSON record batches for when Firehose is unreachable (or too slow).

Each batch is one segment file written to a temp name, fsynced, then renamed, so a crash never leaves half a
batch. Segments are replayed in order (their names sort by sequence) and deleted only after delivery.

What is read back is checked, because a disk, an operator or a crash can leave anything there: only names
``segment-<12 digits>.ndjson`` are segments; ``*.tmp`` leftovers of an interrupted write are removed on start;
any other file is moved aside to ``<state>/spool-stray/`` (kept, never sent); every line must be a complete,
newline-terminated JSON object, and a line that is not (a truncated tail, garbage) goes to the rejects.
A failed write raises ``OSError`` and leaves no partial segment: the caller keeps the batch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger("tweet_topics.streamer")
SEGMENT = re.compile(r"segment-(\d{12})\.ndjson")
BadLine = Callable[[str, bytes], None]  # (reason, raw line)


class Spool:
    def __init__(self, directory: Path, on_bad_line: BadLine | None = None) -> None:
        self.directory = directory
        self.stray_dir = directory.parent / f"{directory.name}-stray"
        self.on_bad_line = on_bad_line or (lambda reason, raw: None)
        directory.mkdir(parents=True, exist_ok=True)
        self._clean()
        existing = self.segments()
        self._next = int(SEGMENT.fullmatch(existing[-1].name).group(1)) + 1 if existing else 0  # type: ignore[union-attr]
        self._counts = {path: _count_lines(path) for path in existing}
        self._checked: set[Path] = set()  # segments whose bad lines were already reported

    def _clean(self) -> None:
        """Remove interrupted writes, move anything that is not a segment aside (a stray file never stops us)."""
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and SEGMENT.fullmatch(path.name):
                continue
            if path.is_file() and path.suffix == ".tmp":
                path.unlink(missing_ok=True)
                log.warning("spool: removed an interrupted write %s", path.name)
                continue
            self.stray_dir.mkdir(parents=True, exist_ok=True)
            target = self.stray_dir / f"{path.name}.{time.time_ns()}"
            os.replace(path, target)
            log.warning("spool: moved stray %s to %s (not sent)", path.name, target)

    def segments(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if SEGMENT.fullmatch(p.name))

    def __len__(self) -> int:
        """Records in the spool (the backlog), kept current by every write and delete."""
        return sum(self._counts.values())

    def append(self, records: list[bytes]) -> Path:
        path = self.directory / f"segment-{self._next:012d}.ndjson"
        self._write(path, records)
        self._next += 1
        return path

    def rewrite(self, path: Path, records: list[bytes]) -> None:
        """Atomically replace a segment with what is left of it (keeps its place in the order)."""
        if records:
            self._write(path, records)
        else:
            self.done(path)

    def _write(self, path: Path, records: list[bytes]) -> None:
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(b"".join(r if r.endswith(b"\n") else r + b"\n" for r in records))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        self._counts[path] = len(records)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def pending(self) -> Iterator[tuple[Path, list[bytes]]]:
        """Oldest segment first, only lines that pass the check; delete a segment with ``done`` once delivered."""
        for path in self.segments():
            try:
                data = path.read_bytes()
            except OSError as exc:
                log.warning("spool: cannot read %s (%s); skipped for now", path.name, exc.strerror)
                continue
            report = self.on_bad_line if path not in self._checked else (lambda reason, raw: None)
            good = [line + b"\n" for line in valid_lines(data, report)]
            self._checked.add(path)
            if len(good) != self._counts.get(path):  # bad lines left the backlog (as rejects): drop them here too
                self._counts[path] = len(good)
                try:
                    self.rewrite(path, good)
                except OSError as exc:
                    log.warning("spool: cannot rewrite %s without its bad lines (%s)", path.name, exc.strerror)
            if good:
                yield path, good

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._counts.pop(path, None)
        self._checked.discard(path)


def _count_lines(path: Path) -> int:
    """Every non-empty line, good or bad: the bad ones leave the backlog as rejects when the segment is read."""
    try:
        return sum(1 for line in path.read_bytes().split(b"\n") if line.strip())
    except OSError:
        return 0


def valid_lines(data: bytes, on_bad: BadLine) -> Iterator[bytes]:
    """The segment's valid lines; a last line without its newline was cut short by a crash or a full disk."""
    parts = data.split(b"\n")
    tail = parts.pop()  # b"" when the data ends with a newline
    for line in parts:
        if not line.strip():
            continue
        try:
            ok = isinstance(json.loads(line), dict)
        except (ValueError, RecursionError):
            ok = False
        if ok:
            yield line
        else:
            on_bad("bad_spool_line", line)
    if tail.strip():
        on_bad("truncated_spool_line", tail)
