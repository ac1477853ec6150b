from tweet_topics.lib.supervisor import Observation, SupervisorCursor, decide

RUNNING = Observation("running", host_running=True, heartbeat_age_s=5, heartbeat_state="running")
DOWN = Observation("running", host_running=False, heartbeat_age_s=500, heartbeat_state="running")


def test_converged_states_need_no_action():
    assert decide(RUNNING, SupervisorCursor(), 0).action is None
    stopped = Observation("stopped", host_running=False, heartbeat_age_s=None, heartbeat_state=None)
    assert decide(stopped, SupervisorCursor(), 0).action is None


def test_start_stop_restart_choices():
    assert decide(DOWN, SupervisorCursor(), 0).action == "start"
    stale = Observation("running", host_running=True, heartbeat_age_s=500, heartbeat_state="running")
    assert decide(stale, SupervisorCursor(), 0).action == "restart"
    unwanted = Observation("stopped", host_running=True, heartbeat_age_s=1, heartbeat_state="running")
    assert decide(unwanted, SupervisorCursor(), 0).action == "stop"


def test_in_flight_is_not_launched_twice_then_backs_off_and_gives_up():
    first = decide(DOWN, SupervisorCursor(), now=0, settle_s=100, base_backoff_s=60, max_failures=3)
    assert first.action == "start"
    waiting = decide(DOWN, first.cursor, now=50, settle_s=100, base_backoff_s=60, max_failures=3)
    assert waiting.action is None and "in flight" in waiting.reason
    # Not converged after settle: a failure, then a 60 s backoff before the next try.
    failed = decide(DOWN, waiting.cursor, now=101, settle_s=100, base_backoff_s=60, max_failures=3)
    assert failed.action is None and failed.cursor.failures == 1 and "backing off" in failed.reason
    retry = decide(DOWN, failed.cursor, now=162, settle_s=100, base_backoff_s=60, max_failures=3)
    assert retry.action == "start"
    cursor, now = retry.cursor, 162
    for _ in range(5):
        now += 1000
        cursor = decide(DOWN, cursor, now=now, settle_s=100, base_backoff_s=60, max_failures=3).cursor
    final = decide(DOWN, cursor, now=now + 10_000, settle_s=100, base_backoff_s=60, max_failures=3)
    assert final.action is None and final.cursor.gave_up and "gave up" in final.reason
    # Setting the desired state again (here: stopped, then running) resets the give-up.
    stopped = Observation("stopped", host_running=False, heartbeat_age_s=None, heartbeat_state=None)
    reset = decide(stopped, final.cursor, now=now + 20_000)
    assert not reset.cursor.gave_up
    assert decide(DOWN, reset.cursor, now=now + 20_001).action == "start"


def test_cursor_round_trips_and_success_clears_failures():
    decision = decide(DOWN, SupervisorCursor(failures=2), now=0)
    ok = decide(RUNNING, SupervisorCursor.parse(decision.cursor.dump()), now=10)
    assert ok.cursor.failures == 0 and ok.cursor.in_flight is None and ok.cursor.history[-1] == "start: ok"


def test_degraded_is_healthy_within_the_threshold_and_restarted_beyond():
    def obs(state, state_age_s):
        return Observation(
            "running", host_running=True, heartbeat_age_s=5, heartbeat_state=state, state_age_s=state_age_s
        )

    for state in ("degraded", "disk_full"):
        assert decide(obs(state, 60), SupervisorCursor(), 0, degraded_after_s=600).action is None
        beyond = decide(obs(state, 601), SupervisorCursor(), 0, degraded_after_s=600)
        assert beyond.action == "restart" and state in beyond.reason
        assert decide(obs(state, None), SupervisorCursor(), 0).action == "restart"  # unknown duration: judged
    assert decide(obs("stopped", 1), SupervisorCursor(), 0).action == "restart"


def test_a_quiet_stream_is_healthy():
    """No tweets for an hour (no raw objects), but the streamer beats on time and says running."""
    quiet = Observation("running", host_running=True, heartbeat_age_s=4, heartbeat_state="running", raw_age_s=3600)
    assert decide(quiet, SupervisorCursor(), 0).action is None
