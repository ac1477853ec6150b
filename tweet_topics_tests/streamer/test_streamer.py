"""The streamer against the real local Firehose (moto server -> S3): batching, faults, signals, secrets."""

import json
import logging
import os
import random
import signal
import subprocess
import threading
import time

from botocore.exceptions import EndpointConnectionError

from tweet_topics.settings import get_settings
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.filesink import FileOutput
from tweet_topics.streamer.options import synthetic_command
from tweet_topics.streamer.producer import MAX_RECORDS, Sender
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.reporting import Reporter
from tweet_topics.streamer.runner import Loop, run
from tweet_topics.streamer.secrets import RedactSecrets
from tweet_topics.streamer.sources import build_rules, replay_source, synthetic_source
from tweet_topics.streamer.spool import Spool
from tweet_topics_tests.conftest import REAL_TWEETS
from tweet_topics_tests.streamer.conftest import delivered_ids, found_ranges, ledger_entries, wait_for


class FlakyFirehose:
    """A real client that fails a share of entries the way Firehose reports partial failures."""

    def __init__(self, client, fail_share=0.1, down_calls=0, seed=1):
        self.client, self.fail_share, self.down_calls = client, fail_share, down_calls
        self.rng = random.Random(seed)
        self.calls = 0
        self.delivered: list[str] = []  # ids in the order they reached Firehose
        self.lock = threading.Lock()

    def put_record_batch(self, DeliveryStreamName, Records):
        with self.lock:
            self.calls += 1
            if self.calls <= self.down_calls:
                raise EndpointConnectionError(endpoint_url="http://firehose.invalid")
            fail = [self.rng.random() < self.fail_share for _ in Records]
        keep = [r for r, f in zip(Records, fail, strict=True) if not f]
        if keep:
            self.client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=keep)
            self.delivered += [json.loads(r["Data"])["id"] for r in keep]
        responses = [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"} if f else {"RecordId": "x"}
            for f in fail
        ]
        return {"FailedPutCount": sum(fail), "RequestResponses": responses}


def pipeline(client, tmp_path, deadline=5.0, **sender_options):
    """The streamer's parts as ``app`` wires them (without S3 reporting): spool, sender thread, main loop."""
    counters = Counters()
    spool = Spool(tmp_path / "spool")
    counters.add(inherited=len(spool), backlog=len(spool))
    sender = Sender(
        client, get_settings().firehose_stream, spool, counters, deadline, base_delay=0.001, **sender_options
    )
    loop = Loop("test-run", sender, counters, RejectLog(tmp_path / "rejects.ndjson"))
    return counters, sender, loop


def stream(client, count, tmp_path, network_for=30.0, **kwargs):
    counters, sender, loop = pipeline(client, tmp_path, **kwargs)
    loop.max_age = 60.0  # batches close by size here, however slowly a loaded machine converts
    sender.start()
    run(synthetic_source(count, seed=3), loop, threading.Event())
    loop.hand_off()
    sender.close(network_until=time.monotonic() + network_for)
    sender.join(60)
    assert not sender.is_alive()
    return counters, sender


def test_5000_tweets_land_once_each_in_batches(resources, firehose, tmp_path):
    counters, _ = stream(firehose, 5000, tmp_path)
    ids = delivered_ids(resources)
    assert len(ids) == 5000 and len(set(ids)) == 5000
    assert counters.sent == 5000 and counters.api_calls == 5000 // MAX_RECORDS
    assert counters.balanced()


def test_partial_failures_lose_nothing(resources, firehose, tmp_path):
    flaky = FlakyFirehose(firehose, fail_share=0.1)
    counters, _ = stream(flaky, 3000, tmp_path)
    ids = delivered_ids(resources)
    assert counters.retried > 200
    assert len(ids) == 3000 and len(set(ids)) == 3000
    assert counters.balanced() and counters.backlog == 0


def test_firehose_down_spools_then_delivers_in_order(resources, firehose, tmp_path):
    # Down for the whole run: everything ends in the spool, counted once, as backlog.
    flaky = FlakyFirehose(firehose, fail_share=0.0, down_calls=10**6)
    counters, sender = stream(flaky, 1500, tmp_path, deadline=0.2, network_for=0.0)
    assert counters.backlog == 1500 and counters.sent == 0 and counters.balanced()
    assert len(sender.spool) == 1500 and delivered_ids(resources) == []
    # Firehose recovers; a restart (new sender, same spool) drains the spool first, in order.
    flaky.down_calls = 0
    counters, sender = stream(flaky, 0, tmp_path)
    assert counters.inherited == 1500 and counters.unspooled == 1500 and counters.balanced()
    assert not sender.spool.segments()
    ids = delivered_ids(resources)
    assert len(ids) == 1500 and len(set(ids)) == 1500
    assert flaky.delivered == sorted(flaky.delivered, key=int)  # synthetic ids increase: order was kept


