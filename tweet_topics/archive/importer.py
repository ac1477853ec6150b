"""Import archives into the raw hours of their tweets' ``created_at``: parse (``lib.archive``), then write hour by hour.

Idempotent by construction: an id already in the raw hour (or deleted: a tombstone) is a duplicate, and each
object is named by the sha256 of its content, so a re-import writes nothing and a retried one rewrites the same
names. Raw objects are only ever added (the raw prefix is append-only for the project); the hourly assets then
read them like Firehose's own.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from isal import igzip

from tweet_topics.archive.tombstones import load_tombstones
from tweet_topics.lib.archive.compliance import Actions, rewrite, tombstoned_ids
from tweet_topics.lib.archive.inputs import ArchiveError, Opener
from tweet_topics.lib.archive.pipeline import ParseStats, RejectsFile, parse_inputs
from tweet_topics.lib.archive.spill import HourSpill
from tweet_topics.lib.ledger import merge
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.keys import partition_key

# An hour's import is cut into objects of about this size (Firehose writes up to 128 MiB); with HOUR_WORKERS hours
# written at once, the write phase holds about HOUR_WORKERS x 4 x OBJECT_BYTES (records, originals, joined, sent).
OBJECT_BYTES = 16 * 1024 * 1024
HOUR_WORKERS = 2
FETCH_AT_ONCE = 4  # raw objects read at once when collecting an hour's ids (2 hours x 4 x 16 MiB at most)
# The id of every record line in a raw object (the streamer and the import both write ``dumps_record`` order): the
# first line, then every line after a newline (a pattern that starts with a literal is searched for that literal,
# 3.6x faster than a multiline ``^``).
RECORD_ID = re.compile(rb'\{"schema_version":\s*\d+,\s*"id":\s*"(\d{1,19})"')
NEXT_RECORD_ID = re.compile(rb'\n\{"schema_version":\s*\d+,\s*"id":\s*"(\d{1,19})"')


@dataclass
class HourResult:
    hour: datetime
    imported: int = 0
    duplicates: int = 0
    objects: int = 0
    bytes: int = 0
    handed: list[list[int]] = field(default_factory=list)  # sequence ranges, built as the hour is read in order
    duplicate_seqs: list[list[int]] = field(default_factory=list)
    tombstoned_seqs: list[int] = field(default_factory=list)  # deleted on X (apply_deletions): rejected


@dataclass
class ImportResult:
    run: str
    parse: ParseStats
    hours: list[HourResult]
    rejects_path: Path | None
    dry_run: bool
    # wall and CPU seconds of the parse and write phases (benchmarks/bench_import.py)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return sum(h.imported for h in self.hours)

    @property
    def duplicates(self) -> int:
        return sum(h.duplicates for h in self.hours)

    @property
    def tombstoned(self) -> int:
        return sum(len(h.tombstoned_seqs) for h in self.hours)

    @property
    def rejected(self) -> int:
        return self.parse.rejected + self.tombstoned

    @property
    def objects(self) -> int:
        return sum(h.objects for h in self.hours)

    def written_hours(self) -> list[HourResult]:
        return [h for h in self.hours if h.imported]

    def summary(self) -> dict[str, Any]:
        """The one summary line the CLI prints: read == imported + duplicates + rejected."""
        written = self.written_hours()
        return {
            "read": self.parse.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "hours": len(written),
            "first_hour": partition_key(written[0].hour) if written else None,
            "last_hour": partition_key(written[-1].hour) if written else None,
        }


def new_run_id(now: datetime | None = None) -> str:
    """``import-<UTC time>-<random>``: a delivery run id (``lib.ledger`` accepts ``[A-Za-z0-9_.:-]{1,64}``)."""
    return f"import-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def s3_opener(storage: Storage) -> Opener:
    """``s3://bucket/key`` -> the object's streaming body (read in bounded chunks, never whole)."""

    def open_uri(uri: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        bucket, _, key = uri[len("s3://") :].partition("/")
        try:
            return storage.s3.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            raise ArchiveError(f"{uri}: cannot be read ({exc.response['Error'].get('Code', 'error')})") from None

    return open_uri


def record_ids(body: bytes) -> list[str]:
    """The id of each record line of a raw object (a line that is no record names none)."""
    first = RECORD_ID.match(body)
    return ([first.group(1).decode()] if first else []) + [m.decode() for m in NEXT_RECORD_ID.findall(body)]


def existing_ids(storage: Storage, hour: datetime) -> tuple[set[str], set[str]]:
    """(ids of the records already in the raw hour, the hour's object keys)."""
    keys = [o.key for o in storage.s3.list(storage.raw_hour(hour))]
    ids: set[str] = set()
    for start in range(0, len(keys), FETCH_AT_ONCE):
        for _, body in storage.s3.get_many(keys[start : start + FETCH_AT_ONCE], workers=FETCH_AT_ONCE):
            ids.update(record_ids(body))
    return ids, set(keys)


def _extend(ranges: list[list[int]], seq: int) -> None:
    """Add ``seq`` to inclusive ranges (an hour is read in input order, so a million tweets are a few ranges)."""
    if ranges and ranges[-1][1] + 1 == seq:
        ranges[-1][1] = seq
    else:
        ranges.append([seq, seq])


def _batches(
    spill: HourSpill, hour_name: str, known: set[str], tombstones: set[str], result: HourResult
) -> Iterator[tuple[bytes, bytes]]:
    """The hour's new records as (raw body, originals body) of about OBJECT_BYTES each, duplicates counted."""
    records: list[bytes] = []
    originals: list[bytes] = []
    size = 0
    for tweet in spill.read(hour_name):
        if tombstones and (deleted := tombstoned_ids(tweet.record, tombstones)):
            # Deleted on X (or a retweet of one): rejected; a mere reference is nulled, as apply_deletions does.
            actions = Actions(remove=deleted)
            fixed = rewrite(tweet.record.rstrip(b"\n"), actions)
            if fixed.removed:
                result.tombstoned_seqs.append(tweet.seq)
                continue
            kept = rewrite(tweet.original, actions, original=True).body
            tweet = tweet._replace(record=fixed.body + b"\n", original=kept or b"null")
        if tweet.id in known:
            result.duplicates += 1
            _extend(result.duplicate_seqs, tweet.seq)
            continue
        known.add(tweet.id)
        records.append(tweet.record)
        originals.append(tweet.original + b"\n")
        result.imported += 1
        _extend(result.handed, tweet.seq)
        size += len(tweet.record)
        if size >= OBJECT_BYTES:
            yield b"".join(records), b"".join(originals)
            records, originals, size = [], [], 0
    if records:
        yield b"".join(records), b"".join(originals)


def write_hour(
    storage: Storage, spill: HourSpill, hour_name: str, tombstones: set[str], dry_run: bool, keep_original: bool
) -> HourResult:
    """Add the hour's new tweets as content-named raw objects (and their originals); nothing when all are known."""
    hour = datetime.strptime(hour_name, "%Y%m%d%H").replace(tzinfo=UTC)
    result = HourResult(hour)
    known, keys = existing_ids(storage, hour)
    for body, originals in _batches(spill, hour_name, known, tombstones, result):
        digest = hashlib.sha256(body).hexdigest()
        key = storage.raw_import_key(hour, digest)
        if dry_run or key in keys:
            continue
        if keep_original:  # first, so a raw record never exists without its original
            data = igzip.compress(originals, compresslevel=1, mtime=0)  # ISA-L: 2.3x zlib's level 1, same size
            storage.s3.put(storage.original_key(hour, digest), data, "application/gzip")
        storage.s3.put(key, body, "application/x-ndjson")
        result.objects += 1
        result.bytes += len(body)
    return result


def ledger_entry(result: ImportResult) -> dict[str, Any]:
    """The run's delivery-ledger object: imported = handed, plus rejects, duplicates and the hours written."""
    return {
        "run": result.run,
        "source": "import",
        "handed": merge(pair for h in result.hours for pair in h.handed),
        "rejected": merge([*result.parse.rejected_seqs, *(s for h in result.hours for s in h.tombstoned_seqs)]),
        "duplicates": merge(pair for h in result.hours for pair in h.duplicate_seqs),
        "rejected_reasons": dict(result.parse.reasons)
        | ({"deleted_on_x": result.tombstoned} if result.tombstoned else {}),
        "hours": [partition_key(h.hour) for h in result.written_hours()],
        "written_at": datetime.now(UTC).isoformat(),
    }


def run_import(
    storage: Storage,
    names: list[str],
    fmt: str = "auto",
    dry_run: bool = False,
    keep_original: bool | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Parse every input (nothing written if any cannot be read), then write hour by hour and the ledger.

    ``keep_original`` defaults to the storage's setting (TWEET_TOPICS_KEEP_ORIGINAL)."""
    keep = storage.keep_original if keep_original is None else keep_original
    run = new_run_id()
    rejects_path = None if dry_run else storage.local_path("imports", run) / "rejects.ndjson"
    spill = HourSpill(storage.local_path("imports"))
    rejects = RejectsFile(rejects_path)
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        parsed = parse_inputs(names, spill, rejects, run, fmt, s3_opener(storage), workers, progress)
        parsed_at, cpu_parsed = time.perf_counter(), time.process_time()
        tombstones = load_tombstones(storage)
        with ThreadPoolExecutor(HOUR_WORKERS) as pool:
            hours = list(pool.map(lambda h: write_hour(storage, spill, h, tombstones, dry_run, keep), spill.hours()))
        for hour in hours:  # no id and no line: the rejects file must not keep what X deleted
            for seq in hour.tombstoned_seqs:
                rejects.write({"seq": seq, "hour": partition_key(hour.hour), "reason": "deleted_on_x"})
    finally:
        rejects.close()
        spill.close()
    result = ImportResult(run, parsed, hours, rejects_path, dry_run)
    result.seconds = {
        "parse": parsed_at - started,
        "write": time.perf_counter() - parsed_at,
        "parse_cpu_importer": cpu_parsed - cpu_started,
        "parse_cpu_converters": parsed.converter_cpu,
        "write_cpu_importer": time.process_time() - cpu_parsed,
    }
    if not result.rejected:
        result.rejects_path = None
    if not dry_run and result.imported:
        entry = ledger_entry(result)
        key = storage.streamer.ledger(run, 1, max(parsed.seq, 1))
        storage.s3.put(key, json.dumps(entry).encode(), "application/json")
    return result
