"""The alert topic: an SNS topic the project creates and owns (ownership tags, encrypted with KMS, a topic policy
that lets only this account publish or subscribe, over TLS only) and the e-mail subscriptions from
``TWEET_TOPICS_ALERT_EMAILS``. A subscription still pending confirmation is not subscribed again (SNS would send
another confirmation mail every provisioning)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, error_code, tag_dict

AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def topic_policy(topic_arn: str, account: str) -> dict[str, Any]:
    """Only principals of this account may publish or subscribe, and only over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
                "Resource": topic_arn,
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


class SnsReconciler(Reconciler):
    kind = "sns-topic"

    def arn(self) -> str | None:
        """The alert topic's ARN, or None when it does not exist (list, never create: a reader must not create)."""
        sns = self.client("sns")
        suffix = ":" + self.d.alert_topic
        for page in sns.get_paginator("list_topics").paginate():
            for topic in page.get("Topics", []):
                if topic["TopicArn"].endswith(suffix):
                    return topic["TopicArn"]
        return None

    def _tags(self, arn: str) -> dict[str, str]:
        return tag_dict(self.client("sns").list_tags_for_resource(ResourceArn=arn).get("Tags", []))

    def _attributes(self, arn: str) -> dict[str, str]:
        account = arn.split(":")[4]
        return {
            "KmsMasterKeyId": self.infra.sse_kms_key_arn or AWS_MANAGED_SNS_KEY,
            "Policy": _json(topic_policy(arn, account)),
        }

    def _pending_or_subscribed(self, arn: str) -> set[str]:
        sns = self.client("sns")
        found: set[str] = set()
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            found |= {s["Endpoint"].lower() for s in page.get("Subscriptions", []) if s.get("Protocol") == "email"}
        return found

    def plan(self) -> list[Change]:
        arn = self.arn()
        if arn is None:
            return [Change(self.kind, self.d.alert_topic, "create", f"{len(self.d.alert_emails)} e-mail subscriptions")]
        if self.ownership(self.d.alert_topic, self._tags(arn), strict=False) == "foreign":
            return [self.refused(self.d.alert_topic)]
        missing = [e for e in self.d.alert_emails if e.lower() not in self._pending_or_subscribed(arn)]
        return [Change(self.kind, self.d.alert_topic, "update" if missing else "exists", f"subscribe {missing}")]

    def ensure(self) -> list[Change]:
        sns = self.client("sns")
        arn = self.arn()
        action = "exists"
        if arn is None:
            arn = sns.create_topic(Name=self.d.alert_topic, Tags=self.d.tag_list())["TopicArn"]
            action = "create"
        else:
            tags = self._tags(arn)
            if self.ownership(self.d.alert_topic, tags) == "adopt":
                sns.tag_resource(
                    ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in self.missing_tags(tags).items()]
                )
                action = "adopt"
        current = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        for name, value in self._attributes(arn).items():
            if not _same(name, current.get(name), value):
                sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
                action = "update" if action == "exists" else action
        known = self._pending_or_subscribed(arn)
        added = [e for e in self.d.alert_emails if e.lower() not in known]
        for email in added:
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)
        action = "update" if added and action == "exists" else action
        return [Change(self.kind, self.d.alert_topic, action, f"{len(added)} e-mail subscriptions requested")]

    def teardown(self, delete_data: bool = False) -> list[Change]:
        arn = self.arn()
        if arn is None:
            return [Change(self.kind, self.d.alert_topic, "absent")]
        if not self.may_delete(self._tags(arn)):
            return [Change(self.kind, self.d.alert_topic, "foreign", "not tagged as ours: kept")]
        try:
            self.client("sns").delete_topic(TopicArn=arn)
        except ClientError as exc:
            if error_code(exc) != "NotFound":
                raise
        return [Change(self.kind, self.d.alert_topic, "delete")]

    def describe(self) -> dict[str, Any]:
        arn = self.arn()
        return {"exists": arn is not None, "arn": arn}


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _same(name: str, current: str | None, wanted: str) -> bool:
    """SNS may return the policy reformatted: policies compare as JSON."""
    if name == "Policy" and current:
        return json.loads(current) == json.loads(wanted)
    return current == wanted
