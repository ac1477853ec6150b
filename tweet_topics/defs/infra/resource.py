"""``InfraResource``: the one Dagster resource behind provisioning. Names come from its ``Deployment`` (built from
``Settings``); its own fields are the provisioning knobs, validated before any AWS call (a bad value names its
field), and settable per run in run config (``resources: infra: config: {create_instance: true, ...}``)."""

from __future__ import annotations

import re
from typing import Any

import dagster as dg
from pydantic import Field, field_validator, model_validator

from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.reconcilers.base import Change
from tweet_topics.defs.infra.reconcilers.bucket import BucketReconciler
from tweet_topics.defs.infra.reconcilers.ec2 import Ec2Reconciler, LiveEc2Reconciler
from tweet_topics.defs.infra.reconcilers.firehose import FirehoseReconciler
from tweet_topics.defs.infra.reconcilers.iam import IamReconciler
from tweet_topics.defs.infra.reconcilers.logs import LogsReconciler
from tweet_topics.defs.infra.reconcilers.sns import SnsReconciler
from tweet_topics.defs.infra.reconcilers.ssm import SsmReconciler
from tweet_topics.defs.infra.userdata import classify, render_live_user_data, render_user_data, validate_package_spec
from tweet_topics.storage.s3 import AwsResource

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922)
LOG_RETENTION_DAYS += (3288, 3653)
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]+$")


