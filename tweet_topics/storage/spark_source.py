"""What Spark's executor tasks run to read and write S3 objects with boto3 (``mapInArrow`` functions).

Why: these machines (and any cluster without hadoop-aws jars) have no S3 connector, and staging files on the
driver's disk neither scales nor works on a multi-host cluster. The driver decides *which* objects (the storage
layer lists exactly the committed files; never a bare prefix); the tasks move the bytes.

Why ``mapInArrow`` and not a PySpark Python data source (what this was until issue 27): a data source plans,
writes and commits through extra Python processes on the driver, one per kind (a cold read ~5 s and a cold
write ~3 s more than the same work here, most of a 5k-document ``topic_corpus``); these functions run in the
ordinary Python workers the rest of the run uses anyway.

Reading (``read_groups``): objects are packed into groups balanced by their committed size (a Spark task costs
far more than reading a small object: 24 hourly objects were 24 tasks); each task reads its groups, checks each
object's sha256 against its commit and decodes the Parquet with pyarrow; an optional column carries each
object's partition value (the hour). Writing (``write_partition``): each task puts Parquet objects, either one
per task under ``prefix`` (``layout=files``) or one per hour under that hour's run prefix (``layout=hourly``;
the driver then commits each hour through ``HourlyDataset.commit_written``), and returns one message per object
(key, sha256, bytes, rows, counts); nothing is visible to readers until the driver commits. Every object carries
who wrote it (stage/partition/attempt, pid, host, the JVM above the Python worker) as S3 user metadata, so tests
can tell executor writes from driver writes. Nothing here imports Dagster: the workers stay light.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

MESSAGE_SCHEMA = "message string"


def connection_options(env: str, region: str, endpoint: str | None, bucket: str) -> dict[str, str]:
    """What an executor needs to reach the bucket: no secrets (prod uses the workers' default credential chain)."""
    return {"env": env, "region": region, "endpoint": endpoint or "", "bucket": bucket}


def _client(options: dict[str, str]) -> Any:
    from tweet_topics.storage.clients import client

    return client(options["env"], options["region"], options.get("endpoint") or None, "s3")


def writer_identity() -> dict[str, str]:
    """Who is writing: the Spark task and the processes above it (a Python worker's parent chain ends in a JVM)."""
    from pyspark import TaskContext

    context = TaskContext.get()
    task = f"{context.stageId()}.{context.partitionId()}.{context.attemptNumber()}" if context else "driver"
    return {
        "writer-task": task,
        "writer-pid": str(os.getpid()),
        "writer-jvm-pid": str(_java_ancestor() or 0),
        "writer-host": socket.gethostname(),
    }


def _java_ancestor() -> int | None:
    """The nearest ancestor process that is a JVM (the executor, or the driver on local[*]); None off Linux."""
    pid = os.getppid()
    for _ in range(8):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().split(b"\0")[0]
            with open(f"/proc/{pid}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return None
        if command.endswith(b"java"):
            return pid
        pid = parent
    return None


def pack_objects(objects: list[list[Any]], partitions: int) -> list[list[list[Any]]]:
    """``[key, value, sha256, bytes]`` objects in at most ``partitions`` groups of about equal bytes (largest
    first into the lightest group; ties by position, so every run packs alike); no group is empty."""
    groups: list[list[list[Any]]] = [[] for _ in range(max(1, min(partitions, len(objects))))]
    loads = [0] * len(groups)
    for obj in sorted(objects, key=lambda o: -int(o[3])):
        lightest = loads.index(min(loads))
        groups[lightest].append(obj)
        loads[lightest] += max(int(obj[3]), 1)
    return [g for g in groups if g]


FETCH_AHEAD = 4  # objects a read task downloads concurrently (GETs are latency-bound; memory: 4 bodies)


def read_groups(batches: Iterator[Any], options: dict[str, str], schema: Any, partition_column: str | None) -> Any:
    """``mapInArrow``: rows of ``objects`` (JSON lists of ``[key, value, sha256, bytes]``) -> the objects' rows
    as ``schema`` (a pyarrow schema); a changed object (sha256 not its commit's) fails the task.

    The next ``FETCH_AHEAD`` objects download while one is decoded (a task reads several small objects)."""
    from concurrent.futures import ThreadPoolExecutor

    objects = (obj for batch in batches for group in batch.column("objects").to_pylist() for obj in json.loads(group))
    with ThreadPoolExecutor(FETCH_AHEAD) as pool:
        pending: list[tuple[Any, Any]] = []
        for obj in objects:
            pending.append((obj, pool.submit(_fetch, options, obj[0], obj[2])))
            if len(pending) > FETCH_AHEAD:
                yield from _decode(pending.pop(0), schema, partition_column)
        while pending:
            yield from _decode(pending.pop(0), schema, partition_column)


def _fetch(options: dict[str, str], key: str, sha256: str) -> bytes:
    body = _client(options).get_object(Bucket=options["bucket"], Key=key)["Body"].read()
    if sha256 and hashlib.sha256(body).hexdigest() != sha256:
        raise ValueError(f"s3://{options['bucket']}/{key} does not match its commit's sha256")
    return body


def _decode(entry: tuple[Any, Any], target: Any, partition_column: str | None) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (_, value, _, _), body = entry[0], entry[1].result()
    columns = [f.name for f in target if f.name != partition_column]
    table = pq.read_table(io.BytesIO(body), columns=columns)
    if partition_column:
        table = table.append_column(partition_column, pa.array([value] * table.num_rows, pa.string()))
    yield from table.select(target.names).cast(target).to_batches(max_chunksize=10_000)


def write_partition(batches: Iterator[Any], options: dict[str, str]) -> Iterator[Any]:
    """``mapInArrow``: put this task's rows as Parquet objects; yields one ``MESSAGE_SCHEMA`` row per object."""
    import pyarrow as pa

    tables = list(batches)
    if not tables or not sum(b.num_rows for b in tables):
        return
    table = pa.Table.from_batches(tables)
    identity = writer_identity()
    task = identity["writer-task"].replace(".", "-")
    count_where: dict[str, list[Any]] = json.loads(options.get("count_where") or "{}")
    if options.get("layout", "files") == "hourly":
        groups = _by_partition(table, options.get("partition_column") or "partition")
        prefixes = json.loads(options["prefixes"])  # partition value -> the hour's run prefix
        keys = {value: prefixes[value] + options["file"] for value in groups}
    else:
        groups = {None: table}
        keys = {None: f"{options['prefix']}part-{task}.parquet"}
    messages = [json.dumps(_put(options, keys[v], v, part, identity, count_where)) for v, part in groups.items()]
    yield pa.RecordBatch.from_pydict({"message": messages})


def _by_partition(table: Any, column: str) -> dict[str, Any]:
    import pyarrow.compute as pc

    values = sorted(v for v in pc.unique(table[column]).to_pylist() if v is not None)
    return {v: table.filter(pc.equal(table[column], v)).drop_columns([column]) for v in values}


def _put(
    options: dict[str, str],
    key: str,
    value: str | None,
    table: Any,
    identity: dict[str, str],
    count_where: dict[str, list[Any]],
) -> dict[str, Any]:
    import pyarrow.compute as pc

    counts = {
        name: int(pc.sum(pc.equal(table[column], target)).as_py() or 0)
        for name, (column, target) in count_where.items()
    }
    body = parquet_bytes(table)
    _client(options).put_object(
        Bucket=options["bucket"], Key=key, Body=body, ContentType="application/vnd.apache.parquet", Metadata=identity
    )
    return {
        "key": key,
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
        "partition": value,
        "rows": table.num_rows,
        "counts": counts,
        "writer": identity,
    }


def parquet_bytes(table: Any) -> bytes:
    """``storage.hourly.parquet_bytes`` (zstd), without its module's imports: that one pulls in Dagster, which
    cost every Python worker's first write ~1 s (4 s under load)."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
