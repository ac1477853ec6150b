"""The original JSON beside the Firehose records (issue 25): what X sent for each record, one S3 object per batch.

Not inside the record (Firehose bills per 5 KB of record), but through its own prefix with the journal's
guarantees: each accepted payload is written (``os.write``, no userspace buffer) to its batch's file with its
record's write-ahead log (one write per chunk of items the loop takes, before they count as received); when the
loop seals the batch, the file is renamed with the batch's hour and sequence range and queued; an uploader thread
gzips it, puts ``<original prefix>YYYY/MM/DD/HH/stream-<run>-<first>-<last>.ndjson.gz``
and deletes the file. A failed put keeps the file and is retried; files left by a killed run (sealed or not) are
uploaded by the next start. The hour is the one the batch was sealed in, i.e. the raw hour Firehose delivers its
records to (a batch sealed in the last buffer interval of an hour can land in the next raw hour: look there too).

A twarc2 page replayed line by line hands every tweet the page's whole ``includes``; each original keeps only the
entries its tweet references (as the import does). A payload that is one stream message is kept as X sent it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from isal import igzip

from tweet_topics.lib.archive.formats import Includes
from tweet_topics.settings import Settings
from tweet_topics.storage.original_keys import OriginalKeys
from tweet_topics.streamer.convert import parse_line
from tweet_topics.streamer.sources import Item

log = logging.getLogger("tweet_topics.streamer")
SEALED = re.compile(r"^(?P<hour>\d{10})-(?P<run>[A-Za-z0-9_.:-]{1,64})-(?P<first>\d{10})-(?P<last>\d{10})\.ndjson$")
OPEN = re.compile(r"^open-(?P<run>[A-Za-z0-9_.:-]{1,64})-(?P<first>\d{10})\.ndjson$")
RETRY_SECONDS = 5.0


def original_line(item: Item, shared: dict[str, Any]) -> bytes:
    """The payload as one JSON line; a page's tweet keeps only the ``includes`` entries it references."""
    if item.payload is None and item.raw is not None:  # a stream message as received: kept as X sent it
        raw = item.raw.strip()
        if b"\n" not in raw and b"\r" not in raw:
            return raw + b"\n"
        item = item._replace(payload=parse_line(raw))  # accepted, so it parses; one JSON line is written below
    payload = item.payload
    includes = payload.get("includes") if isinstance(payload, dict) else None
    tweet = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(includes, dict) and isinstance(tweet, dict) and (not item.complete or includes is shared.get("raw")):
        if includes is not shared.get("raw"):
            shared.update(raw=includes, index=Includes(includes))
        payload = {**payload, "includes": shared["index"].referenced(tweet)}
    elif not item.complete or shared:
        shared.clear()
    try:
        return orjson.dumps(payload, option=orjson.OPT_APPEND_NEWLINE)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate or deep nesting: the standard encoder
        pass
    try:
        return json.dumps(payload, ensure_ascii=True, default=repr).encode() + b"\n"
    except (RecursionError, ValueError, TypeError) as exc:
        raise ValueError(f"unencodable original ({type(exc).__name__})") from None


def _one_line(raw: bytes) -> bool:
    """X's message is one line with nothing to strip: kept as it came."""
    return not (raw[:1].isspace() or raw[-1:].isspace() or b"\n" in raw or b"\r" in raw)


