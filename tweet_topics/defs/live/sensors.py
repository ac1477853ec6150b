"""live_supervisor: keeps the live query in its desired state from its heartbeat, and observes live_topic_shares."""

import time

import dagster as dg

from tweet_topics.automation_defaults import default_sensor_status
from tweet_topics.defs.live.assets import observation
from tweet_topics.defs.live.jobs import restart_live, start_live, stop_live
from tweet_topics.defs.live.resources import LiveHost, LiveState
from tweet_topics.lib.supervisor import Observation, SupervisorCursor, decide
from tweet_topics.storage.catalog import Storage

JOBS = {"start": start_live, "stop": stop_live, "restart": restart_live}
# waiting_for_model is healthy for the supervisor: restarting would not bring a model.
HEALTHY_AS = {"running": "running", "waiting_for_model": "running", "degraded": "degraded", "starting": "running"}


@dg.sensor(jobs=list(JOBS.values()), minimum_interval_seconds=60, default_status=default_sensor_status())
def live_supervisor(
    context: dg.SensorEvaluationContext, live_host: LiveHost, live_state: LiveState, storage: Storage
) -> dg.SensorResult:
    """Desired vs heartbeat (the streamer supervisor's rules, lib/supervisor.py); a stale or stopped heartbeat of a
    process that should run gets a restart run (stop, then start: on EC2 an SSM command, too slow for a tick)."""
    beat = live_state.heartbeat()
    obs = Observation(
        desired=live_state.desired(),
        host_running=bool(live_host.status()["running"]),
        heartbeat_age_s=beat["age_s"] if beat else None,
        heartbeat_state=HEALTHY_AS.get(beat["state"], beat["state"]) if beat else None,
        state_age_s=None,
    )
    now = time.time()
    decision = decide(obs, SupervisorCursor.parse(context.cursor), now, stale_after_s=90.0, settle_s=240.0)
    events = [observation(storage, live_state)]
    if decision.action is None:
        return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor.dump(), asset_events=events)
    job = JOBS[decision.action]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"live-{decision.action}-{int(now)}",
                job_name=job.name,
                tags={"tweet_topics/trigger": "live_supervisor", "tweet_topics/reason": decision.reason[:200]},
            )
        ],
        cursor=decision.cursor.dump(),
        asset_events=events,
    )
