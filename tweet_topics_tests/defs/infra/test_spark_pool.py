"""One Spark step at a time, whatever launched the run: the Spark assets are in the pool "spark", and the local and
production instance configs limit pools to 1. Two runs launched at once against such an instance do not overlap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from tweet_topics.defs.topics.assets import topic_corpus, topic_model
from tweet_topics.defs.topics.assignments import tweet_topic_assignments
from tweet_topics.local.environment import DAGSTER_YAML

ROOT = Path(__file__).resolve().parents[3]
SPARK_ASSETS = (topic_corpus, topic_model, tweet_topic_assignments)
# How long a step waits for the other to start: short where the pool limit forbids it (the first step waits it
# out), long in the unlimited control, where each step ends as soon as it sees the other (a loaded machine can
# start the second process many seconds after the first).
LIMITED_WAIT_S, CONTROL_WAIT_S = 4.0, 120.0


def test_every_spark_asset_is_in_the_spark_pool_and_both_instances_limit_it_to_one():
    assert {a.op.name: a.op.pool for a in SPARK_ASSETS} == dict.fromkeys((a.op.name for a in SPARK_ASSETS), "spark")
    for config in (yaml.safe_load(DAGSTER_YAML), yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())):
        assert config["concurrency"]["pools"] == {"granularity": "op", "default_limit": 1}


def test_the_production_instance_config_is_one_dagster_accepts():
    """Validated as the daemon loads it (run limits in run_coordinator next to a concurrency block are refused)."""
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(ROOT / "deploy"))
    assert config["concurrency"]["pools"]["default_limit"] == 1


STEP = """
import json, sys, time
from pathlib import Path

import dagster as dg

name, other, pool, home = sys.argv[1:5]
wait_s = float(sys.argv[5])


@dg.asset(name=name, pool=pool)
def spark_like() -> None:
    begin = time.time()
    (Path(home) / f"{name}.started").touch()
    deadline = time.monotonic() + wait_s
    while not (Path(home) / f"{other}.started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (Path(home) / f"{name}.span").write_text(json.dumps([begin, time.time()]))


instance = dg.DagsterInstance.from_config(home)
sys.exit(0 if dg.materialize([spark_like], instance=instance).success else 1)
"""


def launch_pair(home: Path, config: str, wait_s: float) -> list[subprocess.Popen]:
    """Two runs (separate processes, as the run launcher starts them), each one step in the Spark assets' pool,
    launched together; each step waits a few seconds for the other to start, so without a limit they overlap."""
    home.mkdir()
    (home / "dagster.yaml").write_text(config)
    (home / "step.py").write_text(STEP)
    dg.DagsterInstance.from_config(str(home))  # create the storage once, before two processes race to
    pool = str(topic_corpus.op.pool)
    return [
        subprocess.Popen([sys.executable, str(home / "step.py"), me, other, pool, str(home), str(wait_s)])
        for me, other in (("first", "second"), ("second", "first"))
    ]


def spans(home: Path, runs: list[subprocess.Popen]) -> list[list[float]]:
    assert [run.wait(timeout=240) for run in runs] == [0, 0]
    return sorted(json.loads((home / f"{name}.span").read_text()) for name in ("first", "second"))


def test_two_spark_runs_launched_at_once_do_not_overlap(tmp_path):
    limited = launch_pair(tmp_path / "limited", DAGSTER_YAML, LIMITED_WAIT_S)  # the config `make dev` writes
    # The control, launched at the same time: without the pool limit the same two runs overlap.
    unlimited = launch_pair(tmp_path / "unlimited", "telemetry:\n  enabled: false\n", CONTROL_WAIT_S)
    (_, first_end), (second_start, _) = spans(tmp_path / "limited", limited)
    assert second_start >= first_end, "the second Spark step started while the first was running"
    (_, first_end), (second_start, _) = spans(tmp_path / "unlimited", unlimited)
    assert second_start < first_end
