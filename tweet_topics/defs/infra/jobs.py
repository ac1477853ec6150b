"""Infrastructure jobs: plan_infra (dry run), provision_infra (idempotent, in dependency order) and
teardown_infra (reverse order; the bucket and its data stay unless delete_data is true). Every op reads names and
knobs from the ``infra`` resource only, so a test or deployment that overrides the resource reaches them."""

import dagster as dg
from pydantic import Field

from tweet_topics.defs.infra.reconcilers.base import UNCHANGED, Change
from tweet_topics.defs.infra.resource import InfraResource

AFTER = {"after": dg.In(dg.Nothing)}


def _report(context: dg.OpExecutionContext, changes: list[Change]) -> list[str]:
    for change in changes:
        context.log.info(str(change))
    return [str(c) for c in changes]


@dg.op(ins=AFTER)
def ensure_bucket(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    return _report(context, infra.bucket.ensure())


@dg.op(ins=AFTER)
def ensure_logs(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    return _report(context, infra.logs.ensure())


@dg.op(ins=AFTER)
def ensure_iam(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    return _report(context, infra.iam.ensure())


@dg.op(ins=AFTER)
def ensure_firehose(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    return _report(context, infra.ensure_firehose())


@dg.op(ins=AFTER)
def ensure_ssm(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    return _report(context, infra.ssm.ensure())


@dg.op(ins=AFTER)
def ensure_ec2(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    """The streamer's security group and instance, then the live query's host (which uses that group)."""
    return _report(context, infra.ec2.ensure(infra.user_data()) + infra.live_ec2.ensure(infra.live_user_data()))


@dg.op(ins=AFTER)
def ensure_alerts(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    """The SNS alert topic and its e-mail subscriptions (issue 24)."""
    return _report(context, infra.alerts.ensure())


@dg.op(ins={"steps": dg.In(list[list[str]])})
def summarize_changes(context: dg.OpExecutionContext, steps: list[list[str]]) -> None:
    changed = [c for step in steps for c in step if not c.split(": ")[-1].startswith(UNCHANGED)]
    context.log.info(
        "no changes: everything already exists as configured"
        if not changed
        else f"{len(changed)} changes: " + "; ".join(changed)
    )


@dg.job(description="Create or update S3, CloudWatch Logs, IAM, Firehose, SSM, EC2 and the SNS alert topic in order.")
def provision_infra() -> None:
    s3 = ensure_bucket()
    logs = ensure_logs(s3)
    iam = ensure_iam(logs)
    firehose = ensure_firehose(iam)
    ssm = ensure_ssm(firehose)
    ec2 = ensure_ec2(ssm)
    alerts = ensure_alerts(ec2)
    summarize_changes([s3, logs, iam, firehose, ssm, ec2, alerts])


@dg.op
def plan_all(context: dg.OpExecutionContext, infra: InfraResource) -> list[str]:
    """Read-only: describe calls only, nothing is created or changed."""
    return _report(context, infra.plan())


@dg.job(description="Dry run: what provision_infra would create or change, without mutating calls.")
def plan_infra() -> None:
    plan_all()


class TeardownConfig(dg.Config):
    delete_data: bool = Field(
        False, description="empty and delete the bucket (a bucket not tagged as ours: only the project's prefixes)"
    )


@dg.op
def teardown_all(context: dg.OpExecutionContext, config: TeardownConfig, infra: InfraResource) -> list[str]:
    """Reverse dependency order, waiting for each deletion; harmless to run twice."""
    return _report(context, infra.teardown(config.delete_data))


@dg.job(description="Delete what provision_infra created; the bucket stays unless delete_data is true.")
def teardown_infra() -> None:
    teardown_all()
