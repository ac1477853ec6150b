"""``HourlyDataset``: one hourly dataset in the bucket - its keys, files, commit object, writer and readers.

Every hourly writer and reader goes through here. An hour lives under ``<prefix>YYYY/MM/DD/HH/``:

- each run writes its data files under its own immutable ``<run id>/`` folder;
- then one commit object, ``_commit.json``, names them (key, sha256, bytes) with the hour's metadata. It is
  written with a single conditional PutObject - ``IfNoneMatch='*'`` for the first commit, ``IfMatch`` on the
  ETag seen when the run began otherwise - so a stale run can never overwrite a newer commit, and a run killed
  before its commit leaves the previous version whole;
- readers resolve files through the commit and verify their sha256, so they never see a mixed version.

Files of replaced versions are deleted after the commit; leftovers of runs that died before committing are
swept once they are older than ``SWEEP_AFTER`` (and a bucket lifecycle rule can expire them too).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from tweet_topics.storage.keys import hour_from_key, hour_prefix, partition_key
from tweet_topics.storage.s3 import S3Store, error_code

COMMIT_FILE = "_commit.json"
SWEEP_AFTER = timedelta(hours=6)
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
}


class HourNotCommitted(FileNotFoundError):
    """The hour has no committed output (its upstream asset was not materialized for it)."""


class StaleCommit(RuntimeError):
    """Another run committed the hour after this run began; this run's output was discarded, nothing overwritten."""


class CorruptHour(RuntimeError):
    """A committed file does not match the sha256 its commit recorded."""


@dataclass(frozen=True)
class CommitToken:
    """What a run saw of an hour when it began: the commit's ETag (None: the hour had no commit yet)."""

    etag: str | None
    previous: dict[str, Any] | None


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def content_type(name: str) -> str:
    return next((t for ext, t in CONTENT_TYPES.items() if name.endswith(ext)), "application/octet-stream")


def _code(exc: ClientError) -> str:
    return error_code(exc)


