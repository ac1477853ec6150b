"""Moving topic datasets between S3 (boto3) and the local disk Spark reads and writes.

Spark only sees local staged files here (no s3a jars). On a cluster, point Spark at s3a:// instead; the
layout stays the same (see deploy/README.md).
"""

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tweet_topics.defs.hourly.hours import METADATA_FILE, read_filtered
from tweet_topics.defs.infra.layout import Layout
from tweet_topics.defs.infra.resources import S3Store
from tweet_topics.lib.layout import hour_from_key

MANIFEST = "model.json"
LATEST = "latest.json"


class ModelNotFound(LookupError):
    """A model version that is not in the bucket."""


def stage_dir(layout: Layout, *parts: str) -> Path:
    path = Path(layout.local_dir).resolve().joinpath("stage", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def filtered_hours(store: S3Store, layout: Layout) -> list[datetime]:
    """Hours whose filtered_tweets output is committed (metadata.json present), oldest first."""
    hours = {
        hour
        for info in store.list(layout.filtered_prefix)
        if info.key.endswith("/" + METADATA_FILE)
        and (hour := hour_from_key(layout.filtered_prefix, info.key)) is not None
    }
    return sorted(hours)


def read_filtered_hours(store: S3Store, layout: Layout, hours: list[datetime], columns: list[str]) -> pa.Table:
    tables = [read_filtered(store, layout, h).select(columns) for h in hours]
    return pa.concat_tables(tables) if tables else pa.table({c: pa.array([], pa.string()) for c in columns})


def write_local_parquet(table: pa.Table, directory: Path, name: str = "part-0.parquet") -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    pq.write_table(table, directory / name)
    return directory


def upload_tree(store: S3Store, local: Path, prefix: str, extra: dict[str, bytes], commit_last: str) -> None:
    """Replace ``prefix`` with the files under ``local`` plus ``extra`` objects; ``commit_last`` goes last."""
    objects = {
        p.relative_to(local).as_posix(): (p.read_bytes(), "application/octet-stream")
        for p in sorted(local.rglob("*"))
        if p.is_file() and not p.name.endswith(".crc")
    }
    objects.update({name: (data, "application/json") for name, data in extra.items()})
    store.replace_prefix(prefix, objects, commit_last=commit_last)


def read_json(store: S3Store, key: str) -> dict[str, Any]:
    return json.loads(store.get(key))


def model_versions(store: S3Store, layout: Layout) -> list[str]:
    return sorted(
        info.key[len(layout.models_prefix) :].split("/")[0]
        for info in store.list(layout.models_prefix)
        if info.key.endswith("/" + MANIFEST)
    )


def resolve_model_version(store: S3Store, layout: Layout, pinned: str | None) -> str:
    if pinned:
        if not store.exists(f"{layout.models_prefix}{pinned}/{MANIFEST}"):
            raise ModelNotFound(
                f"model version {pinned!r} not found under s3://{store.bucket}/{layout.models_prefix}; "
                f"available: {model_versions(store, layout) or 'none'}"
            )
        return pinned
    if not store.exists(layout.models_prefix + LATEST):
        raise ModelNotFound(
            f"no topic model yet under s3://{store.bucket}/{layout.models_prefix}: materialize topic_model first"
        )
    return read_json(store, layout.models_prefix + LATEST)["version"]


def load_pipeline_model(store: S3Store, layout: Layout, version: str) -> tuple[Any, dict[str, Any]]:
    """Download (once per version) and load a fitted PipelineModel and its manifest."""
    from pyspark.ml import PipelineModel

    manifest = read_json(store, f"{layout.models_prefix}{version}/{MANIFEST}")
    local = Path(layout.local_dir).resolve() / "cache" / "models" / version
    marker = local / ".complete"
    if not marker.exists():
        shutil.rmtree(local, ignore_errors=True)
        store.download_prefix(f"{layout.models_prefix}{version}/pipeline/", local / "pipeline")
        marker.touch()
    return PipelineModel.load(str(local / "pipeline")), manifest


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
