"""One batch of an import's parse phase, converted and spilled where it was converted (a worker process).

A worker returns only what the importer must know (how many tweets, the rejects, where each hour's tweets were
written), not the tweets: moving every record and original through the importer cost it ~15 us a tweet, a core's
worth at the target rate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from tweet_topics.lib.archive.convert import Result
from tweet_topics.lib.archive.inputs import Line
from tweet_topics.lib.archive.readers import convert_lines
from tweet_topics.lib.archive.spill import Segment, SpillWriter

# A rejected tweet: (index in its batch, input line, reason, detail, the input cut to 64 KiB)
BatchReject = tuple[int, int, str, str, str]


class BatchOut(NamedTuple):
    batch: int
    count: int  # tweets (and unreadable lines) read: each gets a delivery sequence
    rejects: list[BatchReject]
    segments: list[tuple[str, Segment]]
    counts: dict[str, int]
    cpu: float = 0.0  # CPU seconds its converter spent on it (the benchmark's account of where the time goes)


def spill_results(results: Iterable[Result], writer: SpillWriter) -> BatchOut:
    """Converted tweets to their hour's spill file, rejects kept with their index."""
    rejects: list[BatchReject] = []
    count = 0
    for index, result in enumerate(results):
        count += 1
        if result[0] == "ok":
            tweet = result[2]
            created = tweet.created_at
            hour = created[0:4] + created[5:7] + created[8:10] + created[11:13]
            writer.add(hour, tweet.id, index, tweet.record, tweet.original)
        else:
            _, number, reason, detail, raw = result
            rejects.append((index, number, reason, detail, raw))
    writer.flush()
    return BatchOut(writer.batch, count, rejects, writer.segments, writer.counts)


def convert_batch(fmt: str, lines: list[Line], latest: str, directory: str, batch: int, buffer_bytes: int) -> BatchOut:
    """The picklable unit of work: a batch of input lines converted and spilled."""
    started = time.process_time()
    out = spill_results(convert_lines(fmt, lines, latest), SpillWriter(directory, batch, buffer_bytes))
    return out._replace(cpu=time.process_time() - started)
