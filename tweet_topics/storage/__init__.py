"""The storage layer: the bucket, its key layout and the datasets in it (hourly datasets, versioned stores).

- ``clients``: boto3 clients for moto or real AWS, bucket creation (plain Python).
- ``keys``: the hourly key layout and partition keys (plain Python).
- ``s3``: ``AwsResource`` and ``S3Store`` (Dagster resources).
- ``hourly``: ``HourlyDataset`` - write_hour / read / committed_hours with a metadata-last commit.
- ``versions``: ``VersionedStore`` - immutable corpus and model versions with a manifest and ``latest.json``.
- ``catalog``: ``Storage``, the resource that builds every dataset from settings.
"""
