"""SSM: the X bearer token as a SecureString (written from the environment, never echoed) and the project's two
control documents, the only commands the operator may run on its instances (systemctl, four verbs): one for the
streamer's unit, one for the live query's unit (each document names its unit, so neither can drive the other)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.deployment import LIVE_UNIT, UNIT
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

    def documents(self) -> list[tuple[str, str]]:
        """(document name, systemd unit) of every control document."""
        return [(self.d.control_document, UNIT), (self.d.live_control_document, LIVE_UNIT)]

    def _document(self, ssm: Any, name: str) -> dict[str, Any] | None:
        try:
            return ssm.get_document(Name=name, DocumentVersion="$LATEST")
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
        for name, _ in self.documents():
            doc = self._document(ssm, name)
            if doc and self.ownership(name, self._tags(ssm, "Document", name), False) == "foreign":
                out.append(Change("ssm-document", name, "foreign", "not tagged as ours: refused unless adopt_existing"))
            else:
                out.append(Change("ssm-document", name, "exists" if doc else "create", "systemctl only"))
        return out

    def ensure(self) -> list[Change]:
        ssm = self.client("ssm")
        return [*self._ensure_parameter(ssm), *(self._ensure_document(ssm, n, u) for n, u in self.documents())]

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

    def _ensure_document(self, ssm: Any, name: str, unit: str) -> Change:
        content = json.dumps(policies.control_document(unit))
        doc = self._document(ssm, name)
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
        return [*out, *(self._teardown_document(ssm, name) for name, _ in self.documents())]

    def _teardown_document(self, ssm: Any, doc: str) -> Change:
        if self._document(ssm, doc) is None:
            return Change("ssm-document", doc, "absent")
        if self.may_release(self._tags(ssm, "Document", doc)):
            ssm.remove_tags_from_resource(ResourceType="Document", ResourceId=doc, TagKeys=self.release_keys())
            return Change("ssm-document", doc, "release", "adopted, not created by the project: kept")
        if not self.may_delete(self._tags(ssm, "Document", doc)):
            return Change("ssm-document", doc, "foreign", "not tagged as ours: kept")
        ssm.delete_document(Name=doc)
        return Change("ssm-document", doc, "delete")
