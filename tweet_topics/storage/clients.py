"""One place that makes boto3 clients: the same code path for moto (endpoint set) and real AWS (unset).

Plain Python (no Dagster) so the streamer, the local stack, benchmarks and the resources share it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tweet_topics.settings import Settings

# moto accepts any credentials; real AWS never sees these because prod uses the default chain.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=5, read_timeout=30)


class LocalStackNotRunning(RuntimeError):
    """The local (moto) stack has no endpoint: it is not up."""


def endpoint_for(env: str, endpoint_url: str | None, stack_file: Path) -> str | None:
    """The endpoint for boto3: the explicit one, else the running local stack's, else None (real AWS)."""
    if endpoint_url:
        return endpoint_url
    if env == "prod":
        return None
    if stack_file.exists():
        return json.loads(stack_file.read_text())["endpoint"]
    raise LocalStackNotRunning(
        "TWEET_TOPICS_ENV=local but the local AWS stack is not running: "
        "start it with `python -m tweet_topics local up` (or `make dev` / `make demo`)."
    )


def resolve_endpoint(settings: Settings) -> str | None:
    return endpoint_for(settings.env, settings.aws_endpoint_url, settings.stack_file)


def make_client(settings: Settings, service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client for ``service`` from settings, pointed at moto locally."""
    return client(settings.env, settings.region, endpoint_url or resolve_endpoint(settings), service)


@lru_cache(maxsize=64)
def client(env: str, region: str, endpoint: str | None, service: str) -> Any:
    """A cached client per (env, region, endpoint, service): building one costs ~150 ms; clients are thread-safe."""
    session = (
        boto3.session.Session(region_name=region, **_LOCAL_CREDENTIALS)
        if env == "local"
        else boto3.session.Session(region_name=region)
    )
    return session.client(service, endpoint_url=endpoint, config=_RETRIES)


def ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create ``bucket`` if missing (us-east-1 takes no LocationConstraint); True when it was created."""
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except s3.exceptions.ClientError:
        pass
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    return True


# Characters XML 1.0 cannot carry even escaped (botocore escapes \r, so \t, \n and \r are fine): a DeleteObjects body
# holding one is refused (S3: MalformedXML; moto: 500 on every retry). Such keys, legal in S3, go one request each.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Per-key errors of a successful DeleteObjects that are worth another try, as S3's own guidance says.
_RETRY_PER_KEY = {"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"}


class DeleteFailed(RuntimeError):
    """Objects S3 would not delete; ``errors`` holds S3's per-key entries (Key, Code, Message)."""

    def __init__(self, bucket: str, errors: list[dict[str, Any]]) -> None:
        codes = sorted({e.get("Code", "?") for e in errors})
        super().__init__(f"{len(errors)} objects could not be deleted from {bucket} ({', '.join(codes)})")
        self.errors = errors


def all_versions(s3: Any, bucket: str, prefix: str = "") -> list[dict[str, str]]:
    """Every object version and delete marker under ``prefix``, as ``delete_all`` takes them."""
    return [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
    ]


def delete_all(s3: Any, bucket: str, objects: Iterable[dict[str, str]]) -> int:
    """Delete ``objects`` ({"Key"[, "VersionId"]}) in DeleteObjects batches of 1000 and return how many.

    A key XML cannot carry, a batch refused as MalformedXML and a key S3 answered with a transient per-key error
    are deleted by DeleteObject, one request each (with botocore's retries); anything else S3 refuses raises
    ``DeleteFailed`` (a deletion asked for is never skipped silently). Other request errors propagate as they are.
    """
    items = list(objects)
    singles: list[dict[str, str]] = []
    batchable: list[dict[str, str]] = []
    for item in items:
        (singles if _NOT_IN_XML.search(item["Key"]) else batchable).append(item)
    refused: list[dict[str, Any]] = []
    for start in range(0, len(batchable), 1000):
        chunk = batchable[start : start + 1000]
        try:
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "MalformedXML":
                raise
            singles += chunk
            continue
        for error in result.get("Errors", []):
            if error.get("Code") in _RETRY_PER_KEY:
                singles.append({k: error[k] for k in ("Key", "VersionId") if error.get(k)})
            else:
                refused.append(error)
    for single in singles:
        try:
            s3.delete_object(Bucket=bucket, **single)
        except ClientError as exc:
            refused.append({**single, "Code": exc.response.get("Error", {}).get("Code", "?")})
    if refused:
        raise DeleteFailed(bucket, refused)
    return len(items)
