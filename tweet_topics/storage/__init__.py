"""The storage layer: the bucket, its key layout and the datasets in it (hourly datasets, versioned stores).

- ``clients``: boto3 clients for moto or real AWS, ``ensure_bucket`` (plain Python).
- ``keys``: the hourly key layout ``<prefix>YYYY/MM/DD/HH/`` and partition keys (plain Python).
- ``s3``: ``AwsResource`` and ``S3Store`` (Dagster resources); ``S3Store`` is the only object I/O with boto3.
- ``hourly``: ``HourlyDataset`` - per-run data files, then one conditional ``_commit.json``; readers resolve
  through the commit and verify sha256.
- ``versions``: ``VersionedStore`` - immutable corpus and model versions, manifest last, ``latest.json``.
- ``reports``: ``ReportPages`` - the report pages in the bucket, their ``latest.json`` and pre-signed links.
- ``live_keys``, ``original_keys``: the live query's and the ``original/`` dataset's keys (plain Python).
- ``spark_source``: what Spark's executor tasks run to read and write the bucket's objects.
- ``catalog``: ``Storage``, the resource that builds every dataset from settings.
"""
