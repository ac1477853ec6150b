"""infra_state: what exists in AWS right now (names, ARNs, status), as metadata on the asset page."""

import dagster as dg

from tweet_topics.defs.infra.aws_resources import (
    BucketResource,
    Ec2Resource,
    FirehoseResource,
    IamResource,
    LogsResource,
)
from tweet_topics.defs.infra.names import InfraNames
from tweet_topics.settings import get_settings


@dg.asset(group_name="infra", kinds={"aws"})
def infra_state(
    bucket: BucketResource, logs: LogsResource, iam: IamResource, firehose: FirehoseResource, ec2: Ec2Resource
) -> dg.MaterializeResult:
    """A read-only snapshot: describe calls only. Materialize it after provision/teardown, or on a schedule."""
    names = InfraNames.from_settings(get_settings())
    state = {
        "bucket": bucket.describe(names),
        "log_group": logs.describe(names),
        "roles": iam.describe(names),
        "firehose": firehose.describe(names),
        "ec2": ec2.describe(names),
    }
    complete = state["bucket"]["exists"] and state["firehose"]["exists"] and state["log_group"]["exists"]
    rows = [
        ("s3 bucket", names.bucket, state["bucket"]["arn"] if state["bucket"]["exists"] else "absent"),
        ("log group", names.log_group, state["log_group"]["arn"] or "absent"),
        (
            "firehose",
            names.firehose_stream,
            f"{state['firehose']['arn']} ({state['firehose']['status']})" if state["firehose"]["exists"] else "absent",
        ),
        *[("iam role", role, arn or "absent") for role, arn in state["roles"].items()],
        (
            "security group",
            names.security_group,
            f"{state['ec2']['security_group']} ({state['ec2']['ingress_rules']} inbound rules)"
            if state["ec2"]["security_group"]
            else "absent",
        ),
        ("ec2 instances", names.instance_name, ", ".join(f"{i} {s}" for i, s in state["ec2"]["instances"]) or "none"),
    ]
    table = "| resource | name | ARN / status |\n|---|---|---|\n" + "\n".join(
        f"| {a} | {b} | {c} |" for a, b, c in rows
    )
    return dg.MaterializeResult(
        metadata={
            "provisioned": bool(complete),
            "resources": dg.MetadataValue.md(table),
            "state": dg.MetadataValue.json(state),
        }
    )
