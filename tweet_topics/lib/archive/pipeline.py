"""The parse phase of an import: every input file -> per-hour spill files, a rejects file and counts.

Nothing is written to storage here, so a fatal input (truncated gzip, no format fits) stops the import before any
hour is touched. Every tweet read gets a delivery sequence number (``lib.ledger``'s contract): imported ones are
``handed``, rejected ones ``rejected``, duplicates found later ``duplicates``; so the ledger accounts for all.
"""

from __future__ import annotations

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

from tweet_topics.lib.archive.convert import Result, latest_allowed, with_delivery
from tweet_topics.lib.archive.formats import FORMATS, LINE_FORMATS, detect
from tweet_topics.lib.archive.inputs import ArchiveError, Opener, open_binary, read_lines
from tweet_topics.lib.archive.readers import convert_lines, csv_results, line_batches, x_archive_results
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


def _pooled(fmt: str, batches: Iterator[Any], latest: str, workers: int) -> Iterator[list[Result]]:
    """Batches converted by ``workers`` processes, in input order, with a bounded number in flight."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tweet_topics.lib.archive.readers"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: list[Future[list[Result]]] = []
        for batch in batches:
            pending.append(pool.submit(convert_lines, fmt, batch, latest))
            if len(pending) >= workers * 3:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def file_results(
    name: str, fmt: str, opener: Opener | None, latest: str, workers: int
) -> tuple[str | None, Iterator[list[Result]]]:
    """The detected (or given) format of one input and its results, batch by batch."""
    stream = open_binary(name, opener)
    chosen, lines = _first_line(name, stream, fmt)
    if chosen is None:
        return None, iter(())
    if chosen in LINE_FORMATS:
        batches = line_batches(lines)
        if workers > 1 and _size(name) >= POOL_MIN_BYTES:
            return chosen, _pooled(chosen, batches, latest, workers)
        return chosen, (convert_lines(chosen, batch, latest) for batch in batches)
    stream.close()
    reader = x_archive_results if chosen == "x-archive" else csv_results
    return chosen, reader(name, open_binary(name, opener), latest)


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
    for name in names:
        chosen, results = file_results(name, fmt, opener, latest, workers)
        info = {"file": name, "format": chosen, "tweets": 0, "rejected": 0}
        for batch in results:
            for result in batch:
                stats.seq += 1
                info["tweets"] += 1
                if result[0] == "ok":
                    tweet = result[2]
                    created = tweet.created_at
                    hour = created[0:4] + created[5:7] + created[8:10] + created[11:13]
                    record = with_delivery(tweet.record, run, stats.seq)
                    spill.add(hour, tweet.id, stats.seq, record, tweet.original)
                else:
                    _, number, reason, detail, raw = result
                    info["rejected"] += 1
                    stats.rejected += 1
                    stats.reasons[reason] += 1
                    stats.rejected_seqs.append(stats.seq)
                    rejects.write(
                        {"file": name, "line": number, "seq": stats.seq, "reason": reason, "detail": detail, "raw": raw}
                    )
            if progress is not None:
                progress(len(batch))
        stats.read += info["tweets"]
        stats.files.append(info)
    spill.flush()
    return stats