class OriginalWriter:
    """Write-ahead files per batch in ``directory``, uploaded by a thread; ``lost`` counts payloads not written."""

    def __init__(self, s3: Any, bucket: str, keys: OriginalKeys, directory: Path, run: str) -> None:
        self.s3, self.bucket, self.keys, self.run = s3, bucket, keys, run
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lost = self.uploaded = 0
        self._fd: int | None = None
        self._first = self._last = 0
        self._shared: dict[str, Any] = {}
        self._pending: list[bytes] = []  # lines added since the last flush
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._thread = threading.Thread(target=self._upload_loop, name="originals-uploader", daemon=True)
        self._recover()

    def start(self) -> None:
        self._thread.start()

    def add(self, item: Item, seq: int) -> None:
        """The payload of the record ``seq`` just built; written by ``flush``, which the loop calls with its
        write-ahead log (once per chunk of items, before they count as received) and before the batch is sealed."""
        raw = item.raw
        if item.payload is None and raw and self._fd is not None and _one_line(raw):  # the stream's common case
            self._last = seq
            self._pending += (raw, b"\n")  # what ``original_line`` gives, without copying the message
            return
        try:
            line = original_line(item, self._shared)
        except ValueError as exc:
            self.lost += 1
            log.warning("originals: seq %d not kept (%s)", seq, exc)
            return
        if self._fd is None:
            self._first = seq
            try:
                self._fd = os.open(self._open_path(seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError as exc:
                self._fail(exc, 1)
                return
        self._last = seq
        self._pending.append(line)

    def flush(self) -> None:
        """Write what ``add`` took since the last flush, in one ``os.write`` (no userspace buffer after it)."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        view = memoryview(data)
        try:
            while view and self._fd is not None:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self._fail(exc, data.count(b"\n"))  # one line per payload

    def seal(self) -> None:
        """The loop sealed its batch: name the file with its hour and range, and queue it for upload."""
        self.flush()
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        hour = datetime.now(UTC)
        sealed = self.dir / f"{hour:%Y%m%d%H}-{self.run}-{self._first:010d}-{self._last:010d}.ndjson"
        try:
            os.replace(self._open_path(self._first), sealed)
        except OSError as exc:
            self._fail(exc, self._last - self._first + 1)
            return
        self._queue.put(sealed)

    def close(self, until: float) -> int:
        """Seal what is open and upload until ``until`` (monotonic); returns the files left for the next start."""
        self.seal()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=max(0.0, until - time.monotonic()))
        left = len([p for p in self.dir.iterdir() if SEALED.match(p.name)])
        if left or self.lost:
            log.warning("originals: %d batch files left for the next start, %d payloads not written", left, self.lost)
        return left

    def _open_path(self, first: int) -> Path:
        return self.dir / f"open-{self.run}-{first:010d}.ndjson"

    def _fail(self, exc: OSError, payloads: int) -> None:
        self.lost += payloads
        log.warning("originals: %d payloads not written (%s)", payloads, exc.strerror)

    def _recover(self) -> None:
        """Files a killed run left: open ones are sealed by their modification hour, then all are queued."""
        for path in sorted(self.dir.iterdir()):
            match = OPEN.match(path.name)
            try:
                if match:
                    lines = path.read_bytes().count(b"\n")
                    if not lines:
                        path.unlink()
                        continue
                    hour = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    first = int(match["first"])
                    name = f"{hour:%Y%m%d%H}-{match['run']}-{first:010d}-{first + lines - 1:010d}.ndjson"
                    path = path.rename(self.dir / name)
            except OSError as exc:
                log.warning("originals: %s not recovered yet (%s)", path.name, exc.strerror)
                continue
            if SEALED.match(path.name):
                self._queue.put(path)

    def _upload_loop(self) -> None:
        """Upload queued files in order; failed ones are retried every few seconds until they go."""
        pending: list[Path] = []
        closing = False
        while not closing or pending:
            try:
                path = self._queue.get(timeout=None if not pending else 0.5 if closing else RETRY_SECONDS)
                if path is None:
                    closing = True
                else:
                    pending.append(path)
            except queue.Empty:
                pass
            pending = [p for p in pending if not self._upload(p)]

    def _upload(self, path: Path) -> bool:
        match = SEALED.match(path.name)
        if match is None:
            return True
        hour = datetime.strptime(match["hour"], "%Y%m%d%H").replace(tzinfo=UTC)
        key = self.keys.streamed(hour, match["run"], int(match["first"]), int(match["last"]))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return True  # uploaded by another writer meanwhile (a restart recovering the same directory)
        try:
            body = igzip.compress(data, compresslevel=1, mtime=0)  # ISA-L: standard gzip, ~4x less CPU than zlib
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/gzip")
        except Exception as exc:  # the network or the disk: the file stays, retried, or left for the next start
            log.warning("originals: %s not uploaded yet (%s)", path.name, type(exc).__name__)
            return False
        path.unlink(missing_ok=True)
        self.uploaded += 1
        return True


def original_writer(settings: Settings, s3: Any, state_dir: Path, run: str) -> OriginalWriter | None:
    """The run's writer (started), or None when TWEET_TOPICS_KEEP_ORIGINAL is off."""
    if not settings.keep_original:
        return None
    writer = OriginalWriter(s3, settings.bucket, OriginalKeys(settings.original_prefix), state_dir / "originals", run)
    writer.start()
    return writer
