"""AWS access for assets and jobs: the client resource and a small S3 object store.

Why not dagster-aws's ``S3Resource``: its ``endpoint_url`` can be a ``dg.EnvVar`` resolved at run launch, but the
local stack's endpoint is discovered from ``.local/stack.json`` (``local up`` picks a free port and may restart on
another one while a ``dagster dev`` process keeps running), it gives only S3 clients (provisioning also needs IAM,
Firehose, EC2, SSM and Logs from the same credentials), and it has no moto credentials for ``local``. So
``AwsResource`` resolves the endpoint per client with ``storage.clients`` - the same code path as prod, where the
endpoint is simply unset and boto3's default credential chain applies.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError

from tweet_topics.settings import Settings
from tweet_topics.storage.clients import DeleteFailed, client, delete_all, endpoint_for


class AwsResource(dg.ConfigurableResource):
    """Where AWS is: moto on 127.0.0.1 (``local``) or the default credential chain (``prod``)."""

    env: str
    region: str
    endpoint_url: str | None
    stack_file: str  # where ``local up`` records the moto endpoint (local only)

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsResource:
        return cls(
            env=settings.env,
            region=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            stack_file=str(settings.stack_file),
        )

    def endpoint(self) -> str | None:
        return endpoint_for(self.env, self.endpoint_url, Path(self.stack_file))

    def client(self, service: str) -> Any:
        return client(self.env, self.region, self.endpoint(), service)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime
    etag: str = ""


class UnsafeKey(ValueError):
    """An object key that would address a local path outside the directory it is downloaded into."""


def local_target(root: Path, relative: str) -> Path:
    """``root / relative`` for a key's relative part, refusing ``..``, absolute paths and empty segments."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts):
        raise UnsafeKey(
            f"refusing to download {relative!r}: '..', '.', absolute paths and empty segments are not allowed"
        )
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or target == base:
        raise UnsafeKey(f"refusing to download {relative!r}: it resolves outside {base}")
    return root / relative