class InfraResource(dg.ConfigurableResource):
    """Provisioning: six reconcilers (bucket, logs, iam, firehose, ssm, ec2) over one set of names and knobs."""

    aws: AwsResource
    deployment: Deployment
    buffer_size_mb: int = Field(5, description="Firehose buffer size, 1-128 MiB")
    buffer_interval_s: int = Field(60, description="Firehose buffer interval, 0-900 s")
    log_retention_days: int = 14
    sse_kms_key_arn: str | None = Field(None, description="customer KMS key ARN (not an alias) for S3, Firehose, SSM")
    require_tls: bool | None = Field(
        None, description="TLS-only bucket policy; default: on, except against a plain-HTTP emulator endpoint"
    )
    versioning: bool = Field(True, description="S3 versioning: an overwritten or deleted raw object can be restored")
    noncurrent_version_days: int = Field(30, ge=1, description="replaced or deleted object versions expire after this")
    raw_expiration_days: int | None = Field(None, description="lifecycle rule that expires raw objects")
    original_expiration_days: int | None = Field(
        None, description="lifecycle rule that expires the original JSON (TWEET_TOPICS_ORIGINAL_EXPIRATION_DAYS)"
    )
    create_instance: bool = Field(False, description="run the EC2 streamer instance (prod)")
    instance_type: str = Field("t3.micro", pattern=r"^[a-z0-9]+\.[a-z0-9]+$")
    subnet_id: str | None = Field(
        None, description="a private subnet with a NAT or VPC endpoints; default VPC if unset"
    )
    associate_public_ip: bool = Field(False, description="only for a public subnet without NAT/VPC endpoints")
    ssh_key_name: str | None = Field(None, description="off by default; SSM Session Manager replaces SSH")
    streamer_package: str | None = Field(
        None,
        description="required with create_instance: a PEP 508 requirement from your index, or an https/s3 URL of "
        "the wheel ending in #sha256=<hex> (the project is not on the public index)",
    )
    create_live_instance: bool = Field(
        False, description="run the live query's own EC2 host (JDK, the tweet-topics-live unit; docs/live.md)"
    )
    live_instance_type: str = Field(
        "m6i.large", pattern=r"^[a-z0-9-]+\.[a-z0-9]+$", description="the live host: >= 8 GiB (4 GiB Spark driver)"
    )
    live_checkpoint: str | None = Field(
        None,
        pattern=r"^(s3a|hdfs)://[A-Za-z0-9_./:@+-]+$",
        description="the live query's checkpoint URI (s3a:// needs hadoop-aws on the host); unset: the host's "
        "state directory, lost with the host",
    )
    permissions_boundary_arn: str | None = Field(None, description="boundary every created role gets")
    adopt_existing: bool = Field(False, description="take over resources with the project's names but not its tags")
    ami_parameter: str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

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

    @field_validator("sse_kms_key_arn")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v and not _KMS_KEY_ARN.fullmatch(v):
            raise ValueError(
                "sse_kms_key_arn must be a key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias"
            )
        return v

    @field_validator("permissions_boundary_arn")
    @classmethod
    def _boundary(cls, v: str | None) -> str | None:
        if v and not _POLICY_ARN.fullmatch(v):
            raise ValueError("permissions_boundary_arn must be an IAM policy ARN")
        return v

    @field_validator("streamer_package")
    @classmethod
    def _package(cls, v: str | None) -> str | None:
        return validate_package_spec(v) if v is not None else None

    @model_validator(mode="after")
    def _instance_needs_package(self) -> InfraResource:
        for knob in ("create_instance", "create_live_instance"):
            if getattr(self, knob) and not self.streamer_package:
                raise ValueError(f"streamer_package is required when {knob} is true (nothing is installed by name)")
        return self

    # The reconcilers, in dependency order.
    @property
    def bucket(self) -> BucketReconciler:
        return BucketReconciler(self)

    @property
    def logs(self) -> LogsReconciler:
        return LogsReconciler(self)

    @property
    def iam(self) -> IamReconciler:
        return IamReconciler(self)

    @property
    def firehose(self) -> FirehoseReconciler:
        return FirehoseReconciler(self)

    @property
    def ssm(self) -> SsmReconciler:
        return SsmReconciler(self)

    @property
    def ec2(self) -> Ec2Reconciler:
        return Ec2Reconciler(self)

    @property
    def live_ec2(self) -> LiveEc2Reconciler:
        """The live query's host: after the streamer's EC2 (it uses that security group), torn down before it."""
        return LiveEc2Reconciler(self)

    @property
    def alerts(self) -> SnsReconciler:
        """The alert topic (issue 24): independent of the others, so it is planned, ensured and torn down last."""
        return SnsReconciler(self)

    def tls_only(self) -> bool:
        """Whether the bucket gets the TLS-only policy: a plain-HTTP emulator (moto) would be locked out by it."""
        if self.require_tls is not None:
            return self.require_tls
        endpoint = self.aws.endpoint()
        return not (endpoint and endpoint.startswith("http://"))

    def package_object(self) -> str | None:
        """The s3:// URL of the streamer wheel when user-data downloads it from S3 (the role may read that one)."""
        artifact = classify(self.streamer_package) if self.streamer_package else None
        return artifact[0] if artifact and artifact[0].startswith("s3://") else None

    def user_data(self) -> str | None:
        if not self.create_instance or not self.streamer_package:
            return None
        return render_user_data(self.deployment, self.streamer_package)

    def live_user_data(self) -> str | None:
        if not self.create_live_instance or not self.streamer_package:
            return None
        return render_live_user_data(
            self.deployment, self.streamer_package, self.live_checkpoint, self.buffer_interval_s
        )

    def ensure_firehose(self) -> list[Change]:
        role_arn = self.iam.role_arn(self.deployment.firehose_role)
        if role_arn is None:
            raise RuntimeError(f"role {self.deployment.firehose_role} is missing: ensure the IAM roles first")
        return self.firehose.ensure(role_arn)

    def plan(self) -> list[Change]:
        """Read-only: describe/get/list calls only."""
        order = (self.bucket, self.logs, self.iam, self.firehose, self.ssm, self.ec2, self.live_ec2, self.alerts)
        return [c for r in order for c in r.plan()]

    def teardown(self, delete_data: bool) -> list[Change]:
        """Reverse dependency order, waiting for each deletion; only what carries the project's tags goes."""
        order = (self.alerts, self.live_ec2, self.ec2, self.ssm, self.firehose, self.iam, self.logs, self.bucket)
        return [c for r in order for c in r.teardown(delete_data)]

    def describe(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket.describe(),
            "log_group": self.logs.describe(),
            "roles": self.iam.describe(),
            "firehose": self.firehose.describe(),
            "ec2": self.ec2.describe(),
            "live_ec2": self.live_ec2.describe()["instances"],
            "alert_topic": self.alerts.describe(),
        }
