"""The project bucket: SSE, public access block, TLS-only policy, versioning, raw expiry, ownership tags.

A bucket without the ownership tags is used as it is (the project writes only its prefixes) and never changed or
deleted, unless ``adopt_existing``; tags, lifecycle rules and bucket-policy statements are merged by key. An
adopted bucket is never deleted: teardown with delete_data removes the project's prefixes and settings only.
"""

from __future__ import annotations

from typing import Any

from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, adopted, tag_dict, wait_until
from tweet_topics.defs.infra.reconcilers.bucket_config import config_fixes, get_or, release_settings
from tweet_topics.storage.clients import all_versions, delete_all, ensure_bucket


class BucketReconciler(Reconciler):
    kind = "s3-bucket"

    def _exists(self, s3: Any) -> bool:
        return get_or(lambda: s3.head_bucket(Bucket=self.d.bucket) or True, False, ("404", "NoSuchBucket", "NotFound"))

    def _tags(self, s3: Any) -> dict[str, str]:
        return tag_dict(get_or(lambda: s3.get_bucket_tagging(Bucket=self.d.bucket)["TagSet"], [], ("NoSuchTagSet",)))

    def _managed(self, s3: Any) -> bool:
        return self.d.owns(self._tags(s3)) or self.infra.adopt_existing

    def plan(self) -> list[Change]:
        s3 = self.client("s3")
        if not self._exists(s3):
            tls = "TLS only" if self.infra.tls_only() else "no TLS-only policy (plain-HTTP endpoint)"
            return [Change(self.kind, self.d.bucket, "create", f"SSE, public access block, {tls}, tags")]
        if not self._managed(s3):
            return [Change(self.kind, self.d.bucket, "foreign", "not tagged as ours: used as is, never changed")]
        diff = config_fixes(s3, self.infra, self._tags(s3))
        return [Change(self.kind, self.d.bucket, "update" if diff else "exists", ", ".join(diff))]

    def ensure(self) -> list[Change]:
        s3 = self.client("s3")
        action = "exists"
        if not self._exists(s3):
            ensure_bucket(s3, self.d.bucket, self.d.region)
            s3.put_bucket_tagging(Bucket=self.d.bucket, Tagging={"TagSet": self.d.tag_list()})
            action = "create"
        elif not self._managed(s3):
            return [Change(self.kind, self.d.bucket, "foreign", "not tagged as ours: used as is, never changed")]
        elif not self.d.owns(self._tags(s3)):
            action = "adopt"
        diff = config_fixes(s3, self.infra, self._tags(s3))
        for fix in diff.values():
            fix()
        if diff and action == "exists":
            action = "update"
        return [Change(self.kind, self.d.bucket, action, ", ".join(diff))]

    def _delete_versions(self, s3: Any, prefix: str = "") -> int:
        """Delete every version and delete marker under ``prefix`` (listed fully first, then deleted in chunks)."""
        return delete_all(s3, self.d.bucket, all_versions(s3, self.d.bucket, prefix))

    def teardown(self, delete_data: bool) -> list[Change]:
        s3 = self.client("s3")
        if not self._exists(s3):
            return [Change(self.kind, self.d.bucket, "absent")]
        if not delete_data:
            return [Change(self.kind, self.d.bucket, "kept", "delete_data is false: the data stays")]
        tags = self._tags(s3)
        if not self.may_delete(tags):  # foreign or adopted: the bucket and the team's objects stay
            count = sum(self._delete_versions(s3, prefix) for prefix in self.d.project_prefixes)
            detail = f"{count} object versions under the project's prefixes removed"
            if self.may_release(tags):
                release_settings(s3, self.infra, self.release_keys())
                detail = f"adopted bucket kept; {detail}, and its lifecycle rules, policy statements and tags"
                return [Change(self.kind, self.d.bucket, "release", detail)]
            return [Change(self.kind, self.d.bucket, "kept", f"foreign bucket kept; {detail}")]
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
            "adopted": exists and adopted(self._tags(s3)),
            "arn": f"arn:aws:s3:::{self.d.bucket}",
        }
