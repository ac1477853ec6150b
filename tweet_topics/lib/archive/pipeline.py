"""The parse phase of an import: every input file -> per-hour spill files, a rejects file and counts.

Nothing is written to storage here, so a fatal input (truncated gzip, no format fits) stops the import before any
hour is touched. Every tweet read gets a delivery sequence number (``lib.ledger``'s contract): imported ones are
``handed``, rejected ones ``rejected``, duplicates found later ``duplicates``; so the ledger accounts for all.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any

from tweet_topics.lib.archive.batches import BatchOut, convert_batch, spill_results
from tweet_topics.lib.archive.convert import latest_allowed
from tweet_topics.lib.archive.formats import FORMATS, LINE_FORMATS, detect
from tweet_topics.lib.archive.inputs import ArchiveError, Line, Opener, open_binary, read_lines
from tweet_topics.lib.archive.readers import csv_results, line_batches, x_archive_results
from tweet_topics.lib.archive.spill import HourSpill

POOL_MIN_BYTES = 4 * 1024 * 1024  # smaller inputs are converted in-process (a worker pool costs ~1 s to start)
REJECTS_MAX_BYTES = 256 * 1024 * 1024


class RejectsFile:
    """One JSON line per reject (file, line, seq, reason, detail, raw cut to 64 KiB), counted beyond its cap."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.size, self.dropped = path, 0, 0
        self._handle: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=True) + "\n"
        if self._handle is None or self.size + len(line) > REJECTS_MAX_BYTES:
            self.dropped += self._handle is not None
            return
        self._handle.write(line)
        self.size += len(line)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class ParseStats:
    read: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejected_seqs: list[int] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    converter_cpu: float = 0.0  # CPU seconds of the conversion (worker processes or this one)


def _size(name: str) -> int:
    return Path(name).stat().st_size if not name.startswith("s3://") and Path(name).is_file() else 0


def _first_line(name: str, stream: IO[bytes], fmt: str) -> tuple[str | None, Iterator[Any]]:
    """(the format: ``fmt`` or detected from the first non-blank line; all lines again) - ``None`` when empty."""
    lines = read_lines(name, stream)
    for line in lines:
        if line.oversize and fmt == "auto":
            raise ArchiveError(f"{name}:{line.number}: no known format fits: the first line is {line.oversize} bytes")
        if line.oversize or line.data.strip():
            return (detect(name, line.number, line.data) if fmt == "auto" else fmt), chain([line], lines)
    return None, iter(())


def _pooled(
    fmt: str, batches: Iterator[list[Line]], latest: str, workers: int, spill: HourSpill, ids: Iterator[int]
) -> Iterator[BatchOut]:
    """Batches converted and spilled by ``workers`` processes, in input order, a bounded number in flight."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tweet_topics.lib.archive.batches"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: list[Future[BatchOut]] = []
        for batch in batches:
            args = (fmt, batch, latest, str(spill.dir), next(ids), spill.buffer_bytes)
            pending.append(pool.submit(convert_batch, *args))
            if len(pending) >= workers * 2:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def file_batches(
    name: str, fmt: str, opener: Opener | None, latest: str, workers: int, spill: HourSpill, ids: Iterator[int]
) -> tuple[str | None, Iterator[BatchOut]]:
    """The detected (or given) format of one input and its batches, converted and spilled, in input order."""
    stream = open_binary(name, opener)
    chosen, lines = _first_line(name, stream, fmt)
    if chosen is None:
        return None, iter(())
    if chosen in LINE_FORMATS:
        batches = line_batches(lines)
        if workers > 1 and _size(name) >= POOL_MIN_BYTES:
            return chosen, _pooled(chosen, batches, latest, workers, spill, ids)
        dir_ = str(spill.dir)
        return chosen, (convert_batch(chosen, b, latest, dir_, next(ids), spill.buffer_bytes) for b in batches)
    stream.close()
    reader = x_archive_results if chosen == "x-archive" else csv_results
    results = reader(name, open_binary(name, opener), latest)
    return chosen, (spill_results(batch, spill.writer(next(ids))) for batch in results)


def parse_inputs(
    names: list[str],
    spill: HourSpill,
    rejects: RejectsFile,
    run: str,
    fmt: str = "auto",
    opener: Opener | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParseStats:
    """Parse every input into ``spill``; raises ArchiveError (one line) when an input cannot be read at all."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ArchiveError(f"--format {fmt}: expected auto or one of {', '.join(FORMATS)}")
    workers = workers or min(os.cpu_count() or 1, 4)
    latest = latest_allowed()
    stats = ParseStats()
    spill.run = run
    ids = itertools.count()
    for name in names:
        chosen, outs = file_batches(name, fmt, opener, latest, workers, spill, ids)
        info = {"file": name, "format": chosen, "tweets": 0, "rejected": 0}
        for out in outs:
            spill.add_batch(out.batch, stats.seq + 1, out.segments, out.counts)
            for index, number, reason, detail, raw in out.rejects:
                seq = stats.seq + 1 + index
                stats.reasons[reason] += 1
                stats.rejected_seqs.append(seq)
                entry = {"file": name, "line": number, "seq": seq, "reason": reason, "detail": detail, "raw": raw}
                rejects.write(entry)
            stats.seq += out.count
            stats.converter_cpu += out.cpu
            stats.rejected += len(out.rejects)
            info["tweets"] += out.count
            info["rejected"] += len(out.rejects)
            if progress is not None:
                progress(out.count)
        stats.read += info["tweets"]
        stats.files.append(info)
    return stats
