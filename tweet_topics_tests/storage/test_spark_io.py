"""Spark I/O of the versioned stores: a re-run that dies before its commit leaves the committed version readable,
and the cluster (``uri``) path refuses an object whose size is not what its commit recorded."""

import hashlib

import pytest

from tweet_topics.defs.topics import spark_io

VERSION = "2026-03-01-00-2026-03-01-05"


def commit_frame(storage, spark, values, parts):
    """Write ``values`` as a corpus version's files (``parts`` tasks) and commit them; returns the manifest."""
    frame = spark.createDataFrame([(v,) for v in values], "value long").repartition(parts)
    written = spark_io.write_version_files(frame, storage, storage.corpus, VERSION, "data")
    manifest = {"files": sorted(({k: o[k] for k in ("key", "sha256", "bytes")} for o in written), key=str)}
    storage.corpus.commit(VERSION, manifest)
    return manifest


def read_committed(spark, storage):
    files = storage.corpus.manifest(storage.corpus.latest())["files"]
    objects = [(f["key"], None, f["sha256"]) for f in files]
    return sorted(r.value for r in spark_io.read_objects(spark, storage, objects).collect())


def test_a_rerun_that_dies_before_its_commit_leaves_the_committed_version_whole(resources, bucket, spark):
    storage = resources["storage"]
    first = commit_frame(storage, spark, range(100), parts=3)
    # The re-run for the same window writes its files, then dies before the manifest commit.
    frame = spark.createDataFrame([(v,) for v in range(1000, 1050)], "value long").repartition(1)
    spark_io.write_version_files(frame, storage, storage.corpus, VERSION, "data")
    for entry in first["files"]:
        assert hashlib.sha256(storage.s3.get(entry["key"])).hexdigest() == entry["sha256"], entry["key"]
    assert read_committed(spark, storage) == list(range(100))
    # A re-run that commits replaces the version; only now are the replaced manifest's files deleted.
    second = commit_frame(storage, spark, range(200, 220), parts=2)
    assert read_committed(spark, storage) == list(range(200, 220))
    assert not any(storage.s3.exists(f["key"]) for f in first["files"])
    assert all(storage.s3.exists(f["key"]) for f in second["files"])


def test_uri_reads_refuse_an_object_replaced_by_one_of_another_size(spark, tmp_path):
    """The cluster path's check, in real Spark tasks: local files stand in for the S3 connector's objects."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    root = tmp_path / "bucket"
    root.mkdir()
    for name, values in (("a.parquet", range(10)), ("b.parquet", range(10, 30))):
        pq.write_table(pa.table({"value": list(values)}), root / name)
    sizes = {p.name: p.stat().st_size for p in root.iterdir()}
    key = F.regexp_extract(F.col("_metadata.file_path"), r"/bucket/([^/]+)$", 1)

    def read() -> list[int]:
        frame = spark.read.schema("value long").parquet(*[(root / n).as_uri() for n in sorted(sizes)])
        return sorted(r.value for r in spark_io.verify_sizes(frame, key, sizes).select("value").collect())

    assert read() == list(range(30))
    pq.write_table(pa.table({"value": list(range(100, 160))}), root / "b.parquet")  # replaced after its commit
    with pytest.raises(Exception, match=r"b\.parquet is not the size its commit recorded"):
        read()


def test_many_small_objects_are_read_by_one_task_per_slot_and_each_checked_against_its_commit(resources, bucket, spark):
    """24 hourly-sized objects become one task per core (not 24), every row arrives once with its partition
    value, and an object replaced after its commit fails the read naming it."""
    import pyarrow as pa

    from tweet_topics.storage.hourly import parquet_bytes

    storage = resources["storage"]
    objects = []
    for hour in range(24):
        body = parquet_bytes(pa.table({"value": list(range(hour * 10, hour * 10 + 10))}))
        key = f"corpus/pack-test/{hour:02d}.parquet"
        storage.s3.put(key, body, "application/vnd.apache.parquet")
        objects.append((key, f"h{hour:02d}", hashlib.sha256(body).hexdigest(), len(body)))
    frame = spark_io.read_objects(spark, storage, objects)
    assert frame.rdd.getNumPartitions() == min(24, spark.sparkContext.defaultParallelism)
    rows = frame.collect()
    assert sorted(r.value for r in rows) == list(range(240))
    assert all(r.partition == f"h{r.value // 10:02d}" for r in rows)
    storage.s3.put(objects[5][0], parquet_bytes(pa.table({"value": [50, 51]})), "application/vnd.apache.parquet")
    with pytest.raises(Exception, match=r"pack-test/05\.parquet does not match its commit's sha256"):
        spark_io.read_objects(spark, storage, objects).collect()
