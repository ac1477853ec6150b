"""The live process for real: started by start_live (python -m tweet_topics live), reported, stopped by SIGTERM."""

import time

from tweet_topics.defs.live.jobs import live_status, start_live, stop_live


def test_start_status_and_sigterm_stop_through_the_jobs(resources, bucket):
    config = {"ops": {"start_live_op": {"config": {"confirm_timeout_s": 300}}}}
    started = start_live.execute_in_process(resources=resources, run_config=config)
    try:
        assert started.success
        assert started.output_for_node("start_live_op")["state"] in ("running", "waiting_for_model")
        status = live_status.execute_in_process(resources=resources)
        report = status.output_for_node("live_status_op")
        # No model in this bucket: the query's first (empty) batch makes it wait for one, which is healthy.
        assert report["host"]["running"] and report["state"] in ("running", "waiting_for_model")
        assert report["lag_s"] == 0 and report["heartbeat_age_s"] < 30
        observed = status.asset_observations_for_node("live_status_op")[0]
        assert observed.asset_key.to_user_string() == "live_topic_shares"
        assert observed.metadata["state"].value == report["state"]
    finally:
        began = time.monotonic()
        stopped = stop_live.execute_in_process(resources=resources)
    result = stopped.output_for_node("stop_live_op")
    assert result["stopped_cleanly"], result  # SIGTERM: the process wrote its "stopped" heartbeat and exited
    assert time.monotonic() - began < 45 and not resources["live_host"].status()["running"]
