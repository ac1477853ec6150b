"""How Spark reads and writes the datasets of the storage layer.

Today the driver stages hourly files on its local disk for Spark (no S3 connector jars on these machines).
This is the one module to change for executor-side I/O on a cluster.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tweet_topics.storage.catalog import FILTERED_PARQUET, Storage
from tweet_topics.storage.keys import partition_key


def read_filtered(spark: Any, storage: Storage, hours: list[datetime], columns: list[str], tag: str) -> Any:
    """The filtered tweets of ``hours`` (plus a ``partition`` column) as a Spark DataFrame."""
    tables = []
    for hour in hours:
        table = storage.filtered.read_parquet(hour, FILTERED_PARQUET, columns=columns)
        tables.append(table.append_column("partition", pa.array([partition_key(hour)] * table.num_rows, pa.string())))
    if not tables:
        raise ValueError("no hours to read")
    directory = stage_dir(storage, tag)
    pq.write_table(pa.concat_tables(tables), directory / "part-0.parquet")
    return spark.read.parquet(str(directory))


def stage_dir(storage: Storage, *parts: str) -> Path:
    """An empty local directory for Spark to write into before the driver uploads it."""
    directory = storage.local_path("stage", *parts)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def load_pipeline_model(storage: Storage, version: str) -> Any:
    """A fitted PipelineModel from the model store (downloaded once per version)."""
    from pyspark.ml import PipelineModel

    return PipelineModel.load(str(storage.models.local_copy(version, "pipeline")))
