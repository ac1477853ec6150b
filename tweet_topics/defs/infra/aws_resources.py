"""One small ConfigurableResource per AWS concern. Each can ``plan`` (read-only), ``ensure`` (create or
update, idempotent) and ``teardown`` (delete, waiting until gone), and reports what it did as Changes."""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from tweet_topics.defs.infra import policies
from tweet_topics.defs.infra.names import InfraNames
from tweet_topics.storage.s3 import AwsResource

LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
USER_DATA_TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "ec2-user-data.sh"


@dataclass(frozen=True)
class Change:
    resource: str
    name: str
    action: str  # create | update | exists | delete | absent | skip | kept
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.resource} {self.name}: {self.action}" + (f" ({self.detail})" if self.detail else "")


def _code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def _wait(check: Any, what: str, timeout: float = 300, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


class InfraSettings(dg.ConfigurableResource):
    """Knobs for provisioning, validated before any AWS call (a bad value names its field)."""

    buffer_size_mb: int = Field(5, description="Firehose buffer size, 1-128 MiB")
    buffer_interval_s: int = Field(60, description="Firehose buffer interval, 0-900 s")
    log_retention_days: int = 14
    sse_kms_key_id: str | None = None
    versioning: bool = False
    raw_expiration_days: int | None = Field(None, description="lifecycle rule that expires raw objects")
    create_instance: bool = Field(False, description="run the EC2 streamer instance (prod)")
    instance_type: str = "t3.micro"
    ssh_key_name: str | None = Field(None, description="off by default; SSM Session Manager replaces SSH")
    streamer_package: str = Field(
        "tweet_topics",
        description="pip requirement the instance installs: your private index name, a wheel URL or a VCS URL",
    )

    @field_validator("buffer_size_mb")
    @classmethod
    def _size(cls, v: int) -> int:
        if not 1 <= v <= 128:
            raise ValueError(f"buffer_size_mb={v} is outside Firehose's 1-128 MiB")
        return v

    @field_validator("buffer_interval_s")
    @classmethod
    def _interval(cls, v: int) -> int:
        if not 0 <= v <= 900:
            raise ValueError(f"buffer_interval_s={v} is outside Firehose's 0-900 s")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION_DAYS:
            raise ValueError(f"log_retention_days={v} is not one CloudWatch accepts: {LOG_RETENTION_DAYS}")
        return v


class BucketResource(dg.ConfigurableResource):
    aws: AwsResource

    def _desired_encryption(self, cfg: InfraSettings) -> dict[str, Any]:
        rule: dict[str, Any] = {"SSEAlgorithm": "AES256"}
        if cfg.sse_kms_key_id:
            rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cfg.sse_kms_key_id}
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(cfg.sse_kms_key_id)}]}

    def _exists(self, s3: Any, bucket: str) -> bool:
        try:
            s3.head_bucket(Bucket=bucket)
            return True
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def _diff(self, s3: Any, n: InfraNames, cfg: InfraSettings) -> list[tuple[str, Any]]:
        """Settings that differ from the desired state, as (what, desired)."""
        out: list[tuple[str, Any]] = []
        try:
            current = s3.get_bucket_encryption(Bucket=n.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
            current_rule = current["ApplyServerSideEncryptionByDefault"]
        except ClientError:
            current_rule = {}
        desired = self._desired_encryption(cfg)
        if (
            current_rule.get("SSEAlgorithm")
            != desired["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        ):
            out.append(("encryption", desired))
        block = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
        try:
            current_block = s3.get_public_access_block(Bucket=n.bucket)["PublicAccessBlockConfiguration"]
        except ClientError:
            current_block = {}
        if current_block != block:
            out.append(("public_access_block", block))
        if cfg.versioning and s3.get_bucket_versioning(Bucket=n.bucket).get("Status") != "Enabled":
            out.append(("versioning", {"Status": "Enabled"}))
        if cfg.raw_expiration_days:
            rules = [
                {
                    "ID": "expire-raw",
                    "Status": "Enabled",
                    "Filter": {"Prefix": n.raw_prefix},
                    "Expiration": {"Days": cfg.raw_expiration_days},
                }
            ]
            try:
                current_rules = s3.get_bucket_lifecycle_configuration(Bucket=n.bucket)["Rules"]
            except ClientError:
                current_rules = []
            if [(r.get("ID"), r.get("Expiration")) for r in current_rules] != [("expire-raw", rules[0]["Expiration"])]:
                out.append(("lifecycle", {"Rules": rules}))
        try:
            current_tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=n.bucket)["TagSet"]}
        except ClientError:
            current_tags = {}
        if current_tags != n.tags:
            out.append(("tags", {"TagSet": n.tag_list()}))
        return out

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        s3 = self.aws.client("s3")
        if not self._exists(s3, n.bucket):
            return [Change("s3-bucket", n.bucket, "create", "SSE, public access block, tags")]
        diff = self._diff(s3, n, cfg)
        return [Change("s3-bucket", n.bucket, "update" if diff else "exists", ", ".join(d for d, _ in diff))]

    def ensure(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        s3 = self.aws.client("s3")
        action = "exists"
        if not self._exists(s3, n.bucket):
            kwargs: dict[str, Any] = {"Bucket": n.bucket}
            if n.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": n.region}
            s3.create_bucket(**kwargs)
            action = "create"
        diff = self._diff(s3, n, cfg)
        apply = {
            "encryption": lambda v: s3.put_bucket_encryption(Bucket=n.bucket, ServerSideEncryptionConfiguration=v),
            "public_access_block": lambda v: s3.put_public_access_block(
                Bucket=n.bucket, PublicAccessBlockConfiguration=v
            ),
            "versioning": lambda v: s3.put_bucket_versioning(Bucket=n.bucket, VersioningConfiguration=v),
            "lifecycle": lambda v: s3.put_bucket_lifecycle_configuration(Bucket=n.bucket, LifecycleConfiguration=v),
            "tags": lambda v: s3.put_bucket_tagging(Bucket=n.bucket, Tagging=v),
        }
        for what, desired in diff:
            apply[what](desired)
        if diff and action == "exists":
            action = "update"
        return [Change("s3-bucket", n.bucket, action, ", ".join(d for d, _ in diff))]

    def teardown(self, n: InfraNames, delete_data: bool) -> list[Change]:
        s3 = self.aws.client("s3")
        if not self._exists(s3, n.bucket):
            return [Change("s3-bucket", n.bucket, "absent")]
        if not delete_data:
            return [Change("s3-bucket", n.bucket, "kept", "delete_data is false: the data stays")]
        deleted = 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=n.bucket):
            items = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for start in range(0, len(items), 1000):
                s3.delete_objects(Bucket=n.bucket, Delete={"Objects": items[start : start + 1000]})
            deleted += len(items)
        s3.delete_bucket(Bucket=n.bucket)
        _wait(lambda: not self._exists(s3, n.bucket), f"bucket {n.bucket} deletion")
        return [Change("s3-bucket", n.bucket, "delete", f"{deleted} object versions removed")]

    def describe(self, n: InfraNames) -> dict[str, Any]:
        s3 = self.aws.client("s3")
        return {"exists": self._exists(s3, n.bucket), "arn": f"arn:aws:s3:::{n.bucket}"}


class LogsResource(dg.ConfigurableResource):
    aws: AwsResource

    def _group(self, logs: Any, n: InfraNames) -> dict[str, Any] | None:
        groups = logs.describe_log_groups(logGroupNamePrefix=n.log_group).get("logGroups", [])
        return next((g for g in groups if g["logGroupName"] == n.log_group), None)

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        group = self._group(self.aws.client("logs"), n)
        if group is None:
            return [Change("log-group", n.log_group, "create", f"retention {cfg.log_retention_days} d")]
        same = group.get("retentionInDays") == cfg.log_retention_days
        return [Change("log-group", n.log_group, "exists" if same else "update", "" if same else "retention")]

    def ensure(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        logs = self.aws.client("logs")
        group = self._group(logs, n)
        action = "exists"
        if group is None:
            logs.create_log_group(logGroupName=n.log_group, tags=n.tags)
            action = "create"
        if group is None or group.get("retentionInDays") != cfg.log_retention_days:
            logs.put_retention_policy(logGroupName=n.log_group, retentionInDays=cfg.log_retention_days)
            action = "create" if group is None else "update"
        streams = logs.describe_log_streams(logGroupName=n.log_group, logStreamNamePrefix=n.log_stream)
        if not any(s["logStreamName"] == n.log_stream for s in streams.get("logStreams", [])):
            logs.create_log_stream(logGroupName=n.log_group, logStreamName=n.log_stream)
        return [Change("log-group", n.log_group, action, f"stream {n.log_stream}")]

    def teardown(self, n: InfraNames) -> list[Change]:
        logs = self.aws.client("logs")
        if self._group(logs, n) is None:
            return [Change("log-group", n.log_group, "absent")]
        logs.delete_log_group(logGroupName=n.log_group)
        return [Change("log-group", n.log_group, "delete")]

    def describe(self, n: InfraNames) -> dict[str, Any]:
        group = self._group(self.aws.client("logs"), n)
        return {"exists": group is not None, "arn": group.get("arn") if group else None}


class IamResource(dg.ConfigurableResource):
    aws: AwsResource

    def account(self) -> str:
        return self.aws.client("sts").get_caller_identity()["Account"]

    def _role(self, iam: Any, name: str) -> dict[str, Any] | None:
        try:
            return iam.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise

    def _inline(self, iam: Any, role: str, policy: str) -> dict[str, Any] | None:
        try:
            document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        except ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise
        return json.loads(document) if isinstance(document, str) else document

    def _roles(self, n: InfraNames) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
        account = self.account()
        return [
            (
                n.firehose_role,
                policies.firehose_trust(),
                "firehose-delivery",
                policies.firehose_delivery_policy(n, account),
            ),
            (n.streamer_role, policies.ec2_trust(), "streamer", policies.streamer_policy(n, account)),
        ]

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        iam = self.aws.client("iam")
        out = []
        for role, _, policy, document in self._roles(n):
            if self._role(iam, role) is None:
                out.append(Change("iam-role", role, "create", f"inline policy {policy}"))
            else:
                same = self._inline(iam, role, policy) == document
                out.append(Change("iam-role", role, "exists" if same else "update", "" if same else "policy"))
        return out

    def ensure(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        iam = self.aws.client("iam")
        out = []
        for role, trust, policy, document in self._roles(n):
            action = "exists"
            if self._role(iam, role) is None:
                iam.create_role(
                    RoleName=role,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    Path="/",
                    MaxSessionDuration=3600,
                    Tags=n.tag_list(),
                )
                action = "create"
            if self._inline(iam, role, policy) != document:
                iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
                action = "create" if action == "create" else "update"
            out.append(Change("iam-role", role, action, f"policy {policy}"))
        attached = iam.list_attached_role_policies(RoleName=n.streamer_role)["AttachedPolicies"]
        if not any(p["PolicyArn"] == policies.SSM_MANAGED_POLICY for p in attached):
            iam.attach_role_policy(RoleName=n.streamer_role, PolicyArn=policies.SSM_MANAGED_POLICY)
        try:
            profile = iam.get_instance_profile(InstanceProfileName=n.streamer_role)["InstanceProfile"]
            action = "exists"
        except ClientError:
            profile = iam.create_instance_profile(InstanceProfileName=n.streamer_role, Tags=n.tag_list())[
                "InstanceProfile"
            ]
            action = "create"
        if not any(r["RoleName"] == n.streamer_role for r in profile.get("Roles", [])):
            iam.add_role_to_instance_profile(InstanceProfileName=n.streamer_role, RoleName=n.streamer_role)
        out.append(Change("instance-profile", n.streamer_role, action))
        return out

    def teardown(self, n: InfraNames) -> list[Change]:
        iam = self.aws.client("iam")
        out = []
        try:
            profile = iam.get_instance_profile(InstanceProfileName=n.streamer_role)["InstanceProfile"]
            for role in profile.get("Roles", []):
                iam.remove_role_from_instance_profile(InstanceProfileName=n.streamer_role, RoleName=role["RoleName"])
            iam.delete_instance_profile(InstanceProfileName=n.streamer_role)
            out.append(Change("instance-profile", n.streamer_role, "delete"))
        except ClientError:
            out.append(Change("instance-profile", n.streamer_role, "absent"))
        for role, _, _, _ in self._roles(n):
            if self._role(iam, role) is None:
                out.append(Change("iam-role", role, "absent"))
                continue
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role, PolicyName=name)
            for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=role)
            out.append(Change("iam-role", role, "delete"))
        return out

    def describe(self, n: InfraNames) -> dict[str, Any]:
        iam = self.aws.client("iam")
        return {
            role: (r or {}).get("Arn") for role in (n.firehose_role, n.streamer_role) for r in [self._role(iam, role)]
        }


class FirehoseResource(dg.ConfigurableResource):
    aws: AwsResource

    def _describe(self, fh: Any, n: InfraNames) -> dict[str, Any] | None:
        try:
            return fh.describe_delivery_stream(DeliveryStreamName=n.firehose_stream)["DeliveryStreamDescription"]
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise

    @staticmethod
    def _hints(cfg: InfraSettings) -> dict[str, int]:
        return {"SizeInMBs": cfg.buffer_size_mb, "IntervalInSeconds": cfg.buffer_interval_s}

    def _current_hints(self, desc: dict[str, Any]) -> dict[str, int]:
        dest = desc["Destinations"][0]
        s3 = dest.get("ExtendedS3DestinationDescription") or dest.get("S3DestinationDescription") or {}
        return s3.get("BufferingHints", {})

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        desc = self._describe(self.aws.client("firehose"), n)
        if desc is None:
            return [Change("firehose", n.firehose_stream, "create", f"buffer {self._hints(cfg)}")]
        same = self._current_hints(desc) == self._hints(cfg)
        return [Change("firehose", n.firehose_stream, "exists" if same else "update", "" if same else "buffering")]

    def ensure(self, n: InfraNames, cfg: InfraSettings, role_arn: str) -> list[Change]:
        fh = self.aws.client("firehose")
        desc = self._describe(fh, n)
        if desc is None:
            fh.create_delivery_stream(
                DeliveryStreamName=n.firehose_stream,
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": role_arn,
                    "BucketARN": f"arn:aws:s3:::{n.bucket}",
                    # Without expressions Firehose appends the UTC hour: <prefix>YYYY/MM/DD/HH/.
                    "Prefix": n.raw_prefix,
                    "ErrorOutputPrefix": "errors/",
                    "BufferingHints": self._hints(cfg),
                    "CompressionFormat": "UNCOMPRESSED",
                    "CloudWatchLoggingOptions": {
                        "Enabled": True,
                        "LogGroupName": n.log_group,
                        "LogStreamName": n.log_stream,
                    },
                },
                Tags=n.tag_list(),
            )
            action = "create"
        elif self._current_hints(desc) != self._hints(cfg):
            fh.update_destination(
                DeliveryStreamName=n.firehose_stream,
                CurrentDeliveryStreamVersionId=desc["VersionId"],
                DestinationId=desc["Destinations"][0]["DestinationId"],
                ExtendedS3DestinationUpdate={"BufferingHints": self._hints(cfg)},
            )
            action = "update"
        else:
            action = "exists"
        _wait(
            lambda: (self._describe(fh, n) or {}).get("DeliveryStreamStatus") == "ACTIVE",
            f"firehose {n.firehose_stream} ACTIVE",
        )
        return [Change("firehose", n.firehose_stream, action, "ACTIVE")]

    def teardown(self, n: InfraNames) -> list[Change]:
        fh = self.aws.client("firehose")
        if self._describe(fh, n) is None:
            return [Change("firehose", n.firehose_stream, "absent")]
        fh.delete_delivery_stream(DeliveryStreamName=n.firehose_stream, AllowForceDelete=False)
        _wait(lambda: self._describe(fh, n) is None, f"firehose {n.firehose_stream} deletion")
        return [Change("firehose", n.firehose_stream, "delete")]

    def describe(self, n: InfraNames) -> dict[str, Any]:
        desc = self._describe(self.aws.client("firehose"), n)
        return {
            "exists": desc is not None,
            "arn": (desc or {}).get("DeliveryStreamARN"),
            "status": (desc or {}).get("DeliveryStreamStatus"),
        }


