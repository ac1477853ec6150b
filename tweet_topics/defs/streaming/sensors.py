"""streamer_supervisor: keeps the streamer in its desired state (start, stop or restart), with backoff."""

import time
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from tweet_topics.automation_defaults import default_sensor_status
from tweet_topics.defs.streaming.jobs import restart_streamer, start_streamer, stop_streamer
from tweet_topics.defs.streaming.resources import StreamerHost, StreamerState
from tweet_topics.lib.supervisor import Observation, SupervisorCursor, decide

JOBS = {"start": start_streamer, "stop": stop_streamer, "restart": restart_streamer}


class SupervisorSettings(dg.ConfigurableResource):
    stale_after_s: float = 90.0
    settle_s: float = 150.0
    base_backoff_s: float = 60.0
    max_failures: int = 5
    degraded_after_s: float = 600.0  # degraded / disk_full longer than this: restart


def _state_age_s(beat: dict[str, Any] | None) -> float | None:
    """Seconds since the streamer entered its current state (``state_since``), None when it does not say."""
    try:
        since = datetime.fromisoformat(str((beat or {})["state_since"]))
    except (KeyError, ValueError):
        return None
    return max(0.0, (datetime.now(UTC) - since).total_seconds())


@dg.sensor(jobs=list(JOBS.values()), minimum_interval_seconds=60, default_status=default_sensor_status())
def streamer_supervisor(
    context: dg.SensorEvaluationContext,
    streamer_host: StreamerHost,
    streamer_state: StreamerState,
    supervisor: SupervisorSettings,
) -> dg.SensorResult:
    """Compare the desired state with the host and the heartbeat; launch the job that closes the gap."""
    beat = streamer_state.heartbeat()
    obs = Observation(
        desired=streamer_state.desired(),
        host_running=bool(streamer_host.status()["running"]),
        heartbeat_age_s=beat["age_s"] if beat else None,
        heartbeat_state=beat["state"] if beat else None,
        raw_age_s=streamer_state.raw_age_s(),
        state_age_s=_state_age_s(beat),
    )
    now = time.time()
    decision = decide(
        obs,
        SupervisorCursor.parse(context.cursor),
        now,
        stale_after_s=supervisor.stale_after_s,
        settle_s=supervisor.settle_s,
        base_backoff_s=supervisor.base_backoff_s,
        max_failures=supervisor.max_failures,
        degraded_after_s=supervisor.degraded_after_s,
    )
    context.log.info(f"{obs} -> {decision.action or 'no action'}: {decision.reason}")
    if decision.action is None:
        return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor.dump())
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"{decision.action}-{int(now)}",
                job_name=JOBS[decision.action].name,
                tags={
                    "tweet_topics/trigger": "streamer_supervisor",
                    "tweet_topics/streamer_action": decision.action,
                    "tweet_topics/reason": decision.reason[:200],
                },
            )
        ],
        cursor=decision.cursor.dump(),
    )
