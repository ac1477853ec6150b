"""The Firehose delivery role, the streamer role and the live query host's role, each EC2 role with its instance
profile: tagged, with the permissions boundary when one is configured, inline policies from ``policies`` and only
the SSM core managed policy attached (to the EC2 roles)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, error_code, tag_dict
from tweet_topics.defs.infra.reconcilers.merge import tag_pairs


def _missing(exc: ClientError) -> bool:
    return error_code(exc) == "NoSuchEntity"


class IamReconciler(Reconciler):
    kind = "iam-role"

    def account(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

    def _role(self, iam: Any, name: str) -> dict[str, Any] | None:
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        role["TagMap"] = tag_dict(iam.list_role_tags(RoleName=name)["Tags"])
        return role

    def _inline(self, iam: Any, role: str, policy: str) -> dict[str, Any] | None:
        try:
            document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return json.loads(document) if isinstance(document, str) else document

    @property
    def instance_roles(self) -> tuple[str, ...]:
        """The EC2 roles: each has an instance profile of its name and the SSM core policy (the agent's needs)."""
        return (self.d.streamer_role, self.d.live_role)

    def roles(self) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
        """(role, trust policy, inline policy name, inline policy) for every runtime role."""
        account, key = self.account(), self.infra.sse_kms_key_arn
        package = self.infra.package_object()
        return [
            (
                self.d.firehose_role,
                policies.trust("firehose.amazonaws.com"),
                "firehose-delivery",
                policies.firehose_delivery_policy(self.d, account, key),
            ),
            (
                self.d.streamer_role,
                policies.trust("ec2.amazonaws.com"),
                "streamer",
                policies.streamer_policy(self.d, account, key, package),
            ),
            (
                self.d.live_role,
                policies.trust("ec2.amazonaws.com"),
                "live",
                policies.live_policy(self.d, account, key, package),
            ),
        ]

    def plan(self) -> list[Change]:
        iam = self.client("iam")
        out = []
        for role, _, policy, document in self.roles():
            found = self._role(iam, role)
            if found is None:
                out.append(Change(self.kind, role, "create", f"inline policy {policy}"))
            elif self.ownership(role, found["TagMap"], strict=False) == "foreign":
                out.append(self.refused(role))
            else:
                same = self._inline(iam, role, policy) == document and self._boundary_ok(found)
                out.append(Change(self.kind, role, "exists" if same else "update", "" if same else "policy"))
        return out

    def _boundary_ok(self, role: dict[str, Any]) -> bool:
        want = self.infra.permissions_boundary_arn
        return not want or role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == want

    def ensure(self) -> list[Change]:
        iam = self.client("iam")
        out = []
        boundary = self.infra.permissions_boundary_arn
        for role, trust, policy, document in self.roles():
            found = self._role(iam, role)
            action = "exists"
            if found is None:
                kwargs: dict[str, Any] = {"PermissionsBoundary": boundary} if boundary else {}
                iam.create_role(
                    RoleName=role,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    MaxSessionDuration=3600,
                    Tags=self.d.tag_list(),
                    **kwargs,
                )
                action = "create"
            else:
                if self.ownership(role, found["TagMap"]) == "adopt":
                    iam.tag_role(RoleName=role, Tags=tag_pairs(self.adoption_tags(found["TagMap"])))
                    action = "adopt"
                if not self._boundary_ok(found):
                    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
                    action = "update" if action == "exists" else action
            if self._inline(iam, role, policy) != document:
                iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
                action = "update" if action == "exists" else action
            out.append(Change(self.kind, role, action, f"policy {policy}"))
        for role in self.instance_roles:
            attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
            if not any(p["PolicyArn"] == policies.SSM_MANAGED_POLICY for p in attached):
                iam.attach_role_policy(RoleName=role, PolicyArn=policies.SSM_MANAGED_POLICY)
            out.append(self._ensure_profile(iam, role))
        return out

    def _profile(self, iam: Any, name: str) -> dict[str, Any] | None:
        try:
            profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        profile["TagMap"] = tag_dict(profile.get("Tags"))  # GetInstanceProfile returns the tags
        return profile

    def _ensure_profile(self, iam: Any, name: str) -> Change:
        profile = self._profile(iam, name)
        action = "exists"
        if profile is None:
            profile = iam.create_instance_profile(InstanceProfileName=name, Tags=self.d.tag_list())["InstanceProfile"]
            action = "create"
        elif self.ownership(name, profile["TagMap"]) == "adopt":
            adoption = self.adoption_tags(profile["TagMap"])
            iam.tag_instance_profile(InstanceProfileName=name, Tags=tag_pairs(adoption))
            action = "adopt"
        if not any(r["RoleName"] == name for r in profile.get("Roles", [])):
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return Change("instance-profile", name, action)

    def _teardown_profile(self, iam: Any, name: str) -> Change:
        profile = self._profile(iam, name)
        if profile is None:
            return Change("instance-profile", name, "absent")
        if self.may_release(profile["TagMap"]):
            iam.untag_instance_profile(InstanceProfileName=name, TagKeys=self.release_keys())
            return Change("instance-profile", name, "release", "adopted, not created by the project: kept")
        if not self.may_delete(profile["TagMap"]):
            return Change("instance-profile", name, "foreign", "not tagged as ours: kept")
        for role in profile.get("Roles", []):
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
        iam.delete_instance_profile(InstanceProfileName=name)
        return Change("instance-profile", name, "delete")

    def teardown(self, delete_data: bool = False) -> list[Change]:
        iam = self.client("iam")
        out = [self._teardown_profile(iam, name) for name in self.instance_roles]
        for role, _, inline, _ in self.roles():
            found = self._role(iam, role)
            if found is None:
                out.append(Change(self.kind, role, "absent"))
                continue
            if self.may_release(found["TagMap"]):
                if self._inline(iam, role, inline) is not None:
                    iam.delete_role_policy(RoleName=role, PolicyName=inline)
                iam.untag_role(RoleName=role, TagKeys=self.release_keys())
                out.append(self.released(role, f"inline policy {inline}"))
                continue
            if not self.may_delete(found["TagMap"]):
                out.append(Change(self.kind, role, "foreign", "not tagged as ours: kept"))
                continue
            for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role, PolicyName=policy)
            for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=role)
            out.append(Change(self.kind, role, "delete"))
        return out

    def role_arn(self, name: str) -> str | None:
        found = self._role(self.client("iam"), name)
        return found["Arn"] if found else None

    def describe(self) -> dict[str, Any]:
        return {role: self.role_arn(role) for role in (self.d.firehose_role, *self.instance_roles)}
