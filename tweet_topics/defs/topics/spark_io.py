"""How Spark reads and writes the datasets of the storage layer: executor tasks move the bytes.

The driver lists exactly the committed objects through the storage layer and commits what the tasks wrote
(metadata/manifest last); the tasks read and put the objects (``storage/spark_source.py``'s ``mapInArrow``
functions, boto3 on every node).
With ``TWEET_TOPICS_SPARK_IO=uri`` a cluster that has an S3 connector (EMRFS ``s3://``, ``s3a://``) reads the
same listed objects by URI instead. Spark ML models go through ``TWEET_TOPICS_SPARK_SHARED_DIR``, a path every
node sees; the versioned model store in S3 stays the system of record.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.hourly import CommitToken, HourlyDataset, parquet_bytes
from tweet_topics.storage.keys import partition_key
from tweet_topics.storage.spark_source import (
    MESSAGE_SCHEMA,
    connection_options,
    pack_objects,
    read_groups,
    write_partition,
)
from tweet_topics.storage.versions import VersionedStore

PARTITION = "partition"
READ_PARTITION_BYTES = 64 * 1024 * 1024  # committed bytes per input partition beyond one per task slot


def _options(storage: Storage) -> dict[str, str]:
    aws = storage.s3.aws
    return connection_options(aws.env, aws.region, aws.endpoint(), storage.bucket)


def object_schema(storage: Storage, key: str, columns: list[str] | None) -> Any:
    """The Spark schema of a Parquet object from its footer alone (two ranged GETs, not the object)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_schema

    length = int.from_bytes(storage.s3.get_suffix(key, 8)[:4], "little")
    footer = storage.s3.get_suffix(key, length + 8)
    schema = pq.read_schema(io.BytesIO(b"PAR1" + footer))
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    return from_arrow_schema(schema)


# (key, partition value or None, sha256 or "") or the same plus the committed size in bytes.
ObjectRef = tuple[str, str | None, str] | tuple[str, str | None, str, int]


def read_objects(spark: Any, storage: Storage, objects: list[ObjectRef], columns: list[str] | None = None) -> Any:
    """These Parquet objects as one DataFrame, read by executor tasks; a ``partition`` column is added when
    values are given.

    What the tasks verify: by default (``TWEET_TOPICS_SPARK_IO=datasource``: the tasks of
    ``storage/spark_source.py``, a few objects per task, balanced by size), each object's sha256 against its commit;
    with ``TWEET_TOPICS_SPARK_IO=uri`` (the cluster's S3 connector reads, so no digest is computed), each object's
    size against its commit when the caller passes it (``verify_sizes``): a replaced object of another size
    fails the read, one of the same size is read as it is now.
    """
    from functools import partial

    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StringType, StructField, StructType

    if not objects:
        raise ValueError("no objects to read")
    schema = object_schema(storage, objects[0][0], columns)
    with_partition = objects[0][1] is not None
    if storage.spark_io == "uri":
        uris = [f"{storage.spark_uri_scheme}://{storage.bucket}/{ref[0]}" for ref in objects]
        frame = spark.read.schema(schema).parquet(*uris)
        key = F.regexp_extract(F.col("_metadata.file_path"), rf"^[a-z0-9]+://{re.escape(storage.bucket)}/(.*)$", 1)
        if with_partition:
            by_key = F.create_map(*[F.lit(x) for ref in objects for x in (ref[0], ref[1])])
            frame = frame.withColumn(PARTITION, F.element_at(by_key, key))
        return verify_sizes(frame, key, {ref[0]: ref[3] for ref in objects if len(ref) > 3})
    if with_partition:
        schema = StructType([*schema.fields, StructField(PARTITION, StringType())])
    sized = [[*ref[:3], ref[3] if len(ref) > 3 else 0] for ref in objects]
    groups = pack_objects(sized, read_partitions(spark, sum(ref[3] for ref in sized), len(sized)))
    listing = spark.createDataFrame([(json.dumps(group),) for group in groups], "objects string")
    column = PARTITION if with_partition else None
    reader = partial(read_groups, options=_options(storage), schema=to_arrow_schema(schema), partition_column=column)
    return listing.mapInArrow(reader, schema)


