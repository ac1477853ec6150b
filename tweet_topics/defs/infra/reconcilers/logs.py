"""The Firehose delivery-error log group and stream, with a retention; only a group tagged as ours is changed."""

from __future__ import annotations

from typing import Any

from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler


class LogsReconciler(Reconciler):
    kind = "log-group"

    def _group(self, logs: Any) -> dict[str, Any] | None:
        groups = logs.describe_log_groups(logGroupNamePrefix=self.d.log_group).get("logGroups", [])
        return next((g for g in groups if g["logGroupName"] == self.d.log_group), None)

    def _tags(self, logs: Any) -> dict[str, str]:
        return logs.list_tags_log_group(logGroupName=self.d.log_group).get("tags", {})

    def plan(self) -> list[Change]:
        logs = self.client("logs")
        group = self._group(logs)
        retention = self.infra.log_retention_days
        if group is None:
            return [Change(self.kind, self.d.log_group, "create", f"retention {retention} d")]
        state = self.ownership(self.d.log_group, self._tags(logs), strict=False)
        if state == "foreign":
            return [self.refused(self.d.log_group)]
        same = group.get("retentionInDays") == retention and state == "owned"
        return [Change(self.kind, self.d.log_group, "exists" if same else "update", "" if same else "retention, tags")]

    def ensure(self) -> list[Change]:
        logs = self.client("logs")
        group = self._group(logs)
        action = "exists"
        if group is None:
            logs.create_log_group(logGroupName=self.d.log_group, tags=self.d.tags)
            action = "create"
        else:
            tags = self._tags(logs)
            if self.ownership(self.d.log_group, tags) == "adopt":
                logs.tag_log_group(logGroupName=self.d.log_group, tags=self.adoption_tags(tags))
                action = "adopt"
        if group is None or group.get("retentionInDays") != self.infra.log_retention_days:
            logs.put_retention_policy(logGroupName=self.d.log_group, retentionInDays=self.infra.log_retention_days)
            action = "update" if action == "exists" else action
        streams = logs.describe_log_streams(logGroupName=self.d.log_group, logStreamNamePrefix=self.d.log_stream)
        if not any(s["logStreamName"] == self.d.log_stream for s in streams.get("logStreams", [])):
            logs.create_log_stream(logGroupName=self.d.log_group, logStreamName=self.d.log_stream)
        return [Change(self.kind, self.d.log_group, action, f"stream {self.d.log_stream}")]

    def teardown(self, delete_data: bool = False) -> list[Change]:
        logs = self.client("logs")
        if self._group(logs) is None:
            return [Change(self.kind, self.d.log_group, "absent")]
        if self.may_release(tags := self._tags(logs)):
            logs.untag_log_group(logGroupName=self.d.log_group, tags=self.release_keys())
            return [self.released(self.d.log_group)]
        if not self.may_delete(tags):
            return [Change(self.kind, self.d.log_group, "foreign", "not tagged as ours: kept")]
        logs.delete_log_group(logGroupName=self.d.log_group)
        return [Change(self.kind, self.d.log_group, "delete")]

    def describe(self) -> dict[str, Any]:
        group = self._group(self.client("logs"))
        return {"exists": group is not None, "arn": group.get("arn") if group else None}