class SsmResource(dg.ConfigurableResource):
    """The X bearer token as a SecureString, written from an environment variable and never echoed."""

    aws: AwsResource
    token: str | None = None  # bound from dg.EnvVar("TWEET_TOPICS_X_BEARER_TOKEN"); never logged

    def _current(self, ssm: Any, n: InfraNames) -> str | None:
        try:
            return ssm.get_parameter(Name=n.bearer_parameter, WithDecryption=True)["Parameter"]["Value"]
        except ClientError as exc:
            if _code(exc) == "ParameterNotFound":
                return None
            raise

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        if not self.token:
            return [Change("ssm-parameter", n.bearer_parameter, "skip", "TWEET_TOPICS_X_BEARER_TOKEN not set")]
        current = self._current(self.aws.client("ssm"), n)
        action = "create" if current is None else ("exists" if current == self.token else "update")
        return [Change("ssm-parameter", n.bearer_parameter, action, "SecureString")]

    def ensure(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        if not self.token:
            return self.plan(n, cfg)
        ssm = self.aws.client("ssm")
        current = self._current(ssm, n)
        if current == self.token:
            return [Change("ssm-parameter", n.bearer_parameter, "exists", "SecureString")]
        ssm.put_parameter(
            Name=n.bearer_parameter,
            Value=self.token,
            Type="SecureString",
            Overwrite=True,
            Description="X API bearer token for the tweet_topics streamer",
        )
        if current is None:
            ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=n.bearer_parameter, Tags=n.tag_list())
        return [Change("ssm-parameter", n.bearer_parameter, "create" if current is None else "update", "SecureString")]

    def teardown(self, n: InfraNames) -> list[Change]:
        ssm = self.aws.client("ssm")
        try:
            ssm.delete_parameter(Name=n.bearer_parameter)
        except ClientError:
            return [Change("ssm-parameter", n.bearer_parameter, "absent")]
        return [Change("ssm-parameter", n.bearer_parameter, "delete")]