def read_partitions(spark: Any, total_bytes: int, objects: int) -> int:
    """Input partitions for ``objects`` of ``total_bytes``: one per task slot, more only for ~64 MiB each.

    Why not one per object: a Spark task costs far more than reading a small object (24 hourly objects of
    50 kB were 24 tasks and most of ``topic_corpus``); on a cluster the slots are its cores, so it stays parallel.
    """
    by_size = -(-total_bytes // READ_PARTITION_BYTES)
    return max(1, min(objects, max(spark.sparkContext.defaultParallelism, by_size)))


def verify_sizes(frame: Any, key: Any, sizes: dict[str, int]) -> Any:
    """``frame`` with a filter that fails the task reading a file whose size is not ``sizes[key]``.

    Why a filter: it runs in the tasks on the file metadata Spark already has (no extra request or pass), and
    unlike a dropped column it cannot be pruned away. Files without rows are not checked (no row to filter).
    """
    from pyspark.sql import functions as F

    if not sizes:
        return frame
    expected = F.element_at(F.create_map(*[F.lit(x) for k, size in sizes.items() for x in (k, size)]), key)
    actual = F.col("_metadata.file_size")
    message = F.concat(F.lit("object "), key, F.lit(" is not the size its commit recorded: "), actual.cast("string"))
    return frame.where(F.when(expected.isNull() | (expected == actual), F.lit(True)).otherwise(F.raise_error(message)))


def read_hours(
    spark: Any, dataset: HourlyDataset, storage: Storage, hours: list[datetime], file: str, columns: list[str]
) -> Any:
    """The committed ``file`` of each of ``hours`` with a ``partition`` column (the hour's partition key)."""
    committed = dataset.committed_files(hours, file)
    objects: list[ObjectRef] = [(e["key"], partition_key(h), e["sha256"], int(e["bytes"])) for h, e in committed]
    return read_objects(spark, storage, objects, columns)


def _write(frame: Any, storage: Storage, fresh: list[str], **options: str) -> list[dict[str, Any]]:
    """Executor tasks put objects under the ``fresh`` prefixes; returns one message per object written.

    The messages (key, sha256, bytes, rows, counts: one per object, never per row) come back to the driver,
    which commits them. A failed write deletes what its tasks put under the fresh prefixes: nothing committed
    lives there.
    """
    from functools import partial

    task = partial(write_partition, options={**_options(storage), **options})
    try:
        rows = frame.mapInArrow(task, MESSAGE_SCHEMA).collect()
    except Exception:
        storage.s3.discard_keys([o.key for prefix in fresh for o in storage.s3.list(prefix)])
        raise
    return [json.loads(row[0]) for row in rows]


def write_version_files(
    frame: Any, storage: Storage, store: VersionedStore, version: str, sub: str
) -> list[dict[str, Any]]:
    """One Parquet object per task under a fresh ``<version>/<sub>/<run>/`` (task keys repeat between runs).

    Nothing is deleted or overwritten here: a re-run of the same version that dies before its commit leaves the
    committed manifest's files whole. The files become the version when ``store.commit`` writes the manifest
    naming them, and only then does it delete the files of the manifest it replaced.
    """
    prefix = store.key(version, f"{sub}/{uuid.uuid4().hex}/")
    return _write(frame, storage, [prefix], layout="files", prefix=prefix)


def write_hours(
    frame: Any,
    storage: Storage,
    dataset: HourlyDataset,
    tokens: dict[datetime, CommitToken],
    file: str,
    metadata: dict[str, Any],
    count_where: dict[str, tuple[str, Any]],
    rows_name: str = "rows",
    sort_by: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Write ``frame`` (with a ``partition`` column) as one object per hour of ``tokens``, each hour by exactly
    one task, under a fresh run prefix; then the driver commits each hour (conditional on its token).

    Hours with no rows get an empty file (put by the driver: it has no task). Returns per partition key the
    committed metadata: ``metadata`` plus the row count (``rows_name``) and ``count_where`` counts.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    run = dataset.new_run()
    hours = sorted(tokens)
    prefixes = {partition_key(h): dataset.run_prefix(h, run) for h in hours}
    tasks = max(1, min(len(hours), frame.sparkSession.sparkContext.defaultParallelism * 4))
    written = _write(
        frame.repartition(tasks, PARTITION).sortWithinPartitions(PARTITION, *(sort_by or [])),
        storage,
        list(prefixes.values()),
        layout="hourly",
        file=file,
        partition_column=PARTITION,
        prefixes=json.dumps(prefixes),
        count_where=json.dumps(count_where),
    )
    by_key = {o["partition"]: o for o in written}
    if len(by_key) != len(written):
        raise RuntimeError(f"an hour was written by more than one task: {sorted(o['partition'] for o in written)}")
    empty = parquet_bytes(to_arrow_schema(frame.drop(PARTITION).schema).empty_table())
    committed = {}
    for hour in hours:
        key = partition_key(hour)
        entry = by_key.get(key)
        if entry is None:
            storage.s3.put(prefixes[key] + file, empty, "application/vnd.apache.parquet")
            entry = {"key": prefixes[key] + file, "sha256": hashlib.sha256(empty).hexdigest(), "bytes": len(empty)}
            entry.update(rows=0, counts=dict.fromkeys(count_where, 0))
        stats = {**metadata, PARTITION: key, rows_name: entry["rows"], **entry["counts"]}
        dataset.commit_written(hour, {file: entry}, stats, tokens[hour])
        committed[key] = stats
    return committed


def shared_dir(storage: Storage, *parts: str) -> str:
    """A fresh directory every Spark node can read and write (``TWEET_TOPICS_SPARK_SHARED_DIR``)."""
    base = storage.spark_shared_dir
    if base is None:
        return str(storage.local_path("spark-shared", *parts))
    return "/".join([base.rstrip("/"), *parts])


def _hadoop_path(spark: Any, target: str) -> tuple[Any, Any]:
    """(FileSystem, Path) of ``target`` through the JVM's Hadoop client: the same resolution Spark ML's save and
    load use (a bare path is the cluster's default file system: HDFS on YARN), so hdfs://, EMRFS s3:// and
    file:// all work wherever Spark itself can write them."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(target)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def _marker(spark: Any, target: str) -> tuple[Any, Any]:
    """The file that says ``target`` holds a complete model (a crashed copy leaves no marker)."""
    fs, _ = _hadoop_path(spark, target)
    return fs, spark.sparkContext._jvm.org.apache.hadoop.fs.Path(target.rstrip("/") + ".complete")


def save_pipeline_model(model: Any, storage: Storage, version: str) -> Path:
    """Save through the shared dir (executors write their parts) and return a driver-local directory holding
    ``pipeline/`` to upload to the model store (copied back through Hadoop when the shared dir is a URI)."""
    import shutil

    from pyspark.sql import SparkSession

    target = shared_dir(storage, "models", version, "pipeline")
    model.write().overwrite().save(target)
    spark = SparkSession.getActiveSession()
    if storage.spark_shared_dir is None or spark is None:
        return Path(target).parent
    fs, marker = _marker(spark, target)
    fs.create(marker, True).close()
    local = storage.local_path("spark-upload", version)
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    jvm = spark.sparkContext._jvm
    fs.copyToLocalFile(False, _hadoop_path(spark, target)[1], jvm.org.apache.hadoop.fs.Path(str(local)), True)
    return local


def save_fitted(fitted: Any, storage: Storage, version: str) -> Path:
    """A driver-local directory holding ``pipeline/`` to upload: written by the driver from the state it holds
    when it can (``FittedTopics.write_local``: no Spark job), else saved by Spark (``save_pipeline_model``)."""
    import shutil

    local = storage.local_path("spark-upload", version)
    shutil.rmtree(local, ignore_errors=True)
    if fitted.write_local(local / "pipeline"):
        return local
    return save_pipeline_model(fitted.model, storage, version)


def load_pipeline_model(storage: Storage, version: str) -> Any:
    """A fitted PipelineModel from the model store, loaded from where every Spark node reads it.

    Without ``TWEET_TOPICS_SPARK_SHARED_DIR`` the model is copied once per version to the driver's disk (fine for
    ``local[*]`` and one-host clusters); with it, the model is loaded from ``<shared dir>/models/<version>`` (put
    there by ``topic_model`` on this cluster, or copied there once from the model store).
    """
    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if storage.spark_shared_dir is None or spark is None:
        return PipelineModel.load(str(storage.models.local_copy(version, "pipeline")))
    target = shared_dir(storage, "models", version, "pipeline")
    fs, marker = _marker(spark, target)
    if not fs.exists(marker):
        local = storage.models.local_copy(version, "pipeline")
        fs, path = _hadoop_path(spark, target)
        fs.delete(path, True)
        fs.copyFromLocalFile(False, True, spark.sparkContext._jvm.org.apache.hadoop.fs.Path(str(local)), path)
        fs.create(marker, True).close()
    return PipelineModel.load(target)
