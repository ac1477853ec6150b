"""Small helpers shared by tests: seeding the bucket, materializing hour ranges, walking and altering payloads."""

import copy
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from tweet_topics.lib.synthetic import FaultSpec
from tweet_topics.local.seed_data import SeedSummary, seed_hours
from tweet_topics.settings import get_settings

START = datetime(2026, 3, 1, 0, tzinfo=UTC)


def seed(
    resources: dict,
    hours: int = 3,
    tweets_per_hour: int = 150,
    start: datetime = START,
    faults: FaultSpec | None = None,
    seed_value: int = 11,
) -> SeedSummary:
    store, layout = resources["storage"].s3, resources["storage"]
    return seed_hours(
        store.aws.client("s3"),
        store.bucket,
        layout.raw_prefix,
        get_settings().firehose_stream,
        start,
        hours,
        tweets_per_hour=tweets_per_hour,
        objects_per_hour=4,
        seed=seed_value,
        faults=faults,
    )


def range_tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def materialize_range(assets: list, resources: dict, first: str, last: str, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, resources=resources, tags=range_tags(first, last), **kwargs)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key of every object (and the first element of every list) in ``value``."""
    out = []
    if isinstance(value, dict):
        for key, child in value.items():
            out.append((*prefix, key))
            out += paths(child, (*prefix, key))
    elif isinstance(value, list) and value:
        out.append((*prefix, 0))
        out += paths(value[0], (*prefix, 0))
    return out


def replaced(payload: Any, path: tuple, new: Any) -> Any:
    """A deep copy of ``payload`` with the value at ``path`` (one of ``paths``) set to ``new``."""
    out = copy.deepcopy(payload)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out