def test_sigterm_flushes_and_the_ledger_reconciles(resources, firehose, tmp_path):
    from datetime import UTC, datetime, timedelta

    from tweet_topics.lib.ledger import reconcile

    env = {
        **os.environ,
        "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url,
        "TWEET_TOPICS_X_BEARER_TOKEN": "canary-secret-5b1e",
    }
    # The command line LocalStreamerHost and the demo run, from the one function that writes it.
    cmd = synthetic_command(rate=400, max_tweets=100000, state_dir=tmp_path / "state", heartbeat_interval=0.5)
    err_path = tmp_path / "stderr"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err_file, text=True)
        try:  # SIGTERM once it streams (start-up takes seconds on a loaded machine)
            wait_for(lambda: "streamer run" in err_path.read_text(), 60)
            time.sleep(3)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        finally:
            proc.kill()
    err = err_path.read_text()
    assert proc.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["received"] > 100
    ids = delivered_ids(resources)
    assert len(ids) == summary["received"] and len(set(ids)) == len(ids)
    heartbeat = json.loads(resources["storage"].s3.get(get_settings().streamer_prefix + "heartbeat.json"))
    assert heartbeat["state"] == "stopped" and heartbeat["counts"]["sent"] == summary["received"]
    assert heartbeat["last_delivery_at"] and heartbeat["spool_backlog"] == 0
    assert "canary-secret-5b1e" not in out + err + json.dumps(heartbeat)
    [result] = reconcile(
        {"h": found_ranges(resources)},
        ledger_entries(resources),
        now=datetime.now(UTC) + timedelta(hours=1),
        grace=timedelta(minutes=1),
    )
    assert result.ok and result.handed == summary["received"] and not result.unexpected


def test_redaction_filter_hides_secrets(caplog):
    logger = logging.getLogger("tweet_topics.test_redaction")
    logger.addFilter(RedactSecrets(["s3cr3t-token"]))
    with caplog.at_level(logging.INFO):
        logger.info("connecting with %s", "s3cr3t-token")
    assert "s3cr3t-token" not in caplog.text and "***" in caplog.text


def test_replay_counts_and_keeps_bad_lines(tmp_path):
    good = REAL_TWEETS.read_text().splitlines()[0]
    replay = tmp_path / "replay.ndjson"
    replay.write_text(good + "\n{not json\n" + json.dumps({"data": {"id": "1"}}) + "\n")
    counters = Counters()
    output = FileOutput(tmp_path / "out.ndjson", counters, lambda records: None)
    loop = Loop("r1", output, counters, RejectLog(tmp_path / "rejects.ndjson"))
    run(replay_source(replay), loop, threading.Event())
    loop.hand_off()
    output.close()
    rejects = [json.loads(x) for x in (tmp_path / "rejects.ndjson").read_text().splitlines()]
    assert counters.sent == 100 and counters.received == 102 and counters.rejected == 2 and counters.balanced()
    assert {r["reason"].split(":")[0] for r in rejects} == {"invalid_json", "missing_field"}
    assert [r["seq"] for r in rejects] == [101, 102]


def test_rules_respect_the_length_limit():
    from tweet_topics.config import TRACK_TERMS_FILE
    from tweet_topics.lib.filtering import read_term_file

    terms = read_term_file(TRACK_TERMS_FILE)
    rules = build_rules(terms, "lang:en -is:retweet")
    assert all(len(r) <= 512 for r in rules) and len(rules) >= 2
    joined = " ".join(rules)
    assert all((f'"{t}"' if " " in t else t) in joined for t in terms)
    assert all(r.endswith(" lang:en -is:retweet") for r in rules)


def test_heartbeat_has_no_secret_fields(resources, bucket):
    counters = Counters(received=3)

    def status():
        return {"state": "running", "counts": counters.snapshot(), "last_delivery_at": None}

    Reporter(resources["aws"].client("s3"), bucket, "streamer/heartbeat.json", status, interval=1).beat()
    body = json.loads(resources["storage"].s3.get("streamer/heartbeat.json"))
    assert set(body) == {"state", "counts", "last_delivery_at", "started_at", "updated_at", "version", "host", "pid"}
    assert body["counts"]["received"] == 3


def test_sync_rules_adds_missing_and_deletes_stale():
    """Rule sync against an in-memory stand-in for the X rules endpoint (tweepy's public client interface)."""
    from types import SimpleNamespace

    import tweepy

    from tweet_topics.streamer.sources import sync_rules

    class RulesEndpoint:
        def __init__(self, rules):
            self.rules = {str(i): tweepy.StreamRule(value=v, id=str(i)) for i, v in enumerate(rules)}

        def get_rules(self):
            return SimpleNamespace(data=list(self.rules.values()) or None)

        def delete_rules(self, ids):
            for rule_id in ids:
                del self.rules[rule_id]

        def add_rules(self, rules):
            for rule in rules:
                self.rules[str(len(self.rules) + 100)] = tweepy.StreamRule(value=rule.value, id="new")

    endpoint = RulesEndpoint(["(old OR rule) lang:en", "(mars OR moon) lang:en"])
    result = sync_rules(endpoint, ["(mars OR moon) lang:en", "(webb OR hubble) lang:en"])
    assert result == {"added": 1, "deleted": 1, "kept": 1}
    assert sorted(r.value for r in endpoint.rules.values()) == ["(mars OR moon) lang:en", "(webb OR hubble) lang:en"]
    assert sync_rules(endpoint, ["(mars OR moon) lang:en", "(webb OR hubble) lang:en"]) == {
        "added": 0,
        "deleted": 0,
        "kept": 2,
    }


def test_what_is_left_at_exit_is_journaled_or_lost_never_balanced_when_lost():
    """#26.1: at exit, in-memory records with an intact write-ahead log are journaled; records without one and
    messages the live source was handed but never gave to the loop are lost, and the books are not balanced."""
    counters = Counters(received=8, offered=10, sent=3, in_memory=5)
    counters.settle(unlogged=2)
    assert (counters.journaled, counters.lost, counters.in_memory) == (3, 4, 0)
    assert not counters.balanced()
    clean = Counters(received=8, offered=8, sent=3, in_memory=5)
    clean.settle(unlogged=0)
    assert clean.journaled == 5 and clean.lost == 0 and clean.balanced()
