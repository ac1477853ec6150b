"""A PySpark 4 Python data source over the bucket: executor tasks read and write S3 objects with boto3.

Why: these machines (and any cluster without hadoop-aws jars) have no S3 connector, and staging files on the
driver's disk neither scales nor works on a multi-host cluster. The driver decides *which* objects (the storage
layer lists exactly the committed files; never a bare prefix); the tasks move the bytes.

Reading (``format("tweet_topics_s3")``): one input partition per object, Parquet decoded with pyarrow in the
task; an optional column carries each object's partition value (the hour). Writing: each task puts Parquet
objects, either one per task under ``prefix`` (``layout=files``) or one per hour under that hour's run prefix
(``layout=hourly``; the driver then commits each hour through ``HourlyDataset.commit_written``). Every
object carries who wrote it (stage/partition/attempt, pid, host, the JVM above the Python worker) as S3 user
metadata, so tests can tell executor writes from driver writes. The writer's ``commit`` (run on the driver) puts
one JSON record of all task messages at ``commit_key``; nothing is visible to readers until the driver commits.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

NAME = "tweet_topics_s3"


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


@dataclass
class ObjectPartition(InputPartition):
    key: str
    value: str | None  # the partition column's value for this object's rows
    sha256: str  # from the commit that names the object ("" when the commit records none)


class ObjectReader(DataSourceReader):
    def __init__(self, options: dict[str, str], schema: StructType) -> None:
        self.options = options
        self.schema = schema
        self.objects = json.loads(options["objects"])
        self.partition_column = options.get("partition_column") or None

    def partitions(self) -> list[ObjectPartition]:
        return [ObjectPartition(key, value, sha) for key, value, sha in self.objects]

    def read(self, partition: ObjectPartition) -> Iterator[Any]:  # type: ignore[override]
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql.pandas.types import to_arrow_schema

        body = _client(self.options).get_object(Bucket=self.options["bucket"], Key=partition.key)["Body"].read()
        if partition.sha256 and hashlib.sha256(body).hexdigest() != partition.sha256:
            raise ValueError(f"s3://{self.options['bucket']}/{partition.key} does not match its commit's sha256")
        target = to_arrow_schema(self.schema)
        columns = [f.name for f in target if f.name != self.partition_column]
        table = pq.read_table(io.BytesIO(body), columns=columns)
        if self.partition_column:
            table = table.append_column(
                self.partition_column, pa.array([partition.value] * table.num_rows, pa.string())
            )
        yield from table.select(target.names).cast(target).to_batches(max_chunksize=10_000)


@dataclass
class Written(WriterCommitMessage):
    objects: list[dict[str, Any]] = field(default_factory=list)  # {"key", "partition", "rows", "counts", "writer"}


class ObjectWriter(DataSourceArrowWriter):
    def __init__(self, options: dict[str, str], schema: StructType) -> None:
        self.options = options
        self.schema = schema
        self.layout = options.get("layout", "files")
        self.partition_column = options.get("partition_column") or None
        self.count_where: dict[str, list[Any]] = json.loads(options.get("count_where") or "{}")

    def write(self, iterator: Iterator[Any]) -> Written:  # type: ignore[override]
        import pyarrow as pa

        batches = list(iterator)
        if not batches:
            return Written()
        table = pa.Table.from_batches(batches)
        identity = writer_identity()
        task = identity["writer-task"].replace(".", "-")
        if self.layout == "hourly":
            groups = self._by_partition(table)
            prefixes = json.loads(self.options["prefixes"])  # partition value -> the hour's run prefix
            keys = {value: prefixes[value] + self.options["file"] for value in groups}
        else:
            groups = {None: table}
            keys = {None: f"{self.options['prefix']}part-{task}.parquet"}
        written = [self._put(keys[value], value, part, identity) for value, part in groups.items()]
        return Written(written)

    def _by_partition(self, table: Any) -> dict[str, Any]:
        import pyarrow.compute as pc

        column = self.partition_column or "partition"
        values = sorted(v for v in pc.unique(table[column]).to_pylist() if v is not None)
        return {v: table.filter(pc.equal(table[column], v)).drop_columns([column]) for v in values}

    def _put(self, key: str, value: str | None, table: Any, identity: dict[str, str]) -> dict[str, Any]:
        import pyarrow.compute as pc

        from tweet_topics.storage.hourly import parquet_bytes

        counts = {
            name: int(pc.sum(pc.equal(table[column], target)).as_py() or 0)
            for name, (column, target) in self.count_where.items()
        }
        body = parquet_bytes(table)
        _client(self.options).put_object(
            Bucket=self.options["bucket"],
            Key=key,
            Body=body,
            ContentType="application/vnd.apache.parquet",
            Metadata=identity,
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

    def commit(self, messages: list[Written | None]) -> None:  # type: ignore[override]
        objects = [o for m in messages if m is not None for o in m.objects]
        record = {"objects": objects, "committer": writer_identity()}
        _client(self.options).put_object(
            Bucket=self.options["bucket"], Key=self.options["commit_key"], Body=json.dumps(record).encode()
        )

    def abort(self, messages: list[Written | None]) -> None:  # type: ignore[override]
        keys = [o["key"] for m in messages if m is not None for o in m.objects]
        s3 = _client(self.options)
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            s3.delete_objects(Bucket=self.options["bucket"], Delete={"Objects": chunk})


class S3Objects(DataSource):
    """``spark.read/write.format("tweet_topics_s3")``; the schema is always given by the caller."""

    @classmethod
    def name(cls) -> str:
        return NAME

    def reader(self, schema: StructType) -> ObjectReader:
        return ObjectReader(dict(self.options), schema)

    def writer(self, schema: StructType, overwrite: bool) -> ObjectWriter:
        return ObjectWriter(dict(self.options), schema)
