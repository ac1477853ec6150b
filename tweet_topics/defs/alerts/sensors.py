"""alerts_sensor: failed runs and failed check evaluations leave the UI, published to the SNS alert topic that
provisioning creates (``defs/infra/reconcilers/sns.py``).

Cursor-based over the instance's event log (storage ids of RUN_FAILURE and ASSET_CHECK_EVALUATION events), so each
failure is published once; the first tick starts from now (no flood of history). A failure found while the topic
does not exist is kept (the cursor does not move) until provisioning creates it.
"""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from tweet_topics.automation_defaults import default_sensor_status
from tweet_topics.defs.alerts.messages import Alert, check_alert, run_alert, sns_attributes
from tweet_topics.defs.infra.resource import InfraResource

BATCH = 50  # events read per kind and tick; the rest waits for the next tick


class AlertSettings(dg.ConfigurableResource):
    """From Settings: where links point (TWEET_TOPICS_UI_BASE_URL) and whether WARN failures go out too."""

    ui_base_url: str = "http://127.0.0.1:3000"
    publish_warn: bool = False


def _latest(instance: dg.DagsterInstance) -> dict[str, int]:
    """The newest storage id of each kind: where a first tick starts."""
    runs = instance.fetch_run_status_changes(dg.DagsterEventType.RUN_FAILURE, limit=1).records
    checks = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1
    )
    return {"runs": runs[0].storage_id if runs else 0, "checks": checks[0].storage_id if checks else 0}


def _run_alerts(instance: dg.DagsterInstance, after: int, stem: str, ui: str) -> tuple[list[Alert], int]:
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type=dg.DagsterEventType.RUN_FAILURE, after_storage_id=after),
        limit=BATCH,
        ascending=True,
    ).records
    alerts = []
    for record in records:
        run = instance.get_run_by_id(record.run_id)
        if run is None:
            continue
        steps = instance.all_logs(record.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        errors = [
            (e.dagster_event.step_key or "") + ": " + (e.dagster_event.event_specific_data.error.message or "").strip()
            for e in steps
            if e.dagster_event and e.dagster_event.event_specific_data and e.dagster_event.event_specific_data.error
        ] or [record.event_log_entry.message or "run failed"]
        assets = sorted(k.to_user_string() for k in run.asset_selection or [])
        alerts.append(run_alert(stem, ui, run.run_id, run.job_name, dict(run.tags), assets, errors))
    return alerts, max((r.storage_id for r in records), default=after)


def _check_alerts(
    instance: dg.DagsterInstance, after: int, stem: str, settings: AlertSettings
) -> tuple[list[Alert], int]:
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=BATCH,
        ascending=True,
    )
    wanted = {dg.AssetCheckSeverity.ERROR} | ({dg.AssetCheckSeverity.WARN} if settings.publish_warn else set())
    alerts = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data  # type: ignore[union-attr]
        if evaluation.passed or evaluation.severity not in wanted:
            continue
        details = json.dumps(
            {k: getattr(v, "value", str(v)) for k, v in evaluation.metadata.items()}, default=str, sort_keys=True
        )
        alerts.append(
            check_alert(
                stem,
                settings.ui_base_url,
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                evaluation.severity.value,
                evaluation.partition,
                record.run_id or None,
                (evaluation.description + "\n" if evaluation.description else "") + details,
            )
        )
    return alerts, max((r.storage_id for r in records), default=after)


def publish(sns: Any, topic_arn: str, alerts: list[Alert]) -> None:
    for alert in alerts:
        sns.publish(
            TopicArn=topic_arn,
            Subject=alert.subject,
            Message=alert.body,
            MessageAttributes=sns_attributes(alert.attributes),
        )


@dg.sensor(minimum_interval_seconds=60, default_status=default_sensor_status())
def alerts_sensor(
    context: dg.SensorEvaluationContext, infra: InfraResource, alerting: AlertSettings
) -> dg.SensorResult:
    """Publish every new failed run and failed check (ERROR; WARN if TWEET_TOPICS_ALERT_WARN) to the alert topic."""
    if not context.cursor:
        return dg.SensorResult(
            cursor=json.dumps(_latest(context.instance)), skip_reason="first tick: watching from now"
        )
    cursor = json.loads(context.cursor)
    stem, ui = infra.deployment.stem, alerting.ui_base_url
    run_alerts, runs_after = _run_alerts(context.instance, cursor["runs"], stem, ui)
    check_alerts, checks_after = _check_alerts(context.instance, cursor["checks"], stem, alerting)
    alerts = run_alerts + check_alerts
    if alerts:
        topic = infra.alerts.arn()
        if topic is None:
            context.log.warning(
                f"{len(alerts)} alerts waiting: the alert topic {infra.deployment.alert_topic} does not exist "
                "(run provision_infra)"
            )
            return dg.SensorResult(cursor=context.cursor, skip_reason="alert topic missing")
        publish(infra.aws.client("sns"), topic, alerts)
        context.log.info(f"published {len(alerts)} alerts to {topic}")
    next_cursor = json.dumps({"runs": runs_after, "checks": checks_after})
    return dg.SensorResult(cursor=next_cursor, skip_reason=None if alerts else "no new failures")
