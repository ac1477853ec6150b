"""Object access for the live query's executor tasks: boto3 exactly as the batch data source does it.

Plain Python (no Dagster): Python workers import this; the driver side goes through ``Storage``/``S3Store``.
"""

from __future__ import annotations

from typing import Any

MISSING = ("NoSuchKey", "404", "NotFound")


class Objects:
    """get / put on the bucket named in the source's options (no secrets: prod uses the default chain)."""

    def __init__(self, options: dict[str, str]) -> None:
        from tweet_topics.storage.clients import client

        self.bucket = options["bucket"]
        self.s3: Any = client(options["env"], options["region"], options.get("endpoint") or None, "s3")

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_or_none(self, key: str) -> bytes | None:
        """The object's bytes; None when it does not exist (other errors, an outage, raise)."""
        from botocore.exceptions import ClientError

        try:
            return self.get(key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in MISSING:
                raise
            return None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