@dataclass(frozen=True)
class HourlyDataset:
    name: str  # the asset that writes it, used in messages
    prefix: str
    files: tuple[str, ...]  # data files per hour
    store: S3Store

    def hour_prefix(self, hour: datetime) -> str:
        return hour_prefix(self.prefix, hour)

    def commit_key(self, hour: datetime) -> str:
        return self.hour_prefix(hour) + COMMIT_FILE

    def uri(self, hour: datetime) -> str:
        return f"s3://{self.store.bucket}/{self.hour_prefix(hour)}"

    # -- writing -------------------------------------------------------------------------------------------
    def begin(self, hour: datetime) -> CommitToken:
        """Call before reading the inputs: the commit later succeeds only if nobody committed in between."""
        found = self.store.get_with_etag(self.commit_key(hour))
        if found is None:
            return CommitToken(None, None)
        body, etag = found
        return CommitToken(etag, json.loads(body))

    def write_hour(
        self,
        hour: datetime,
        data: Mapping[str, bytes],
        metadata: Mapping[str, Any],
        token: CommitToken | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write ``data`` (one entry per file) under a new run folder and commit it; returns the commit.

        ``token`` is what :meth:`begin` returned when the run started (taken now if omitted); ``inputs``
        records what was read (e.g. the raw fingerprint), so a later look can tell whether the inputs changed.
        Raises StaleCommit if another run committed the hour since ``token`` was taken.
        """
        if set(data) != set(self.files):
            raise ValueError(f"{self.name}: write_hour needs exactly {sorted(self.files)}, got {sorted(data)}")
        token = token or self.begin(hour)
        run_prefix = self.run_prefix(hour, self.new_run())
        entries = {}
        for name in self.files:
            body = data[name]
            self.store.put(run_prefix + name, body, content_type(name))
            entries[name] = {"key": run_prefix + name, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        return self.commit_written(hour, entries, metadata, token, inputs)

    def _put_commit(self, hour: datetime, commit: dict[str, Any], token: CommitToken) -> None:
        """One conditional PutObject. A 412 is checked against what is there now: after a retried request whose
        first attempt did land, the commit there is our own (success); otherwise another run's (StaleCommit, our
        files deleted). A 409 (concurrent conditional write) is retried; on any other error the outcome is unknown,
        so our files stay for the sweep."""
        body = json.dumps(commit, indent=2, sort_keys=True).encode()
        ours = sorted(e["key"] for e in commit["files"].values())
        for attempt in range(3):
            try:
                self.store.put_if(self.commit_key(hour), body, "application/json", token.etag)
                return
            except ClientError as exc:
                code = _code(exc)
                if code in ("ConditionalRequestConflict", "409") and attempt < 2:
                    continue
                if code not in ("PreconditionFailed", "412", "NoSuchKey", "404", "ConditionalRequestConflict", "409"):
                    raise
                try:
                    current = self.read_commit(hour)
                except HourNotCommitted:
                    current = None
                if current is not None and sorted(e["key"] for e in current["files"].values()) == ours:
                    return  # our own commit, landed by an earlier attempt of the same request
                self.store.discard_keys(ours)
                raise StaleCommit(
                    f"{self.name} {partition_key(hour)}: another run committed this hour after this run began; "
                    "its output was discarded and the newer commit kept"
                ) from None

    def _clean(self, hour: datetime, commit: dict[str, Any], token: CommitToken) -> None:
        """Delete the replaced version's files and stale leftovers of runs that never committed."""
        live = {e["key"] for e in commit["files"].values()} | {self.commit_key(hour)}
        replaced = {e["key"] for e in (token.previous or {}).get("files", {}).values()} - live
        cutoff = datetime.now(UTC) - SWEEP_AFTER
        stale = [
            o.key for o in self.store.list(self.hour_prefix(hour)) if o.key not in live and o.last_modified < cutoff
        ]
        self.store.delete_keys(sorted(replaced | set(stale)))

    # -- reading -------------------------------------------------------------------------------------------
    def read_commit(self, hour: datetime) -> dict[str, Any]:
        try:
            body = self.store.get(self.commit_key(hour))
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise HourNotCommitted(
                    f"{self.name} has no output for {partition_key(hour)}: materialize it first"
                ) from None
            raise
        return json.loads(body)

    def read_commits(self, hours: list[datetime], workers: int = 8) -> dict[datetime, dict[str, Any]]:
        """The commits of ``hours`` that have one, fetched concurrently (a report reads many hours' metadata; one
        GET each, no HEAD first); hours without a commit are left out."""
        by_key = {self.commit_key(hour): hour for hour in hours}
        found = self.store.get_many(list(by_key), workers=workers, missing_ok=True)
        return {by_key[key]: json.loads(body) for key, body in found}

    def is_committed(self, hour: datetime) -> bool:
        return self.store.exists(self.commit_key(hour))

    def read_metadata(self, hour: datetime) -> dict[str, Any]:
        return self.read_commit(hour)["metadata"]

    def read_bytes(self, hour: datetime, file: str, commit: Mapping[str, Any] | None = None) -> bytes:
        """The committed bytes of ``file`` (of ``commit`` if given), verified against the commit's sha256.

        A newer commit may have replaced the version just resolved and deleted its files: then the hour is
        resolved once more and the newer version read."""
        if file not in self.files:
            raise ValueError(f"{self.name} has no file {file!r} (files: {list(self.files)})")
        entry = (commit or self.read_commit(hour))["files"][file]
        try:
            body = self.store.get(entry["key"])
        except ClientError as exc:
            if _code(exc) not in ("NoSuchKey", "404") or commit is not None:
                raise
            entry = self.read_commit(hour)["files"][file]
            body = self.store.get(entry["key"])
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise CorruptHour(f"{self.name} {partition_key(hour)}: {file} does not match its commit's sha256")
        return body

    def read_parquet(self, hour: datetime, file: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(io.BytesIO(self.read_bytes(hour, file)), columns=columns)

    def committed_hours(self) -> list[datetime]:
        """Hours with a commit object, oldest first."""
        hours = {
            hour
            for info in self.store.list(self.prefix)
            if info.key.endswith("/" + COMMIT_FILE) and (hour := hour_from_key(self.prefix, info.key)) is not None
        }
        return sorted(hours)

    def committed_files(self, hours: list[datetime], file: str) -> list[tuple[datetime, dict[str, Any]]]:
        """(hour, commit entry of ``file``: key, sha256, bytes) for each of ``hours``; raises for a missing hour.

        What Spark reads: exactly these objects, resolved through each hour's commit (never a prefix listing).
        """
        if file not in self.files:
            raise ValueError(f"{self.name} has no file {file!r} (files: {list(self.files)})")
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            commits = list(pool.map(self.read_commit, hours))
        return [(hour, dict(commit["files"][file])) for hour, commit in zip(hours, commits, strict=True)]

    def run_prefix(self, hour: datetime, run: str) -> str:
        """Where one run's data files for ``hour`` go (immutable; visible only once a commit names them)."""
        return f"{self.hour_prefix(hour)}{run}/"

    @staticmethod
    def new_run() -> str:
        return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"

    def commit_written(
        self,
        hour: datetime,
        entries: Mapping[str, Mapping[str, Any]],
        metadata: Mapping[str, Any],
        token: CommitToken,
        inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Commit data files already put under a run prefix (by Spark tasks): ``entries`` is file -> key,
        sha256, bytes. Same conditional commit as :meth:`write_hour`; raises StaleCommit likewise."""
        if set(entries) != set(self.files):
            raise ValueError(f"{self.name}: a commit needs exactly {sorted(self.files)}, got {sorted(entries)}")
        commit = {
            "dataset": self.name,
            "partition": partition_key(hour),
            "committed_at": datetime.now(UTC).isoformat(),
            "files": {name: {k: entry[k] for k in ("key", "sha256", "bytes")} for name, entry in entries.items()},
            "metadata": dict(metadata),
            "inputs": dict(inputs or {}),
        }
        self._put_commit(hour, commit, token)
        self._clean(hour, commit, token)
        return commit
