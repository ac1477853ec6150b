"""The DirectPut delivery stream into the raw prefix (Firehose appends ``YYYY/MM/DD/HH/``), SSE-KMS when a key is
configured so delivery works with a customer key; only a stream tagged as ours is updated or deleted."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, error_code, tag_dict, wait_until
from tweet_topics.defs.infra.reconcilers.merge import tag_pairs


class FirehoseReconciler(Reconciler):
    kind = "firehose"

    def _describe(self, fh: Any) -> dict[str, Any] | None:
        try:
            return fh.describe_delivery_stream(DeliveryStreamName=self.d.firehose_stream)["DeliveryStreamDescription"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _tags(self, fh: Any) -> dict[str, str]:
        return tag_dict(fh.list_tags_for_delivery_stream(DeliveryStreamName=self.d.firehose_stream)["Tags"])

    def _hints(self) -> dict[str, int]:
        return {"SizeInMBs": self.infra.buffer_size_mb, "IntervalInSeconds": self.infra.buffer_interval_s}

    def _encryption(self) -> dict[str, Any]:
        key = self.infra.sse_kms_key_arn
        return {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}} if key else {"NoEncryptionConfig": "NoEncryption"}

    @staticmethod
    def _destination(desc: dict[str, Any]) -> dict[str, Any]:
        dest = desc["Destinations"][0]
        return dest.get("ExtendedS3DestinationDescription") or dest.get("S3DestinationDescription") or {}

    def _differs(self, desc: dict[str, Any]) -> bool:
        dest = self._destination(desc)
        key = self.infra.sse_kms_key_arn
        current_key = dest.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig", {}).get("AWSKMSKeyARN")
        return dest.get("BufferingHints", {}) != self._hints() or current_key != key

    def plan(self) -> list[Change]:
        fh = self.client("firehose")
        desc = self._describe(fh)
        name = self.d.firehose_stream
        if desc is None:
            return [Change(self.kind, name, "create", f"buffer {self._hints()}")]
        if self.ownership(name, self._tags(fh), strict=False) == "foreign":
            return [self.refused(name)]
        same = not self._differs(desc)
        return [Change(self.kind, name, "exists" if same else "update", "" if same else "buffering, encryption")]

    def ensure(self, role_arn: str) -> list[Change]:
        fh = self.client("firehose")
        desc = self._describe(fh)
        name = self.d.firehose_stream
        if desc is None:
            fh.create_delivery_stream(
                DeliveryStreamName=name,
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": role_arn,
                    "BucketARN": f"arn:aws:s3:::{self.d.bucket}",
                    # Without expressions Firehose appends the UTC hour: <prefix>YYYY/MM/DD/HH/.
                    "Prefix": self.d.raw_prefix,
                    "ErrorOutputPrefix": "errors/",
                    "BufferingHints": self._hints(),
                    "CompressionFormat": "UNCOMPRESSED",
                    "EncryptionConfiguration": self._encryption(),
                    "CloudWatchLoggingOptions": {
                        "Enabled": True,
                        "LogGroupName": self.d.log_group,
                        "LogStreamName": self.d.log_stream,
                    },
                },
                Tags=self.d.tag_list(),
            )
            action = "create"
        else:
            tags = self._tags(fh)
            action = "adopt" if self.ownership(name, tags) == "adopt" else "exists"
            if action == "adopt":
                fh.tag_delivery_stream(DeliveryStreamName=name, Tags=tag_pairs(self.adoption_tags(tags)))
            if self._differs(desc):
                fh.update_destination(
                    DeliveryStreamName=name,
                    CurrentDeliveryStreamVersionId=desc["VersionId"],
                    DestinationId=desc["Destinations"][0]["DestinationId"],
                    ExtendedS3DestinationUpdate={
                        "BufferingHints": self._hints(),
                        "EncryptionConfiguration": self._encryption(),
                    },
                )
                action = "update" if action == "exists" else action
        wait_until(lambda: (self._describe(fh) or {}).get("DeliveryStreamStatus") == "ACTIVE", f"firehose {name}")
        return [Change(self.kind, name, action, "ACTIVE")]

    def teardown(self, delete_data: bool = False) -> list[Change]:
        fh = self.client("firehose")
        name = self.d.firehose_stream
        if self._describe(fh) is None:
            return [Change(self.kind, name, "absent")]
        if self.may_release(tags := self._tags(fh)):
            fh.untag_delivery_stream(DeliveryStreamName=name, TagKeys=self.release_keys())
            return [self.released(name)]
        if not self.may_delete(tags):
            return [Change(self.kind, name, "foreign", "not tagged as ours: kept")]
        fh.delete_delivery_stream(DeliveryStreamName=name, AllowForceDelete=False)
        wait_until(lambda: self._describe(fh) is None, f"firehose {name} deletion")
        return [Change(self.kind, name, "delete")]

    def describe(self) -> dict[str, Any]:
        desc = self._describe(self.client("firehose")) or {}
        return {
            "exists": bool(desc),
            "arn": desc.get("DeliveryStreamARN"),
            "status": desc.get("DeliveryStreamStatus"),
        }