class S3Store(dg.ConfigurableResource):
    """The project's bucket: listing, reading and atomically replacing groups of objects."""

    aws: AwsResource
    bucket: str
    protected_prefix: str  # the raw Firehose data: never deleted or replaced by the project

    def _refuse_protected(self, keys: list[str]) -> None:
        hit = next((k for k in keys if k.startswith(self.protected_prefix)), None)
        if self.protected_prefix and hit is not None:
            raise PermissionError(f"refusing to delete or replace {hit!r}: {self.protected_prefix!r} is read-only")

    def _s3(self) -> Any:
        return self.aws.client("s3")

    def list(self, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        paginator = self._s3().get_paginator("list_objects_v2")
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        for page in paginator.paginate(**kwargs):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], obj["Size"], obj["LastModified"], obj.get("ETag", "").strip('"'))

    def get(self, key: str) -> bytes:
        return _read_whole(self._s3(), self.bucket, key)[0]

    def get_with_etag(self, key: str) -> tuple[bytes, str] | None:
        """The body and ETag of one GET (what a conditional write later matches); None if there is no object."""
        try:
            return _read_whole(self._s3(), self.bucket, key)
        except Exception as exc:
            if is_missing(exc):
                return None
            raise

    def get_suffix(self, key: str, length: int) -> bytes:
        """The last ``length`` bytes of an object (one ranged GET: a Parquet footer without the object)."""
        return self._s3().get_object(Bucket=self.bucket, Key=key, Range=f"bytes=-{length}")["Body"].read()

    def get_many(self, keys: list[str], workers: int = 8, missing_ok: bool = False) -> list[tuple[str, bytes]]:
        """Fetch objects concurrently (S3 latency, not bandwidth, dominates small Firehose objects), in the order
        of ``keys``. ``missing_ok``: a key with no object is left out instead of raising (one GET each, no HEAD)."""
        from concurrent.futures import ThreadPoolExecutor

        client = self._s3()

        def fetch(key: str) -> tuple[str, bytes | None]:
            try:
                return key, _read_whole(client, self.bucket, key)[0]
            except Exception as exc:
                if missing_ok and is_missing(exc):
                    return key, None
                raise

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [(key, body) for key, body in pool.map(fetch, keys) if body is not None]

    def exists(self, key: str) -> bool:
        try:
            self._s3().head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._s3().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> None:
        """One conditional PutObject: only over the object with ``etag`` (``IfMatch``), or, with ``etag`` None,
        only if there is no object (``IfNoneMatch='*'``). S3's refusal (412, or 409 for a concurrent conditional
        write) is raised as botocore's ``ClientError`` for the caller to judge."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        self._s3().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **condition)

    def presigned_url(self, key: str, seconds: int) -> str:
        """An https GET link to one object that works without AWS credentials until it expires."""
        params = {"Bucket": self.bucket, "Key": key}
        return self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def download_prefix(self, prefix: str, local: Path) -> int:
        """Download every object under ``prefix`` into ``local``; a key that would land outside it is refused.

        Keys are data (anyone who can write the bucket chooses them), so each is checked before anything is written.
        """
        s3 = self._s3()
        targets = [(info.key, local_target(local, info.key[len(prefix) :])) for info in self.list(prefix)]
        for key, target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(self.bucket, key, str(target))
        return len(targets)

    def replace_prefix(self, prefix: str, objects: Mapping[str, tuple[bytes, str]], commit_last: str) -> None:
        """Make ``prefix`` hold exactly ``objects`` (name -> (bytes, content type)).

        Everything is staged first; final keys are then written with server-side copies, ``commit_last``
        (the metadata file readers look for) last, and stale objects under the prefix are deleted. A failure
        before the copies leaves the previous version untouched.
        """
        self._refuse_protected([prefix])
        s3 = self._s3()
        staging = f"_staging/{uuid.uuid4().hex}/"
        names = sorted(objects, key=lambda n: n == commit_last)
        try:
            for name in names:
                data, content_type = objects[name]
                s3.put_object(Bucket=self.bucket, Key=staging + name, Body=data, ContentType=content_type)
            for name in names:
                s3.copy_object(
                    Bucket=self.bucket, Key=prefix + name, CopySource={"Bucket": self.bucket, "Key": staging + name}
                )
            stale = [o.key for o in self.list(prefix) if o.key[len(prefix) :] not in objects]
            self.delete_keys(stale)
        finally:
            self.discard_keys([staging + name for name in names])

    def delete_keys(self, keys: list[str]) -> None:
        self._refuse_protected(keys)
        delete_all(self._s3(), self.bucket, ({"Key": k} for k in keys))

    def discard_keys(self, keys: list[str]) -> None:
        """Best-effort delete of leftovers (staging copies, a failed or losing run's files) while another outcome
        is being reported: a failure here leaves garbage for the sweeps, it never replaces the error at hand."""
        with contextlib.suppress(BotoCoreError, ClientError, DeleteFailed):
            self.delete_keys(keys)


MISSING_CODES = ("NoSuchKey", "404", "NotFound")


def error_code(exc: BaseException) -> str:
    """S3's error code of a botocore ``ClientError`` ("" for any other exception)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_missing(exc: BaseException) -> bool:
    """Whether ``exc`` is S3 saying there is no such object."""
    return error_code(exc) in MISSING_CODES


def _read_whole(client: Any, bucket: str, key: str, attempts: int = 3) -> tuple[bytes, str]:
    """GET an object's body and ETag; a body cut short or corrupted on the way (botocore's checksum or streaming
    error: a dropped connection, an object replaced mid-read) is fetched again, a bounded number of times, never
    returned."""
    from botocore.exceptions import FlexibleChecksumError, IncompleteReadError, ResponseStreamingError

    for attempt in range(attempts):
        try:
            response = client.get_object(Bucket=bucket, Key=key)
            return response["Body"].read(), response.get("ETag", "").strip('"')
        except (FlexibleChecksumError, IncompleteReadError, ResponseStreamingError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
