"""Ops and jobs that start, stop, restart and inspect the streamer, and set its desired state.

Every action waits for the streamer's own heartbeat to confirm it; when that never comes the run fails with the
reason (alert-ready), instead of reporting success for a process that died at start.
"""

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from tweet_topics.defs.service_host import bring_down, bring_up
from tweet_topics.defs.streaming.resources import StreamerHost, StreamerState

WHAT = "streamer"


class ActionConfig(dg.Config):
    confirm_timeout_s: float = Field(90.0, description="how long to wait for the heartbeat to confirm")


def _bring_up(
    context: dg.OpExecutionContext, config: ActionConfig, host: StreamerHost, state: StreamerState, action: str
) -> dict[str, Any]:
    message, beat = bring_up(host, state, action, WHAT, ("running",), config.confirm_timeout_s)
    context.log.info(f"{action}: {message}; confirmed by heartbeat from {beat['host']} (pid {beat['pid']})")
    return {"action": action, "result": message, "heartbeat": beat}


@dg.op(tags={"tweet_topics/streamer_action": "start"})
def start_streamer_op(
    context: dg.OpExecutionContext, config: ActionConfig, streamer_host: StreamerHost, streamer_state: StreamerState
) -> dict[str, Any]:
    return _bring_up(context, config, streamer_host, streamer_state, "start")


@dg.op(tags={"tweet_topics/streamer_action": "restart"})
def restart_streamer_op(
    context: dg.OpExecutionContext, config: ActionConfig, streamer_host: StreamerHost, streamer_state: StreamerState
) -> dict[str, Any]:
    return _bring_up(context, config, streamer_host, streamer_state, "restart")


@dg.op(tags={"tweet_topics/streamer_action": "stop"})
def stop_streamer_op(
    context: dg.OpExecutionContext, config: ActionConfig, streamer_host: StreamerHost, streamer_state: StreamerState
) -> dict[str, Any]:
    """Stop, then wait until the host reports the service not running (on EC2: the streamer's own "stopped"
    heartbeat), so the supervisor's desired=stopped converges instead of failing on a running instance."""
    down = bring_down(streamer_host, streamer_state, WHAT, config.confirm_timeout_s)
    context.log.info(f"stop: {down['result']}")
    return {"action": "stop", "result": down["result"], "flushed": down["clean"], "host": down["host"]}


@dg.op
def streamer_status_op(
    context: dg.OpExecutionContext, streamer_host: StreamerHost, streamer_state: StreamerState
) -> dict[str, Any]:
    """Desired state, the host's view, heartbeat age and counts, and raw data freshness, in one record."""
    beat = streamer_state.heartbeat()
    status = {
        "desired": streamer_state.desired(),
        "host": streamer_host.status(),
        "heartbeat_age_s": round(beat["age_s"], 1) if beat else None,
        "heartbeat_state": beat["state"] if beat else None,
        "counts": beat["counts"] if beat else {},
        "last_error": (beat or {}).get("counts", {}).get("last_error"),
        "raw_age_s": streamer_state.raw_age_s(),
    }
    context.log.info(f"streamer status: {status}")
    return status


class DesiredConfig(dg.Config):
    state: Literal["running", "stopped"]


@dg.op
def set_desired_op(context: dg.OpExecutionContext, config: DesiredConfig, streamer_state: StreamerState) -> str:
    streamer_state.set_desired(config.state, by=f"run {context.run_id}")
    context.log.info(f"desired streamer state is now {config.state}; streamer_supervisor converges to it")
    return config.state


@dg.job(tags={"tweet_topics/kind": "streamer"})
def start_streamer() -> None:
    start_streamer_op()


@dg.job(tags={"tweet_topics/kind": "streamer"})
def stop_streamer() -> None:
    stop_streamer_op()


@dg.job(tags={"tweet_topics/kind": "streamer"})
def restart_streamer() -> None:
    restart_streamer_op()


@dg.job(tags={"tweet_topics/kind": "streamer"})
def streamer_status() -> None:
    streamer_status_op()


@dg.job(
    tags={"tweet_topics/kind": "streamer"},
    description="Set the streamer's desired state (running/stopped); the supervisor sensor acts on it.",
)
def set_streamer_desired_state() -> None:
    set_desired_op()
