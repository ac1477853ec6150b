"""README's command-line examples are ``examples.cli_examples`` (which ``make demo`` prints with its own hours),
and they run as written: the hourly ones through a real ``dg launch`` against the local stack; the job and asset
names of the others exist in the code location."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tweet_topics.examples import cli_examples, render
from tweet_topics.settings import get_settings
from tweet_topics.storage.keys import parse_partition_key
from tweet_topics_tests.helpers import seed

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_block() -> str:
    """The bash block of README that holds the ``dg launch`` examples."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    found = [b for b in blocks if "dg launch" in b]
    assert len(found) == 1, "README should have exactly one block of dg launch examples"
    return found[0].strip()


def test_readme_examples_are_the_ones_the_demo_prints():
    block = readme_block()
    first = re.search(r"--partition (\S+)", block).group(1)
    last = re.search(r"--partition-range \S+\.\.\.(\S+)", block).group(1)
    assert block == render(first, last)


def test_the_examples_name_jobs_and_assets_that_exist():
    from tweet_topics.definitions import defs

    assets = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    for _, command in cli_examples("2026-01-01-00:00", "2026-01-01-01:00"):
        args = shlex.split(command)
        if "--job" in args:
            assert defs.resolve_job_def(args[args.index("--job") + 1]) is not None
        if "--assets" in args:
            assert set(args[args.index("--assets") + 1].split(",")) <= assets


def dg_launch(command: str, resources: dict, home: Path) -> str:
    env = {
        **os.environ,
        "TWEET_TOPICS_AWS_ENDPOINT_URL": resources["aws"].endpoint_url,
        "DAGSTER_HOME": str(home),
        # dagster loads .env from its working directory; the demo's start there must not move the tests' start.
        "TWEET_TOPICS_PARTITIONS_START": get_settings().partitions_start,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(shlex.split(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def test_the_hourly_examples_run_as_written(resources, bucket, tmp_path):
    seeded = seed(resources, hours=3, tweets_per_hour=30)
    keys = sorted(seeded.expected)
    one_hour, a_range = (command for _, command in cli_examples(keys[0], keys[-1])[:2])
    assert "RUN_SUCCESS" in dg_launch(one_hour, resources, tmp_path)
    assert resources["storage"].filtered.read_metadata(parse_partition_key(keys[0]))["input"] > 0
    output = dg_launch(a_range, resources, tmp_path)
    assert output.count("RUN_SUCCESS") == 1  # a range is one run (BackfillPolicy.single_run)
    for key in keys:
        assert (
            resources["storage"].combined.read_metadata(parse_partition_key(key))["kept"]
            == seeded.expected[key]["kept"]
        )
