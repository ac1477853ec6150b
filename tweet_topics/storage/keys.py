"""S3 key layout: every hourly dataset lives under ``<prefix>YYYY/MM/DD/HH/``."""

from __future__ import annotations

from datetime import UTC, datetime

PARTITION_FORMAT = "%Y-%m-%d-%H:%M"


def parse_partition_key(key: str) -> datetime:
    """Dagster hourly partition key (``2026-03-01-05:00``) -> aware UTC datetime."""
    return datetime.strptime(key, PARTITION_FORMAT).replace(tzinfo=UTC)


def partition_key(hour: datetime) -> str:
    return hour.astimezone(UTC).strftime(PARTITION_FORMAT)


def hour_prefix(prefix: str, hour: datetime) -> str:
    return f"{prefix}{hour:%Y/%m/%d/%H}/"


def hour_from_key(prefix: str, key: str) -> datetime | None:
    """The UTC hour of an object under ``<prefix>YYYY/MM/DD/HH/``; None for keys outside that layout."""
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("/")
    if len(parts) < 5:
        return None
    try:
        return datetime(int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), tzinfo=UTC)
    except ValueError:
        return None
