"""``spark.readStream.format("tweet_topics_live_raw")``: new raw Firehose objects as a PySpark 4 streaming source.

The driver side lists the raw prefix through the storage layer (``S3Store.list`` after the offset's floor) and
plans one input partition per new object; executor tasks read each object with boto3, exactly like the batch
source (``storage/spark_source.py``), and parse it with the combine's gate and the batch filter
(``live/parse.py``), writing the object's quarantined lines under the live prefix. Works on pyspark 4.0+
(``latestOffset`` accepts both the 4.0 and the 4.2 signature).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.types import StructType

from tweet_topics.live.offsets import RawOffset, advance, initial_offset, new_objects
from tweet_topics.live.parse import SPARK_SCHEMA, parse_object

NAME = "tweet_topics_live_raw"


def source_options(
    storage: Any,
    *,
    lookback_s: float,
    start_back_s: float,
    max_objects: int,
    filter_config: Any,
    partitions: int = 4,
) -> dict:
    """Everything the source needs, as Spark string options (no secrets: prod uses the default credential chain)."""
    aws = storage.s3.aws
    return {
        "env": aws.env,
        "region": aws.region,
        "endpoint": aws.endpoint() or "",
        "bucket": storage.bucket,
        "raw_prefix": storage.raw_prefix,
        "live_prefix": storage.live_prefix,
        "lookback_s": str(lookback_s),
        "start_back_s": str(start_back_s),
        "max_objects": str(max_objects),
        "partitions": str(partitions),
        "blocklist_file": filter_config.blocklist_file,
        "min_words": str(filter_config.min_words),
        "languages": json.dumps(list(filter_config.languages)),
    }


def _store(options: dict[str, str]) -> Any:
    from tweet_topics.storage.s3 import AwsResource, S3Store

    aws = AwsResource(
        env=options["env"], region=options["region"], endpoint_url=options.get("endpoint") or None, stack_file=""
    )
    return S3Store(aws=aws, bucket=options["bucket"], protected_prefix=options["raw_prefix"])


@dataclass
class RawObject(InputPartition):
    keys: tuple[str, ...]  # one object per partition, or several once a batch has more objects than task slots


class RawObjectStream(DataSourceStreamReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.options = options
        self.raw_prefix = options["raw_prefix"]

    def initialOffset(self) -> dict:
        start_back = timedelta(seconds=float(self.options["start_back_s"]))
        return initial_offset(self.raw_prefix, datetime.now(UTC), start_back).to_dict()

    def latestOffset(self, start: dict | None = None, limit: Any = None) -> dict:
        """List after the floor (a handful of keys: the lookback window and what is new)."""
        begin = RawOffset.from_dict(start) if start else RawOffset.from_dict(self.initialOffset())
        listed = [o.key for o in _store(self.options).list(self.raw_prefix, start_after=begin.floor)]
        end = advance(
            begin,
            listed,
            self.raw_prefix,
            datetime.now(UTC),
            timedelta(seconds=float(self.options["lookback_s"])),
            int(self.options["max_objects"]),
        )
        return end.to_dict()

    def partitions(self, start: dict, end: dict) -> list[RawObject]:
        """One partition per object up to ``partitions`` of them; a backlog shares them round-robin (each task
        costs far more than parsing one Firehose object)."""
        keys = new_objects(RawOffset.from_dict(start), RawOffset.from_dict(end))
        slots = max(1, int(self.options.get("partitions") or 1))
        groups = [tuple(keys[i :: min(slots, len(keys))]) for i in range(min(slots, len(keys)))]
        return [RawObject(g) for g in groups if g]

    def read(self, partition: RawObject) -> Iterator[Any]:  # type: ignore[override]
        """Fetch the partition's objects concurrently; an object that vanished after listing is a reject, any other
        error (an outage) fails the batch and the runner restarts the query from its checkpoint."""
        from concurrent.futures import ThreadPoolExecutor

        from tweet_topics.live.objects import Objects

        objects = Objects(self.options)
        with ThreadPoolExecutor(max_workers=min(8, len(partition.keys))) as pool:
            bodies = list(pool.map(objects.get_or_none, partition.keys))
        for key, body in zip(partition.keys, bodies, strict=True):
            yield from self._parse(objects, key, body)

    def _parse(self, objects: Any, key: str, body: bytes | None) -> Iterator[Any]:
        from tweet_topics.storage.live_keys import LiveKeys

        rows, quarantine = parse_object(
            self.raw_prefix,
            key,
            body,
            self.options["blocklist_file"],
            int(self.options["min_words"]),
            tuple(json.loads(self.options["languages"])),
        )
        if quarantine:  # keyed by the raw object: a replayed batch rewrites the same entries
            data = b"".join(json.dumps(q, ensure_ascii=False).encode() + b"\n" for q in quarantine)
            objects.put(LiveKeys(self.options["live_prefix"]).quarantine(key), data, "application/x-ndjson")
        yield from rows.to_batches(max_chunksize=10_000)

    def commit(self, end: dict) -> None:
        """Nothing to release: the raw objects stay (they are the batch's input too)."""


class LiveRawSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return NAME

    def schema(self) -> str:
        return SPARK_SCHEMA

    def streamReader(self, schema: StructType) -> RawObjectStream:
        return RawObjectStream(dict(self.options))
