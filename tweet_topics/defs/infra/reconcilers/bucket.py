"""The project bucket: SSE, public access block, TLS-only policy, versioning, raw expiry, ownership tags.

A bucket without the ownership tags is used as it is (the project writes only its prefixes) and never changed or
deleted, unless ``adopt_existing``; tags, lifecycle rules and bucket-policy statements are merged by key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, error_code, tag_dict, wait_until
from tweet_topics.defs.infra.reconcilers.merge import merge_rules, merge_statements, tag_pairs

EXPIRE_RULE = "tweet-topics-expire-raw"
STAGING_RULE = "tweet-topics-expire-staging"  # leftovers of runs that died before their commit
NONCURRENT_RULE = "tweet-topics-expire-noncurrent"  # replaced/deleted versions, kept for recovery a while
RULE_IDS = {EXPIRE_RULE, STAGING_RULE, NONCURRENT_RULE}
PUBLIC_BLOCK = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)


def _get(call: Callable[[], Any], default: Any, missing: tuple[str, ...]) -> Any:
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in missing:
            return default
        raise


class BucketReconciler(Reconciler):
    kind = "s3-bucket"

    def _exists(self, s3: Any) -> bool:
        return _get(lambda: s3.head_bucket(Bucket=self.d.bucket) or True, False, ("404", "NoSuchBucket", "NotFound"))

    def _tags(self, s3: Any) -> dict[str, str]:
        return tag_dict(_get(lambda: s3.get_bucket_tagging(Bucket=self.d.bucket)["TagSet"], [], ("NoSuchTagSet",)))

    def _managed(self, s3: Any) -> bool:
        return self.d.owns(self._tags(s3)) or self.infra.adopt_existing

    def _encryption(self) -> dict[str, Any]:
        key = self.infra.sse_kms_key_arn
        rule: dict[str, Any] = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key} if key else {"SSEAlgorithm": "AES256"}
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(key)}]}

    def _lifecycle_rules(self) -> list[dict[str, Any]]:
        days = self.infra.raw_expiration_days
        rules = [
            {
                "ID": STAGING_RULE,
                "Status": "Enabled",
                "Filter": {"Prefix": "_staging/"},
                "Expiration": {"Days": 1},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]
        if self.infra.versioning:
            rules.append(
                {
                    "ID": NONCURRENT_RULE,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": self.infra.noncurrent_version_days},
                }
            )
        if days:
            rules.append(
                {
                    "ID": EXPIRE_RULE,
                    "Status": "Enabled",
                    "Filter": {"Prefix": self.d.raw_prefix},
                    "Expiration": {"Days": days},
                }
            )
        return rules

    def _diff(self, s3: Any) -> dict[str, Callable[[], Any]]:
        """What differs from the desired state, as name -> the call that fixes it (merged, never replaced)."""
        b = self.d.bucket
        out: dict[str, Callable[[], Any]] = {}
        rules = _get(
            lambda: s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"],
            [],
            ("ServerSideEncryptionConfigurationNotFoundError",),
        )
        current = (rules or [{}])[0].get("ApplyServerSideEncryptionByDefault", {})
        desired = self._encryption()
        if current != desired["Rules"][0]["ApplyServerSideEncryptionByDefault"]:
            out["encryption"] = lambda: s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=desired)
        block = _get(
            lambda: s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
            {},
            ("NoSuchPublicAccessBlockConfiguration",),
        )
        if block != PUBLIC_BLOCK:
            out["public_access_block"] = lambda: s3.put_public_access_block(
                Bucket=b, PublicAccessBlockConfiguration=PUBLIC_BLOCK
            )
        if self.infra.versioning and s3.get_bucket_versioning(Bucket=b).get("Status") != "Enabled":
            out["versioning"] = lambda: s3.put_bucket_versioning(
                Bucket=b, VersioningConfiguration={"Status": "Enabled"}
            )
        lifecycle = _get(
            lambda: s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"], [], ("NoSuchLifecycleConfiguration",)
        )
        rules = merge_rules(lifecycle, self._lifecycle_rules(), RULE_IDS)
        if rules is not None:
            out["lifecycle"] = lambda: (
                s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
                if rules
                else s3.delete_bucket_lifecycle(Bucket=b)
            )
        raw_policy = _get(lambda: s3.get_bucket_policy(Bucket=b)["Policy"], None, ("NoSuchBucketPolicy",))
        policy = merge_statements(
            json.loads(raw_policy) if raw_policy else None, policies.bucket_policy(self.d)["Statement"]
        )
        if self.infra.tls_only() and policy is not None:
            out["tls_only_policy"] = lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        tags = self._tags(s3)
        if self.missing_tags(tags):
            merged = tag_pairs({**tags, **self.d.tags})
            out["tags"] = lambda: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": merged})
        return out

    def plan(self) -> list[Change]:
        s3 = self.client("s3")
        if not self._exists(s3):
            tls = "TLS only" if self.infra.tls_only() else "no TLS-only policy (plain-HTTP endpoint)"
            return [Change(self.kind, self.d.bucket, "create", f"SSE, public access block, {tls}, tags")]
        if not self._managed(s3):
            return [Change(self.kind, self.d.bucket, "foreign", "not tagged as ours: used as is, never changed")]
        diff = self._diff(s3)
        return [Change(self.kind, self.d.bucket, "update" if diff else "exists", ", ".join(diff))]

    def ensure(self) -> list[Change]:
        s3 = self.client("s3")
        action = "exists"
        if not self._exists(s3):
            kwargs: dict[str, Any] = {"Bucket": self.d.bucket}
            if self.d.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.d.region}
            s3.create_bucket(**kwargs)
            s3.put_bucket_tagging(Bucket=self.d.bucket, Tagging={"TagSet": self.d.tag_list()})
            action = "create"
        elif not self._managed(s3):
            return [Change(self.kind, self.d.bucket, "foreign", "not tagged as ours: used as is, never changed")]
        elif not self.d.owns(self._tags(s3)):
            action = "adopt"
        diff = self._diff(s3)
        for fix in diff.values():
            fix()
        if diff and action == "exists":
            action = "update"
        return [Change(self.kind, self.d.bucket, action, ", ".join(diff))]

    def _delete_versions(self, s3: Any, prefix: str = "") -> int:
        """Delete every version and delete marker under ``prefix`` (listed fully first, then deleted in chunks)."""
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=self.d.bucket, Prefix=prefix)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(items), 1000):
            result = s3.delete_objects(Bucket=self.d.bucket, Delete={"Objects": items[start : start + 1000]})
            if result.get("Errors"):
                raise RuntimeError(f"could not delete from {self.d.bucket}: {result['Errors'][:3]}")
        return len(items)

    def teardown(self, delete_data: bool) -> list[Change]:
        s3 = self.client("s3")
        if not self._exists(s3):
            return [Change(self.kind, self.d.bucket, "absent")]
        if not delete_data:
            return [Change(self.kind, self.d.bucket, "kept", "delete_data is false: the data stays")]
        if not self._managed(s3):
            count = sum(self._delete_versions(s3, prefix) for prefix in self.d.project_prefixes)
            detail = f"foreign bucket kept; {count} object versions under the project's prefixes removed"
            return [Change(self.kind, self.d.bucket, "kept", detail)]
        s3.delete_bucket_policy(Bucket=self.d.bucket)  # the bucket goes; its TLS-only deny must not block emptying
        deleted = self._delete_versions(s3)
        s3.delete_bucket(Bucket=self.d.bucket)
        wait_until(lambda: not self._exists(s3), f"bucket {self.d.bucket} deletion")
        return [Change(self.kind, self.d.bucket, "delete", f"{deleted} object versions removed")]

    def describe(self) -> dict[str, Any]:
        s3 = self.client("s3")
        exists = self._exists(s3)
        return {
            "exists": exists,
            "managed": exists and self.d.owns(self._tags(s3)),
            "arn": f"arn:aws:s3:::{self.d.bucket}",
        }
