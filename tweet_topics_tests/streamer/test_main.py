"""The streamer's entry point: the command lines others run (systemd unit, local host, demo) parse into the
options they mean, and ``python -m tweet_topics stream`` runs end to end into a file sink."""

import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from tweet_topics.cli import build_parser
from tweet_topics.settings import PROJECT_ROOT
from tweet_topics.streamer.options import SYNTHETIC_FILE_CAP, StreamOptions, synthetic_command
from tweet_topics_tests.conftest import REAL_TWEETS


def parsed(argv: list[str]) -> StreamOptions:
    """What ``python -m tweet_topics <argv>`` would run, as options (the CLI's own parser)."""
    args = build_parser().parse_args(argv)
    return StreamOptions(**{f.name: getattr(args, f.name) for f in fields(StreamOptions)})


@pytest.mark.parametrize(
    "options",
    [
        StreamOptions(source="synthetic"),
        StreamOptions(source="synthetic", resume=True, rate=20.0, seed=3, state_dir=Path("/tmp/s"), max_tweets=5),
        StreamOptions(source="replay", file=Path("a b.ndjson"), speed=2.5, sink="file", out=Path("o.csv")),
        StreamOptions(source="x", no_retweets=True, heartbeat_interval=3.0, duration=60.0),
    ],
)
def test_argv_parses_back_to_the_same_options(options):
    assert parsed(options.argv()) == options


def test_synthetic_command_is_what_the_local_host_means():
    command = synthetic_command(resume=True, rate=20.0, seed=7, state_dir=Path("/tmp/st"), heartbeat_interval=5.0)
    assert command[:3] == [sys.executable, "-m", "tweet_topics"]
    assert parsed(command[3:]) == StreamOptions(
        source="synthetic", resume=True, rate=20.0, state_dir=Path("/tmp/st"), heartbeat_interval=5.0
    )


def test_the_systemd_unit_command_line_still_parses():
    """The EC2 unit runs ``python -m tweet_topics stream x --sink firehose …``; it must keep meaning that."""
    pattern = "**/tweet-topics-streamer.service"  # package data (templates) or deploy/, wherever it lives now
    units = sorted([*PROJECT_ROOT.glob(f"tweet_topics/{pattern}"), *PROJECT_ROOT.glob(f"deploy/{pattern}")])
    assert units, "the streamer's systemd unit is part of the repository"
    exec_start = next(line for line in units[0].read_text().splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[1:3] == ["-m", "tweet_topics"]
    options = parsed(argv[3:])
    assert (options.source, options.sink) == ("x", "firehose")
    assert options.state_dir is not None and options.max_tweets is None  # runs until stopped


def test_replay_into_a_file_sink_end_to_end(tmp_path):
    out = tmp_path / "out.ndjson"
    command = [sys.executable, "-m", "tweet_topics"]
    command += StreamOptions(source="replay", file=REAL_TWEETS, sink="file", out=out, state_dir=tmp_path).argv()
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    lines = out.read_text().splitlines()
    assert summary["sent"] == len(lines) > 0
    assert summary["received"] == summary["sent"] + summary["rejected"]
    assert "extra" not in summary
    assert len({json.loads(line)["id"] for line in lines}) == len(lines)


def test_replay_needs_a_file():
    with pytest.raises(ValueError, match="needs FILE"):
        StreamOptions(source="replay")


def test_the_unit_gives_the_shutdown_budget_room():
    unit = next(p for p in PROJECT_ROOT.glob("tweet_topics/**/tweet-topics-streamer.service"))
    stop = next(line for line in unit.read_text().splitlines() if line.startswith("TimeoutStopSec="))
    exec_start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    options = parsed(shlex.split(exec_start.removeprefix("ExecStart="))[3:])
    assert int(stop.split("=")[1]) >= options.shutdown_budget + 15  # interpreter exit and slack on top


def test_the_streamer_may_describe_only_its_own_stream():
    from tweet_topics.defs.infra import policies
    from tweet_topics.defs.infra.deployment import Deployment
    from tweet_topics.settings import get_settings

    d = Deployment.from_settings(get_settings())
    statements = policies.streamer_policy(d, "123456789012")["Statement"]
    describing = [s for s in statements if "firehose:DescribeDeliveryStream" in s["Action"]]
    assert len(describing) == 1 and describing[0]["Resource"].endswith(f":deliverystream/{d.firehose_stream}")


@pytest.fixture()
def small_disk(tmp_path):
    """A 40 MiB tmpfs (CI runs as root); skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_the_file_sink_never_fills_a_disk(small_disk, tmp_path):
    """#28.6: unbounded synthetic into a file on a 40 MiB filesystem with a 4 MiB floor stops by itself, with
    one line saying why, above the floor, every received tweet written (the default floor is 1 GiB)."""
    out = small_disk / "check.csv"
    argv = StreamOptions(source="synthetic", sink="file", out=out, state_dir=tmp_path / "state", min_free_mib=4).argv()
    result = subprocess.run([sys.executable, "-m", "tweet_topics", *argv], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    said = [line for line in result.stderr.splitlines() if line.startswith("stream:")]
    assert len(said) == 1 and "--min-free-mib" in said[0], result.stderr[-2000:]
    assert shutil.disk_usage(small_disk).free >= 4 * 1024 * 1024
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    with open(out, newline="") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    assert summary["sent"] == summary["received"] == rows > 1_000 and summary["lost"] == 0, summary


def test_synthetic_into_a_file_has_a_default_cap():
    assert StreamOptions(source="synthetic", sink="file").tweet_limit == SYNTHETIC_FILE_CAP
    assert StreamOptions(source="synthetic", sink="file", max_tweets=7).tweet_limit == 7
    assert StreamOptions(source="synthetic", sink="file", duration=5.0).tweet_limit is None
    assert StreamOptions(source="synthetic").tweet_limit is None  # Firehose: until stopped


def test_x_into_a_file_needs_no_aws(tmp_path):
    """#28.6: the stream-check of the live source runs with the token in the environment and no AWS at all."""
    out = tmp_path / "x.ndjson"
    argv = StreamOptions(source="x", sink="file", out=out, state_dir=tmp_path / "state").argv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWEET_TOPICS_"))}
    env |= {"TWEET_TOPICS_X_BEARER_TOKEN": "canary-file-token", "TWEET_TOPICS_LOCAL_DIR": str(tmp_path / "local")}
    standin = ["-m", "tweet_topics_tests.streamer.xstandin", "sigterm", "20", str(tmp_path / "pumped"), "--"]
    result = subprocess.run([sys.executable, *standin, *argv], env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(out.read_text().splitlines()) == 20
    assert not (tmp_path / "local").exists()  # no stack was looked for or started
