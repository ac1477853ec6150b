"""infra_state: what exists in AWS right now (names, ARNs, status), as metadata on the asset page."""

import dagster as dg

from tweet_topics.defs.infra.resource import InfraResource


@dg.asset(group_name="infra", kinds={"aws"})
def infra_state(infra: InfraResource) -> dg.MaterializeResult:
    """A read-only snapshot: describe calls only. Materialize it after provision/teardown, or on a schedule."""
    d = infra.deployment
    state = infra.describe()
    complete = state["bucket"]["exists"] and state["firehose"]["exists"] and state["log_group"]["exists"]
    firehose, ec2 = state["firehose"], state["ec2"]
    rows = [
        ("s3 bucket", d.bucket, state["bucket"]["arn"] if state["bucket"]["exists"] else "absent"),
        ("log group", d.log_group, state["log_group"]["arn"] or "absent"),
        (
            "firehose",
            d.firehose_stream,
            f"{firehose['arn']} ({firehose['status']})" if firehose["exists"] else "absent",
        ),
        *[("iam role", role, arn or "absent") for role, arn in state["roles"].items()],
        (
            "security group",
            d.security_group,
            f"{ec2['security_group']} ({ec2['ingress_rules']} inbound rules)" if ec2["security_group"] else "absent",
        ),
        ("ec2 instances", d.instance_name, ", ".join(f"{i} {s}" for i, s in ec2["instances"]) or "none"),
    ]
    table = "| resource | name | ARN / status |\n|---|---|---|\n" + "\n".join(
        f"| {a} | {b} | {c} |" for a, b, c in rows
    )
    return dg.MaterializeResult(
        metadata={
            "provisioned": bool(complete),
            "bucket_managed": bool(state["bucket"]["managed"]),
            "resources": dg.MetadataValue.md(table),
            "state": dg.MetadataValue.json(state),
        }
    )
