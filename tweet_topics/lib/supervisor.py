"""Decide what the streamer supervisor should do: desired vs observed state, in-flight actions, backoff.

Plain data in, a decision and the next cursor out, so every rule is tested without Dagster or AWS.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Observation:
    desired: str  # running | stopped
    host_running: bool
    heartbeat_age_s: float | None  # None: no heartbeat at all
    heartbeat_state: str | None  # running | degraded | disk_full | stopped (what the streamer last said)
    raw_age_s: float | None = None  # age of the newest raw object (Firehose freshness), informational only:
    # a quiet stream (no tweets, so no raw objects) with a fresh "running" heartbeat is healthy
    state_age_s: float | None = None  # how long the streamer has been in heartbeat_state (None: unknown)


@dataclass
class SupervisorCursor:
    in_flight: str | None = None  # action launched and not yet confirmed
    in_flight_since: float = 0.0
    failures: int = 0
    next_attempt_at: float = 0.0
    gave_up: bool = False
    desired: str | None = None
    history: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> SupervisorCursor:
        return cls(**json.loads(raw)) if raw else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Decision:
    action: str | None  # start | stop | restart | None
    reason: str
    cursor: SupervisorCursor


DEGRADED_STATES = ("degraded", "disk_full")  # delivering fails / records held in memory: may pass by itself


def healthy(obs: Observation, stale_after_s: float, degraded_after_s: float = 600.0) -> bool:
    """A fresh heartbeat that says running, or degraded/disk_full for at most ``degraded_after_s``."""
    if not obs.host_running or obs.heartbeat_age_s is None or obs.heartbeat_age_s > stale_after_s:
        return False
    if obs.heartbeat_state == "running":
        return True
    if obs.heartbeat_state in DEGRADED_STATES:
        return obs.state_age_s is not None and obs.state_age_s <= degraded_after_s
    return False


def decide(
    obs: Observation,
    cursor: SupervisorCursor,
    now: float,
    stale_after_s: float = 90.0,
    settle_s: float = 120.0,
    base_backoff_s: float = 60.0,
    max_failures: int = 5,
    degraded_after_s: float = 600.0,
) -> Decision:
    """One supervisor tick. An action in flight is given ``settle_s`` to take effect; an action that did not
    fix the state counts as a failure and the next one waits ``base_backoff_s * 2**failures``; after
    ``max_failures`` the supervisor gives up until the desired state is set again."""
    c = SupervisorCursor(**asdict(cursor))
    if c.desired != obs.desired:  # a new desired state resets failures and give-ups
        c.failures, c.gave_up, c.next_attempt_at, c.in_flight = 0, False, 0.0, None
        c.desired = obs.desired
    is_healthy = healthy(obs, stale_after_s, degraded_after_s)
    converged = is_healthy if obs.desired == "running" else not obs.host_running
    if converged:
        if c.in_flight:
            c.history = [*c.history[-9:], f"{c.in_flight}: ok"]
        c.in_flight, c.failures, c.gave_up = None, 0, False
        return Decision(None, f"{obs.desired} as desired", c)
    if c.in_flight:
        if now - c.in_flight_since < settle_s:
            return Decision(None, f"{c.in_flight} in flight for {now - c.in_flight_since:.0f}s", c)
        c.failures += 1
        c.history = [*c.history[-9:], f"{c.in_flight}: did not converge"]
        c.in_flight = None
        c.next_attempt_at = now + base_backoff_s * 2 ** (c.failures - 1)
    if c.failures >= max_failures:
        c.gave_up = True
        return Decision(None, f"gave up after {c.failures} failed attempts; set the desired state again to retry", c)
    if now < c.next_attempt_at:
        return Decision(None, f"backing off for {c.next_attempt_at - now:.0f}s after {c.failures} failures", c)
    if obs.desired == "stopped":
        action, reason = "stop", "desired stopped but the host is running"
    elif obs.host_running:
        if obs.heartbeat_state in DEGRADED_STATES and obs.heartbeat_age_s is not None:
            age = f"{obs.heartbeat_state} for {obs.state_age_s or 0:.0f}s"
        else:
            age = "no heartbeat" if obs.heartbeat_age_s is None else f"heartbeat {obs.heartbeat_age_s:.0f}s old"
        action, reason = "restart", f"host running but unhealthy ({age})"
    else:
        action, reason = "start", "desired running but the host is not running"
    c.in_flight, c.in_flight_since = action, now
    return Decision(action, reason, c)