class Ec2Resource(dg.ConfigurableResource):
    """The streamer's security group (no inbound rules, egress 443 only) and, optionally, its instance."""

    aws: AwsResource
    ami_parameter: str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

    def _vpc(self, ec2: Any) -> str:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise RuntimeError("no default VPC in this region: create one or extend Ec2Resource with a vpc_id")
        return vpcs[0]["VpcId"]

    def _group(self, ec2: Any, n: InfraNames) -> dict[str, Any] | None:
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [n.security_group]}])
        return next(iter(groups["SecurityGroups"]), None)

    def instances(self, n: InfraNames) -> list[dict[str, Any]]:
        ec2 = self.aws.client("ec2")
        found = ec2.describe_instances(
            Filters=[
                {"Name": "tag:Name", "Values": [n.instance_name]},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
            ]
        )
        return [i for r in found["Reservations"] for i in r["Instances"]]

    def plan(self, n: InfraNames, cfg: InfraSettings) -> list[Change]:
        ec2 = self.aws.client("ec2")
        out = [
            Change(
                "security-group",
                n.security_group,
                "exists" if self._group(ec2, n) else "create",
                "no ingress, egress 443",
            )
        ]
        if cfg.create_instance:
            out.append(
                Change("ec2-instance", n.instance_name, "exists" if self.instances(n) else "create", cfg.instance_type)
            )
        return out

    def ensure(self, n: InfraNames, cfg: InfraSettings, user_data: str) -> list[Change]:
        ec2 = self.aws.client("ec2")
        group = self._group(ec2, n)
        out = []
        if group is None:
            group_id = ec2.create_security_group(
                GroupName=n.security_group,
                Description="tweet_topics streamer: no inbound, HTTPS out",
                VpcId=self._vpc(ec2),
                TagSpecifications=[{"ResourceType": "security-group", "Tags": n.tag_list()}],
            )["GroupId"]
            out.append(Change("security-group", n.security_group, "create", group_id))
            group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        else:
            out.append(Change("security-group", n.security_group, "exists", group["GroupId"]))
        https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        egress = group.get("IpPermissionsEgress", [])
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
        wide = [p for p in egress if p.get("IpProtocol") == "-1"]
        if wide:
            ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=wide)
        if not any(p.get("FromPort") == 443 and p.get("IpProtocol") == "tcp" for p in egress):
            ec2.authorize_security_group_egress(GroupId=group["GroupId"], IpPermissions=[https])
        if cfg.create_instance:
            existing = self.instances(n)
            if existing:
                out.append(Change("ec2-instance", n.instance_name, "exists", existing[0]["InstanceId"]))
            else:
                ami = self.aws.client("ssm").get_parameter(Name=self.ami_parameter)["Parameter"]["Value"]
                kwargs: dict[str, Any] = {}
                if cfg.ssh_key_name:
                    kwargs["KeyName"] = cfg.ssh_key_name
                instance = ec2.run_instances(
                    ImageId=ami,
                    InstanceType=cfg.instance_type,
                    MinCount=1,
                    MaxCount=1,
                    IamInstanceProfile={"Name": n.streamer_role},
                    SecurityGroupIds=[group["GroupId"]],
                    UserData=user_data,
                    MetadataOptions={"HttpTokens": "required"},
                    TagSpecifications=[
                        {"ResourceType": "instance", "Tags": [*n.tag_list(), {"Key": "Name", "Value": n.instance_name}]}
                    ],
                    **kwargs,
                )["Instances"][0]
                out.append(Change("ec2-instance", n.instance_name, "create", instance["InstanceId"]))
        return out

    def teardown(self, n: InfraNames) -> list[Change]:
        ec2 = self.aws.client("ec2")
        out = []
        ids = [i["InstanceId"] for i in self.instances(n)]
        if ids:
            ec2.terminate_instances(InstanceIds=ids)
            ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
            out.append(Change("ec2-instance", n.instance_name, "delete", ",".join(ids)))
        group = self._group(ec2, n)
        if group:
            ec2.delete_security_group(GroupId=group["GroupId"])
            out.append(Change("security-group", n.security_group, "delete"))
        else:
            out.append(Change("security-group", n.security_group, "absent"))
        return out

    def describe(self, n: InfraNames) -> dict[str, Any]:
        group = self._group(self.aws.client("ec2"), n)
        return {
            "security_group": (group or {}).get("GroupId"),
            "ingress_rules": len((group or {}).get("IpPermissions", [])),
            "instances": [(i["InstanceId"], i["State"]["Name"]) for i in self.instances(n)],
        }


def render_user_data(n: InfraNames, package_spec: str = "tweet_topics") -> str:
    """EC2 user-data from deploy/ec2-user-data.sh (shared with deploy/, not duplicated)."""
    template = USER_DATA_TEMPLATE.read_text()
    unit = (USER_DATA_TEMPLATE.parent / "tweet-topics-streamer.service").read_text().strip()
    return (
        template.replace("{{SYSTEMD_UNIT}}", unit)
        .replace("{{PACKAGE}}", package_spec)
        .replace("{{REGION}}", n.region)
        .replace("{{BUCKET}}", n.bucket)
        .replace("{{STREAM}}", n.firehose_stream)
        .replace("{{BEARER_PARAMETER}}", n.bearer_parameter)
        .replace("{{ENV}}", n.env)
    )
