"""Ops and jobs that start, stop and report the live query, and set its desired state (like the streamer's).

Start is confirmed by the live process's own heartbeat (state ``running`` or ``waiting_for_model`` after the
action); when none comes, the run fails with the host status and the log's tail instead of reporting success.
"""

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from tweet_topics.defs.live.assets import observation
from tweet_topics.defs.live.resources import LiveHost, LiveState
from tweet_topics.defs.service_host import bring_down, bring_up
from tweet_topics.storage.catalog import Storage

WHAT = "live query"
CONFIRMING_STATES = ("running", "waiting_for_model", "degraded")


class LiveActionConfig(dg.Config):
    confirm_timeout_s: float = Field(180.0, description="how long to wait for the heartbeat to confirm")


def _bring_up(config: LiveActionConfig, host: LiveHost, state: LiveState, action: str) -> dict[str, Any]:
    message, beat = bring_up(host, state, action, WHAT, CONFIRMING_STATES, config.confirm_timeout_s)
    return {"action": action, "result": message, "state": beat["state"], "pid": beat["pid"]}


@dg.op(tags={"tweet_topics/live_action": "start"})
def start_live_op(
    context: dg.OpExecutionContext, config: LiveActionConfig, live_host: LiveHost, live_state: LiveState
) -> dict[str, Any]:
    result = _bring_up(config, live_host, live_state, "start")
    context.log.info(f"start: {result['result']} (heartbeat: {result['state']})")
    return result


@dg.op(tags={"tweet_topics/live_action": "restart"})
def restart_live_op(
    context: dg.OpExecutionContext, config: LiveActionConfig, live_host: LiveHost, live_state: LiveState
) -> dict[str, Any]:
    """Stop (the running micro-batch finishes), then start from the checkpoint: what live_supervisor asks for when
    the heartbeat went stale."""
    result = _bring_up(config, live_host, live_state, "restart")
    context.log.info(f"restart: {result['result']} (heartbeat: {result['state']})")
    return result


@dg.op(tags={"tweet_topics/live_action": "stop"})
def stop_live_op(
    context: dg.OpExecutionContext, config: LiveActionConfig, live_host: LiveHost, live_state: LiveState
) -> dict[str, Any]:
    """SIGTERM (locally, or systemctl stop on EC2), then wait until the host reports the process gone (on EC2: its
    own "stopped" heartbeat); ``stopped_cleanly``: that heartbeat was written after the stop."""
    down = bring_down(live_host, live_state, WHAT, config.confirm_timeout_s)
    context.log.info(f"stop: {down['result']}")
    return {"action": "stop", "result": down["result"], "stopped_cleanly": down["clean"]}


@dg.op
def live_status_op(
    context: dg.OpExecutionContext, live_host: LiveHost, live_state: LiveState, storage: Storage
) -> dict[str, Any]:
    """Host, heartbeat (state, last committed minute, lag, model version) and where the page is; records an
    observation of ``live_topic_shares``."""
    beat = live_state.heartbeat() or {}
    context.log_event(observation(storage, live_state))
    page = storage.local_path("live") / "live.html"
    status = {
        "desired": live_state.desired(),
        "host": live_host.status(),
        "state": beat.get("state"),
        "heartbeat_age_s": round(beat["age_s"], 1) if beat else None,
        "last_committed_minute": beat.get("last_committed_minute"),
        "lag_s": beat.get("lag_s"),
        "model_version": beat.get("model_version"),
        "model_error": beat.get("model_error"),
        "page": str(page) if page.exists() else live_state.page_url(),
    }
    context.log.info(f"live status: {status}")
    return status


class LiveDesiredConfig(dg.Config):
    state: Literal["running", "stopped"]


@dg.op
def set_live_desired_op(context: dg.OpExecutionContext, config: LiveDesiredConfig, live_state: LiveState) -> str:
    live_state.set_desired(config.state, by=f"run {context.run_id}")
    context.log.info(f"desired live query state is now {config.state}; live_supervisor converges to it")
    return config.state


@dg.job(tags={"tweet_topics/kind": "live"})
def start_live() -> None:
    start_live_op()


@dg.job(tags={"tweet_topics/kind": "live"})
def restart_live() -> None:
    restart_live_op()


@dg.job(tags={"tweet_topics/kind": "live"})
def stop_live() -> None:
    stop_live_op()


@dg.job(tags={"tweet_topics/kind": "live"})
def live_status() -> None:
    live_status_op()


@dg.job(tags={"tweet_topics/kind": "live"}, description="Set the live query's desired state; live_supervisor acts.")
def set_live_desired_state() -> None:
    set_live_desired_op()
