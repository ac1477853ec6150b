"""One place that makes boto3 clients: the same code path for moto (endpoint set) and real AWS (unset).

Plain Python (no Dagster) so the streamer, the local stack, benchmarks and the resources share it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

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
