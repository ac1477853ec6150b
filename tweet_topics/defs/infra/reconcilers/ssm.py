"""SSM: the X bearer token as a SecureString (written from the environment, never echoed) and the project's
control document, the only command the operator may run on the streamer instance (systemctl, four verbs)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.deployment import UNIT
from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, error_code, tag_dict
from tweet_topics.defs.infra.reconcilers.merge import tag_pairs


class SsmReconciler(Reconciler):
    kind = "ssm-parameter"

    def _tags(self, ssm: Any, kind: str, name: str) -> dict[str, str]:
        return tag_dict(ssm.list_tags_for_resource(ResourceType=kind, ResourceId=name)["TagList"])

    def _current(self, ssm: Any) -> str | None:
        try:
            return ssm.get_parameter(Name=self.d.bearer_parameter, WithDecryption=True)["Parameter"]["Value"]
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise

    def _document(self, ssm: Any) -> dict[str, Any] | None:
        try:
            return ssm.get_document(Name=self.d.control_document, DocumentVersion="$LATEST")
        except ClientError as exc:
            if error_code(exc) == "InvalidDocument":
                return None
            raise

    def plan(self) -> list[Change]:
        ssm = self.client("ssm")
        name = self.d.bearer_parameter
        out = []
        if not self.d.bearer_token:
            out.append(Change(self.kind, name, "skip", "TWEET_TOPICS_X_BEARER_TOKEN not set"))
        else:
            current = self._current(ssm)
            if current is not None and self.ownership(name, self._tags(ssm, "Parameter", name), False) == "foreign":
                out.append(self.refused(name))
            else:
                action = "create" if current is None else ("exists" if current == self.d.bearer_token else "update")
                out.append(Change(self.kind, name, action, "SecureString"))
        doc = self._document(ssm)
        out.append(Change("ssm-document", self.d.control_document, "exists" if doc else "create", "systemctl only"))
        return out

    def ensure(self) -> list[Change]:
        ssm = self.client("ssm")
        return [*self._ensure_parameter(ssm), self._ensure_document(ssm)]

    def _ensure_parameter(self, ssm: Any) -> list[Change]:
        name, token = self.d.bearer_parameter, self.d.bearer_token
        if not token:
            return [Change(self.kind, name, "skip", "TWEET_TOPICS_X_BEARER_TOKEN not set")]
        current = self._current(ssm)
        action = "create" if current is None else "exists"
        if current is not None:
            tags = self._tags(ssm, "Parameter", name)
            if self.ownership(name, tags) == "adopt":
                adoption = tag_pairs(self.adoption_tags(tags))
                ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=adoption)
                action = "adopt"
        if current != token:
            key = {"KeyId": self.infra.sse_kms_key_arn} if self.infra.sse_kms_key_arn else {}
            ssm.put_parameter(
                Name=name,
                Value=token,
                Type="SecureString",
                Overwrite=current is not None,
                Description="X API bearer token for the tweet_topics streamer",
                **key,
            )
            if current is None:
                ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=self.d.tag_list())
            action = "update" if action == "exists" else action
        return [Change(self.kind, name, action, "SecureString")]

    def _ensure_document(self, ssm: Any) -> Change:
        name = self.d.control_document
        content = json.dumps(policies.control_document(UNIT))
        doc = self._document(ssm)
        if doc is None:
            ssm.create_document(
                Name=name, Content=content, DocumentType="Command", DocumentFormat="JSON", Tags=self.d.tag_list()
            )
            return Change("ssm-document", name, "create", "systemctl start|stop|restart|status")
        tags = self._tags(ssm, "Document", name)
        if self.ownership(name, tags) == "adopt":
            ssm.add_tags_to_resource(ResourceType="Document", ResourceId=name, Tags=tag_pairs(self.adoption_tags(tags)))
        if json.loads(doc["Content"]) == json.loads(content):
            return Change("ssm-document", name, "exists")
        version = ssm.update_document(Name=name, Content=content, DocumentVersion="$LATEST", DocumentFormat="JSON")
        ssm.update_document_default_version(
            Name=name, DocumentVersion=version["DocumentDescription"]["DocumentVersion"]
        )
        return Change("ssm-document", name, "update")

    def teardown(self, delete_data: bool = False) -> list[Change]:
        ssm = self.client("ssm")
        out = []
        name = self.d.bearer_parameter
        if self._current(ssm) is None:
            out.append(Change(self.kind, name, "absent"))
        elif self.may_release(self._tags(ssm, "Parameter", name)):
            ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=self.release_keys())
            out.append(self.released(name))
        elif not self.may_delete(self._tags(ssm, "Parameter", name)):
            out.append(Change(self.kind, name, "foreign", "not tagged as ours: kept"))
        else:
            ssm.delete_parameter(Name=name)
            out.append(Change(self.kind, name, "delete"))
        doc = self.d.control_document
        if self._document(ssm) is None:
            out.append(Change("ssm-document", doc, "absent"))
        elif self.may_release(self._tags(ssm, "Document", doc)):
            ssm.remove_tags_from_resource(ResourceType="Document", ResourceId=doc, TagKeys=self.release_keys())
            out.append(Change("ssm-document", doc, "release", "adopted, not created by the project: kept"))
        elif not self.may_delete(self._tags(ssm, "Document", doc)):
            out.append(Change("ssm-document", doc, "foreign", "not tagged as ours: kept"))
        else:
            ssm.delete_document(Name=doc)
            out.append(Change("ssm-document", doc, "delete"))
        return out
