"""IAM policy documents, least privilege: every statement is scoped to one bucket/prefix, stream, group or
parameter. The only ``*`` resources are those AWS requires (noted inline)."""

from typing import Any

from tweet_topics.defs.infra.names import InfraNames


def _arn(service: str, names: InfraNames, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{names.region}:{account}:{resource}"


def firehose_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


def ec2_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def firehose_delivery_policy(names: InfraNames, account: str) -> dict[str, Any]:
    """What Firehose needs to write the raw prefix and log delivery errors; no Kinesis Data Streams actions."""
    bucket = f"arn:aws:s3:::{names.bucket}"
    return {
        "Version": "2012-10-17",
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
                "Resource": [f"{bucket}/{names.raw_prefix}*", f"{bucket}/errors/*"],
            },
            {
                "Sid": "DeliveryErrorLogs",
                "Effect": "Allow",
                "Action": ["logs:PutLogEvents"],
                "Resource": _arn("logs", names, account, f"log-group:{names.log_group}:log-stream:{names.log_stream}"),
            },
        ],
    }


def streamer_policy(names: InfraNames, account: str) -> dict[str, Any]:
    """The EC2 streamer: put to its one stream, write its heartbeat prefix, read its one parameter."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutToDeliveryStream",
                "Effect": "Allow",
                "Action": ["firehose:PutRecordBatch"],
                "Resource": _arn("firehose", names, account, f"deliverystream/{names.firehose_stream}"),
            },
            {
                "Sid": "Heartbeat",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": f"arn:aws:s3:::{names.bucket}/{names.streamer_prefix}*",
            },
            {
                "Sid": "BearerToken",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": _arn("ssm", names, account, f"parameter{names.bearer_parameter}"),
            },
            # kms:Decrypt for the SecureString uses the AWS-managed aws/ssm key, restricted to SSM via a condition.
            {
                "Sid": "DecryptParameter",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": _arn("kms", names, account, "alias/aws/ssm"),
                "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{names.region}.amazonaws.com"}},
            },
        ],
    }


SSM_MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"  # the SSM agent's own needs
