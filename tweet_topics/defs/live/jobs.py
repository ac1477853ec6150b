"""Ops and jobs that start, stop and report the live query, and set its desired state (like the streamer's).

Start is confirmed by the live process's own heartbeat (state ``running`` or ``waiting_for_model`` after the
action); when none comes, the run fails with the host status and the log's tail instead of reporting success.
"""

import time
from datetime import UTC, datetime
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from tweet_topics.defs.live.assets import observation
from tweet_topics.defs.live.resources import LiveState, LocalLiveHost
from tweet_topics.storage.catalog import Storage

CONFIRMING_STATES = ("running", "waiting_for_model", "degraded")


class LiveActionConfig(dg.Config):
    confirm_timeout_s: float = Field(180.0, description="how long to wait for the heartbeat to confirm")


def _confirmed(live_state: LiveState, since: datetime, timeout: float, states: tuple[str, ...]) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = live_state.heartbeat()
        if beat and beat["state"] in states and datetime.fromisoformat(beat["updated_at"]) >= since:
            return beat
        time.sleep(1.0)
    return None


@dg.op(tags={"tweet_topics/live_action": "start"})
def start_live_op(
    context: dg.OpExecutionContext, config: LiveActionConfig, live_host: LocalLiveHost, live_state: LiveState
) -> dict[str, Any]:
    since = datetime.now(UTC)
    message = live_host.start()
    context.log.info(f"start: {message}")
    beat = _confirmed(live_state, since, config.confirm_timeout_s, CONFIRMING_STATES)
    if beat is None:
        log = live_host.state_dir / "live.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise dg.Failure(
            description=f"live query start not confirmed: no heartbeat within {config.confirm_timeout_s:.0f}s",
            metadata={"host": dg.MetadataValue.json(live_host.status()), "log_tail": dg.MetadataValue.text(tail)},
        )
    return {"action": "start", "result": message, "state": beat["state"], "pid": beat["pid"]}


@dg.op(tags={"tweet_topics/live_action": "stop"})
def stop_live_op(context: dg.OpExecutionContext, live_host: LocalLiveHost, live_state: LiveState) -> dict[str, Any]:
    """SIGTERM, then the host must report the process gone; ``stopped_cleanly``: its last heartbeat says stopped."""
    since = datetime.now(UTC)
    message = live_host.stop()
    context.log.info(f"stop: {message}")
    status = live_host.status()
    if status["running"]:
        raise dg.Failure(description="live query still running after stop", metadata={"result": message})
    beat = live_state.heartbeat()
    clean = bool(beat and beat["state"] == "stopped" and datetime.fromisoformat(beat["updated_at"]) >= since)
    return {"action": "stop", "result": message, "stopped_cleanly": clean}


@dg.op
def live_status_op(
    context: dg.OpExecutionContext, live_host: LocalLiveHost, live_state: LiveState, storage: Storage
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
def stop_live() -> None:
    stop_live_op()


@dg.job(tags={"tweet_topics/kind": "live"})
def live_status() -> None:
    live_status_op()


@dg.job(tags={"tweet_topics/kind": "live"}, description="Set the live query's desired state; live_supervisor acts.")
def set_live_desired_state() -> None:
    set_live_desired_op()
