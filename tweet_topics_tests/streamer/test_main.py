"""The streamer's entry point: the command lines others run (systemd unit, local host, demo) parse into the
options they mean, and ``python -m tweet_topics stream`` runs end to end into a file sink."""

import json
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from tweet_topics.cli import build_parser
from tweet_topics.settings import PROJECT_ROOT
from tweet_topics.streamer.options import StreamOptions, synthetic_command
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
