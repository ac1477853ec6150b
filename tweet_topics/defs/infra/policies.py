"""IAM documents the project writes at runtime, least privilege: every statement names one bucket/prefix, stream,
log stream, parameter or key. KMS grants appear only when a customer key is configured (an AWS-managed key such as
``aws/ssm`` is usable through its service without any IAM grant, and a grant on an alias ARN has no effect)."""

from __future__ import annotations

from typing import Any

from tweet_topics.defs.infra.deployment import Deployment

SSM_MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"  # the SSM agent's own needs
VERSION = "2012-10-17"


def _arn(service: str, d: Deployment, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{d.region}:{account}:{resource}"


def trust(service: str) -> dict[str, Any]:
    """Only the AWS service (firehose.amazonaws.com, ec2.amazonaws.com) may assume the role."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def kms_statements(key_arn: str | None, via: list[str], actions: list[str]) -> list[dict[str, Any]]:
    """Use of a customer key, only through the named services (kms:ViaService)."""
    if not key_arn:
        return []
    return [
        {
            "Sid": "UseKeyViaService",
            "Effect": "Allow",
            "Action": actions,
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": via}},
        }
    ]


def firehose_delivery_policy(d: Deployment, account: str, kms_key_arn: str | None = None) -> dict[str, Any]:
    """What Firehose needs to write the raw prefix and log delivery errors; no Kinesis Data Streams actions."""
    bucket = f"arn:aws:s3:::{d.bucket}"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "BucketLevel",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": bucket,
            },
            {
                "Sid": "WriteRawPrefix",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                "Resource": [f"{bucket}/{d.raw_prefix}*", f"{bucket}/errors/*"],
            },
            {
                "Sid": "DeliveryErrorLogs",
                "Effect": "Allow",
                "Action": ["logs:PutLogEvents"],
                "Resource": _arn("logs", d, account, f"log-group:{d.log_group}:log-stream:{d.log_stream}"),
            },
            *kms_statements(kms_key_arn, [f"s3.{d.region}.amazonaws.com"], ["kms:GenerateDataKey", "kms:Decrypt"]),
        ],
    }


def streamer_policy(
    d: Deployment, account: str, kms_key_arn: str | None = None, package_object: str | None = None
) -> dict[str, Any]:
    """The EC2 streamer: put to its one stream, write its heartbeat prefix, read its one parameter."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PutToDeliveryStream",
            "Effect": "Allow",
            # DescribeDeliveryStream: the start-up check (exists and ACTIVE) before anything is received.
            "Action": ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"],
            "Resource": _arn("firehose", d, account, f"deliverystream/{d.firehose_stream}"),
        },
        {
            "Sid": "Heartbeat",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": f"arn:aws:s3:::{d.bucket}/{d.streamer_prefix}*",
        },
        {
            "Sid": "BearerToken",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": _arn("ssm", d, account, f"parameter{d.bearer_parameter}"),
        },
        *kms_statements(
            kms_key_arn,
            [f"s3.{d.region}.amazonaws.com", f"ssm.{d.region}.amazonaws.com"],
            ["kms:GenerateDataKey", "kms:Decrypt"],
        ),
    ]
    if package_object:  # s3://bucket/key of the pinned wheel the user-data downloads at boot
        bucket, _, key = package_object.removeprefix("s3://").partition("/")
        statements.append(
            {
                "Sid": "PackageArtifact",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{bucket}/{key}",
            }
        )
    return {"Version": VERSION, "Statement": statements}


def live_policy(
    d: Deployment, account: str, kms_key_arn: str | None = None, package_object: str | None = None
) -> dict[str, Any]:
    """The live query's host: read raw objects and model versions, read/write/expire its own prefix (results,
    quarantine, heartbeat, page, an in-bucket checkpoint). Nothing else: no Firehose, no parameters, no other prefix.
    ListBucket is bucket-wide: HEAD of a missing key answers 404 (not 403) only with it, and HEAD carries no
    ``s3:prefix`` to condition on; it lists names, never contents."""
    bucket = f"arn:aws:s3:::{d.bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "ListTheBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket},
        {
            "Sid": "ReadRawAndModels",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket}/{d.raw_prefix}*", f"{bucket}/{d.models_prefix}*"],
        },
        {
            "Sid": "WriteLivePrefix",
            "Effect": "Allow",
            # DeleteObject: results expire after TWEET_TOPICS_LIVE_RETENTION_DAYS; an S3A checkpoint rewrites files.
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket}/{d.live_prefix}*",
        },
        *kms_statements(kms_key_arn, [f"s3.{d.region}.amazonaws.com"], ["kms:GenerateDataKey", "kms:Decrypt"]),
    ]
    if package_object:  # the pinned wheel the host installs, as for the streamer
        artifact_bucket, _, key = package_object.removeprefix("s3://").partition("/")
        statements.append(
            {
                "Sid": "PackageArtifact",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{artifact_bucket}/{key}",
            }
        )
    return {"Version": VERSION, "Statement": statements}


def bucket_policy(d: Deployment) -> dict[str, Any]:
    """TLS only: any request over plain HTTP is denied, whoever makes it."""
    bucket = f"arn:aws:s3:::{d.bucket}"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket, f"{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def control_document(unit: str) -> dict[str, Any]:
    """The SSM Command document the operator may run on project instances: one systemctl verb, from a fixed list."""
    return {
        "schemaVersion": "2.2",
        "description": f"tweet_topics: systemctl start|stop|restart|status {unit}",
        "parameters": {
            "action": {"type": "String", "allowedValues": ["start", "stop", "restart", "status"]},
        },
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": "systemctl",
                "inputs": {
                    "runCommand": [
                        'if [ "{{ action }}" = status ]; then systemctl status --no-pager ' + unit + " || true; "
                        "else systemctl {{ action }} " + unit + "; fi"
                    ],
                    "timeoutSeconds": "120",
                },
            }
        ],
    }
