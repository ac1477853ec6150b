"""Infrastructure jobs: plan_infra (dry run), provision_infra (idempotent, in dependency order) and
teardown_infra (reverse order; the bucket and its data stay unless delete_data is true)."""

import dagster as dg
from pydantic import Field

from tweet_topics.defs.infra.aws_resources import (
    BucketResource,
    Change,
    Ec2Resource,
    FirehoseResource,
    IamResource,
    InfraSettings,
    LogsResource,
    SsmResource,
    render_user_data,
)
from tweet_topics.defs.infra.names import InfraNames
from tweet_topics.settings import get_settings

AFTER = {"after": dg.In(dg.Nothing)}


def _names() -> InfraNames:
    return InfraNames.from_settings(get_settings())


def _report(context: dg.OpExecutionContext, changes: list[Change]) -> list[str]:
    for change in changes:
        context.log.info(str(change))
    return [str(c) for c in changes]


@dg.op(ins=AFTER)
def ensure_bucket(context: dg.OpExecutionContext, infra: InfraSettings, bucket: BucketResource) -> list[str]:
    return _report(context, bucket.ensure(_names(), infra))


@dg.op(ins=AFTER)
def ensure_logs(context: dg.OpExecutionContext, infra: InfraSettings, logs: LogsResource) -> list[str]:
    return _report(context, logs.ensure(_names(), infra))


@dg.op(ins=AFTER)
def ensure_iam(context: dg.OpExecutionContext, infra: InfraSettings, iam: IamResource) -> list[str]:
    return _report(context, iam.ensure(_names(), infra))


@dg.op(ins=AFTER)
def ensure_firehose(
    context: dg.OpExecutionContext, infra: InfraSettings, firehose: FirehoseResource, iam: IamResource
) -> list[str]:
    names = _names()
    role_arn = iam.describe(names)[names.firehose_role]
    return _report(context, firehose.ensure(names, infra, role_arn))


@dg.op(ins=AFTER)
def ensure_ssm(context: dg.OpExecutionContext, infra: InfraSettings, ssm: SsmResource) -> list[str]:
    return _report(context, ssm.ensure(_names(), infra))


@dg.op(ins=AFTER)
def ensure_ec2(context: dg.OpExecutionContext, infra: InfraSettings, ec2: Ec2Resource) -> list[str]:
    names = _names()
    return _report(context, ec2.ensure(names, infra, render_user_data(names, infra.streamer_package)))


@dg.op(ins={"steps": dg.In(list[list[str]])})
def summarize_changes(context: dg.OpExecutionContext, steps: list[list[str]]) -> None:
    changed = [c for step in steps for c in step if not c.split(": ")[-1].startswith(("exists", "absent", "skip"))]
    context.log.info(
        "no changes: everything already exists as configured"
        if not changed
        else f"{len(changed)} changes: " + "; ".join(changed)
    )


@dg.job(description="Create or update S3, CloudWatch Logs, IAM, Firehose, SSM and EC2 in dependency order.")
def provision_infra() -> None:
    s3 = ensure_bucket()
    logs = ensure_logs(s3)
    iam = ensure_iam(logs)
    firehose = ensure_firehose(iam)
    ssm = ensure_ssm(firehose)
    ec2 = ensure_ec2(ssm)
    summarize_changes([s3, logs, iam, firehose, ssm, ec2])


@dg.op
def plan_all(
    context: dg.OpExecutionContext,
    infra: InfraSettings,
    bucket: BucketResource,
    logs: LogsResource,
    iam: IamResource,
    firehose: FirehoseResource,
    ssm: SsmResource,
    ec2: Ec2Resource,
) -> list[str]:
    """Read-only: describe calls only, nothing is created or changed."""
    names = _names()
    changes = []
    for resource in (bucket, logs, iam, firehose, ssm, ec2):
        changes += resource.plan(names, infra)
    return _report(context, changes)


@dg.job(description="Dry run: what provision_infra would create or change, without mutating calls.")
def plan_infra() -> None:
    plan_all()


class TeardownConfig(dg.Config):
    delete_data: bool = Field(False, description="also empty (all versions) and delete the bucket")


@dg.op
def teardown_all(
    context: dg.OpExecutionContext,
    config: TeardownConfig,
    bucket: BucketResource,
    logs: LogsResource,
    iam: IamResource,
    firehose: FirehoseResource,
    ssm: SsmResource,
    ec2: Ec2Resource,
) -> list[str]:
    """Reverse dependency order, waiting for each deletion; harmless to run twice."""
    names = _names()
    changes = ec2.teardown(names) + ssm.teardown(names) + firehose.teardown(names) + iam.teardown(names)
    changes += logs.teardown(names) + bucket.teardown(names, config.delete_data)
    return _report(context, changes)


@dg.job(description="Delete what provision_infra created; the bucket stays unless delete_data is true.")
def teardown_infra() -> None:
    teardown_all()
