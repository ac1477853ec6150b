"""The streamer's security group (no inbound, egress 443 only) and, optionally, its instance: IMDSv2 only, no
public IP unless asked, found by the ownership tags and its Name; an instance or group that only shares the name
is refused, never adopted or terminated (unless ``adopt_existing``). ``LiveEc2Reconciler``: the live query's host,
the same rules with its own Name, instance profile and type, in the streamer's security group (HTTPS out only is
all it needs: S3, SSM)."""

from __future__ import annotations

from typing import Any

from tweet_topics.defs.infra.reconcilers.base import Change, Reconciler, tag_dict
from tweet_topics.defs.infra.reconcilers.merge import tag_pairs

LIVE = ["pending", "running", "stopping", "stopped"]
HTTPS_OUT = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


class Ec2Reconciler(Reconciler):
    kind = "ec2-instance"
    owns_group = True  # the security group is planned, created and deleted here (the live host only uses it)

    @property
    def instance_name(self) -> str:
        return self.d.instance_name

    @property
    def profile(self) -> str:
        return self.d.streamer_role

    @property
    def instance_type(self) -> str:
        return self.infra.instance_type

    @property
    def enabled(self) -> bool:
        return self.infra.create_instance

    def _vpc(self, ec2: Any) -> str:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise RuntimeError("no default VPC in this region: set subnet_id to a subnet of your VPC")
        return vpcs[0]["VpcId"]

    def _subnet(self, ec2: Any) -> dict[str, Any]:
        if self.infra.subnet_id:
            return ec2.describe_subnets(SubnetIds=[self.infra.subnet_id])["Subnets"][0]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self._vpc(ec2)]}])["Subnets"]
        if not subnets:
            raise RuntimeError("the default VPC has no subnet: set subnet_id")
        return sorted(subnets, key=lambda s: s["SubnetId"])[0]

    def _group(self, ec2: Any) -> dict[str, Any] | None:
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [self.d.security_group]}])
        return next(iter(groups["SecurityGroups"]), None)

    def named_instances(self) -> list[dict[str, Any]]:
        """Every live instance carrying this reconciler's Name, ours or not."""
        found = self.client("ec2").describe_instances(
            Filters=[
                {"Name": "tag:Name", "Values": [self.instance_name]},
                {"Name": "instance-state-name", "Values": LIVE},
            ]
        )
        return [i for r in found["Reservations"] for i in r["Instances"]]

    def instances(self) -> list[dict[str, Any]]:
        """The project's instances: the Name and all three ownership tags."""
        return [i for i in self.named_instances() if self.d.owns(tag_dict(i.get("Tags")))]

    def plan(self) -> list[Change]:
        out = self._plan_group() if self.owns_group else []
        if self.enabled:
            ours, named = self.instances(), self.named_instances()
            if ours:
                out.append(Change(self.kind, self.instance_name, "exists", ours[0]["InstanceId"]))
            elif named and not self.infra.adopt_existing:
                out.append(self.refused(self.instance_name))
            else:
                out.append(Change(self.kind, self.instance_name, "create", self.instance_type))
        return out

    def _plan_group(self) -> list[Change]:
        group = self._group(self.client("ec2"))
        name = self.d.security_group
        if group is None:
            return [Change("security-group", name, "create", "no ingress, egress 443")]
        if self.ownership(name, tag_dict(group.get("Tags")), strict=False) == "foreign":
            return [Change("security-group", name, "foreign", "not tagged as ours: refused")]
        return [Change("security-group", name, "exists", "no ingress, egress 443")]

    def ensure(self, user_data: str | None) -> list[Change]:
        ec2 = self.client("ec2")
        out = [self._ensure_group(ec2)] if self.owns_group else []
        if self.enabled:
            if user_data is None:
                raise ValueError(f"{self.instance_name} needs the rendered user-data")
            if self._group(ec2) is None:
                raise RuntimeError(f"security group {self.d.security_group} is missing: ensure the streamer's first")
            out.append(self._ensure_instance(ec2, user_data))
        return out

    def _ensure_group(self, ec2: Any) -> Change:
        name = self.d.security_group
        group = self._group(ec2)
        if group is None:
            vpc = self._subnet(ec2)["VpcId"] if self.infra.subnet_id else self._vpc(ec2)
            group_id = ec2.create_security_group(
                GroupName=name,
                Description="tweet_topics streamer: no inbound, HTTPS out",
                VpcId=vpc,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": self.d.tag_list()}],
            )["GroupId"]
            group, action = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0], "create"
        else:
            tags = tag_dict(group.get("Tags"))
            action = "adopt" if self.ownership(name, tags) == "adopt" else "exists"
            if action == "adopt":
                ec2.create_tags(Resources=[group["GroupId"]], Tags=tag_pairs(self.adoption_tags(tags)))
        egress = group.get("IpPermissionsEgress", [])
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
        wide = [p for p in egress if p.get("IpProtocol") == "-1"]
        if wide:
            ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=wide)
        if not any(p.get("FromPort") == 443 and p.get("IpProtocol") == "tcp" for p in egress):
            ec2.authorize_security_group_egress(GroupId=group["GroupId"], IpPermissions=[HTTPS_OUT])
        return Change("security-group", name, action, group["GroupId"])

    def _ensure_instance(self, ec2: Any, user_data: str) -> Change:
        ours = self.instances()
        if ours:
            return Change(self.kind, self.instance_name, "exists", ours[0]["InstanceId"])
        named = self.named_instances()
        if named:
            first = named[0]
            tags = tag_dict(first.get("Tags"))
            self.ownership(self.instance_name, tags)  # raises unless adopt_existing
            ec2.create_tags(Resources=[first["InstanceId"]], Tags=tag_pairs(self.adoption_tags(tags)))
            ec2.modify_instance_metadata_options(InstanceId=first["InstanceId"], HttpTokens="required")
            return Change(self.kind, self.instance_name, "adopt", f"{first['InstanceId']}, IMDSv2 required")
        ami = self.client("ssm").get_parameter(Name=self.infra.ami_parameter)["Parameter"]["Value"]
        group = self._group(ec2)
        assert group is not None  # created by _ensure_group just before
        extra: dict[str, Any] = {"KeyName": self.infra.ssh_key_name} if self.infra.ssh_key_name else {}
        tags = [*self.d.tag_list(), {"Key": "Name", "Value": self.instance_name}]
        instance = ec2.run_instances(
            ImageId=ami,
            InstanceType=self.instance_type,
            MinCount=1,
            MaxCount=1,
            IamInstanceProfile={"Name": self.profile},
            NetworkInterfaces=[
                {
                    "DeviceIndex": 0,
                    "SubnetId": self._subnet(ec2)["SubnetId"],
                    "Groups": [group["GroupId"]],
                    "AssociatePublicIpAddress": self.infra.associate_public_ip,
                }
            ],
            UserData=user_data,
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": tags},
            ],
            **extra,
        )["Instances"][0]
        return Change(self.kind, self.instance_name, "create", instance["InstanceId"])

    def teardown(self, delete_data: bool = False) -> list[Change]:
        ec2 = self.client("ec2")
        out = []
        named = self.named_instances()
        doomed = [i["InstanceId"] for i in named if self.may_delete(tag_dict(i.get("Tags")))]
        adopted = [i["InstanceId"] for i in named if self.may_release(tag_dict(i.get("Tags")))]
        kept = [i["InstanceId"] for i in named if i["InstanceId"] not in doomed + adopted]
        if kept:
            out.append(Change(self.kind, self.instance_name, "foreign", f"not tagged as ours, kept: {kept}"))
        if adopted:
            ec2.delete_tags(Resources=adopted, Tags=[{"Key": k} for k in self.release_keys()])
            detail = f"adopted, not created by the project: kept running ({','.join(adopted)}); its tags removed"
            out.append(Change(self.kind, self.instance_name, "release", detail))
        if doomed:
            ec2.terminate_instances(InstanceIds=doomed)
            wait = {"Delay": 1, "MaxAttempts": 300}
            ec2.get_waiter("instance_terminated").wait(InstanceIds=doomed, WaiterConfig=wait)
            out.append(Change(self.kind, self.instance_name, "delete", ",".join(doomed)))
        return [*out, self._teardown_group(ec2)] if self.owns_group else out

    def _teardown_group(self, ec2: Any) -> Change:
        group = self._group(ec2)
        name = self.d.security_group
        if group is None:
            return Change("security-group", name, "absent")
        tags = tag_dict(group.get("Tags"))
        if self.may_release(tags):
            ec2.delete_tags(Resources=[group["GroupId"]], Tags=[{"Key": k} for k in self.release_keys()])
            return Change("security-group", name, "release", "adopted, not created by the project: kept")
        if not self.may_delete(tags):
            return Change("security-group", name, "foreign", "not tagged as ours: kept")
        ec2.delete_security_group(GroupId=group["GroupId"])
        return Change("security-group", name, "delete")

    def describe(self) -> dict[str, Any]:
        group = self._group(self.client("ec2")) or {}
        return {
            "security_group": group.get("GroupId"),
            "ingress_rules": len(group.get("IpPermissions", [])),
            "instances": [(i["InstanceId"], i["State"]["Name"]) for i in self.instances()],
        }


class LiveEc2Reconciler(Ec2Reconciler):
    """The live query's host (``create_live_instance``): its own Name, instance profile and type."""

    owns_group = False

    @property
    def instance_name(self) -> str:
        return self.d.live_instance_name

    @property
    def profile(self) -> str:
        return self.d.live_role

    @property
    def instance_type(self) -> str:
        return self.infra.live_instance_type

    @property
    def enabled(self) -> bool:
        return self.infra.create_live_instance
