"""The project-local environment the demo writes: ``.env`` with the partition start (as ``dagster`` itself loads
it, in a real subprocess), and an instance ``dagster.yaml`` that keeps Dagster from warning and phoning home."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tweet_topics.local import environment

PROBE = """
import dagster as dg
from pathlib import Path
from tweet_topics.partitions import HOURLY

Path("first_partition.txt").write_text(HOURLY.get_first_partition_key())
defs = dg.Definitions()
"""


def first_partition_seen_by_dagster(workdir: Path, **env: str) -> str:
    """Run ``dagster definitions validate`` in ``workdir`` on a probe that records the project's first partition."""
    (workdir / "probe.py").write_text(PROBE)
    full_env = {k: v for k, v in os.environ.items() if k != environment.PARTITIONS_VAR}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-f", "probe.py"],
        cwd=workdir,
        env={**full_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return (workdir / "first_partition.txt").read_text()


def test_dagster_loads_the_demo_start_from_dotenv_and_an_export_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("OTHER_SETTING=kept\n")
    assert environment.write_partitions_start(datetime(2026, 11, 28, 5, tzinfo=UTC), dotenv) == "2026-11-28-00:00"
    assert "OTHER_SETTING=kept" in dotenv.read_text()
    assert first_partition_seen_by_dagster(tmp_path) == "2026-11-28-00:00"
    exported = first_partition_seen_by_dagster(tmp_path, TWEET_TOPICS_PARTITIONS_START="2026-06-01-00:00")
    assert exported == "2026-06-01-00:00"


def test_an_earlier_start_in_dotenv_is_kept_and_a_later_one_replaced(tmp_path):
    dotenv = tmp_path / ".env"
    environment.write_partitions_start(datetime(2026, 11, 20, tzinfo=UTC), dotenv)
    assert environment.write_partitions_start(datetime(2026, 11, 28, tzinfo=UTC), dotenv) == "2026-11-20-00:00"
    dotenv.write_text("TWEET_TOPICS_PARTITIONS_START=2026-12-01-00:00\n")  # a plain value written by hand
    assert environment.write_partitions_start(datetime(2026, 11, 28, tzinfo=UTC), dotenv) == "2026-11-28-00:00"
    lines = [line for line in dotenv.read_text().splitlines() if line.startswith("TWEET_TOPICS_PARTITIONS_START=")]
    assert lines == [environment.dotenv_line("2026-11-28-00:00")]
    assert environment.read_partitions_start(dotenv) == "2026-11-28-00:00"


def test_the_instance_yaml_turns_telemetry_off_and_silences_the_missing_file_warning(tmp_path):
    home = tmp_path / "dagster_home"
    script = (
        "from tweet_topics.local import environment; from tweet_topics.settings import get_settings;"
        "home = environment.dagster_home(get_settings());"
        "import dagster as dg; print(home, dg.DagsterInstance.get().telemetry_enabled)"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home)}

    def run() -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    result = run()
    assert result.stdout.split() == [str(home), "False"]
    assert "No dagster instance configuration file" not in result.stderr
    assert "Telemetry" not in result.stdout + result.stderr
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert run().stdout.split() == [str(home), "True"]  # a user's own file is never overwritten
