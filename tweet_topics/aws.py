"""One place that makes boto3 clients: the same code path for moto (endpoint set) and real AWS (unset).

Plain Python (no Dagster) so the streamer, the local stack and the resources share it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from tweet_topics.settings import Settings

# moto accepts any credentials; real AWS never sees these because prod uses the default chain.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=5, read_timeout=30)


class LocalStackNotRunning(RuntimeError):
    """The local (moto) stack has no endpoint: it is not up."""


def resolve_endpoint(settings: Settings) -> str | None:
    """The endpoint for boto3: the setting, else the running local stack's, else None (real AWS)."""
    if settings.aws_endpoint_url:
        return settings.aws_endpoint_url
    if settings.env == "prod":
        return None
    if settings.stack_file.exists():
        return json.loads(settings.stack_file.read_text())["endpoint"]
    raise LocalStackNotRunning(
        "TWEET_TOPICS_ENV=local but the local AWS stack is not running: "
        "start it with `python -m tweet_topics local up` (or `make dev` / `make demo`)."
    )


def make_session(settings: Settings) -> boto3.session.Session:
    if settings.env == "local":
        return boto3.session.Session(region_name=settings.region, **_LOCAL_CREDENTIALS)
    return boto3.session.Session(region_name=settings.region)


def make_client(settings: Settings, service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client for ``service`` with adaptive retries, pointed at moto locally.

    Clients are cached per (env, region, endpoint, service): building one costs ~150 ms, and boto3 clients
    are thread-safe.
    """
    endpoint = endpoint_url or resolve_endpoint(settings)
    return _cached_client(settings.env, settings.region, endpoint, service)


@lru_cache(maxsize=64)
def _cached_client(env: str, region: str, endpoint: str | None, service: str) -> Any:
    session = (
        boto3.session.Session(region_name=region, **_LOCAL_CREDENTIALS)
        if env == "local"
        else boto3.session.Session(region_name=region)
    )
    return session.client(service, endpoint_url=endpoint, config=_RETRIES)
