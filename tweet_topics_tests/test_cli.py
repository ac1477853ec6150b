"""``python -m tweet_topics`` refusing every bad input with one line and exit code 2, before any effect (README's
``dg launch`` examples run in test_readme_commands.py)."""

import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tweet_topics.preflight import aws_config_problem
from tweet_topics.settings import get_settings
from tweet_topics.storage.clients import make_client

ROOT = Path(__file__).resolve().parents[1]


STACK_DOWN = {"TWEET_TOPICS_AWS_ENDPOINT_URL": None}  # and a local dir without stack.json: nothing was started
NO_CREDENTIALS = {
    "TWEET_TOPICS_ENV": "prod",
    "TWEET_TOPICS_AWS_ENDPOINT_URL": None,
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
}
BAD_INPUTS = [
    (["--bogus"], {}, "--bogus"),
    (["--bogus", "seed"], {}, "--bogus"),
    (["stream", "synthetic", "--max-tweets", "0"], {}, "--max-tweets"),
    (["stream", "synthetic", "--max-tweets", "-5"], {}, "--max-tweets"),
    (["stream", "synthetic", "--rate", "-1"], {}, "--rate"),
    (["stream", "synthetic", "--rate", "0"], {}, "--rate"),
    (["stream", "synthetic", "--heartbeat-interval", "-2"], {}, "--heartbeat-interval"),
    (["stream", "synthetic", "--max-tweets", "ten"], {}, "--max-tweets"),
    (["seed", "--hours", "-3"], {}, "--hours"),
    (["seed", "--hours", "0"], {}, "--hours"),
    (["seed", "--tweets-per-hour", "0"], {}, "--tweets-per-hour"),
    (["demo", "--stream-tweets", "0"], {}, "--stream-tweets"),
    (["stream", "replay"], {}, "FILE"),
    (["stream", "replay", "/nonexistent/replay.ndjson", "--sink", "file"], {}, "FILE"),
    (["seed", "--start", "2026-13-01-00"], {}, "--start"),
    (["seed", "--start", "yesterday"], {}, "--start"),
    (["demo", "--start", "2026-02-30-00"], {}, "--start"),
    (["seed"], {"TWEET_TOPICS_PARTITIONS_START": "2026-02-30-00:00"}, "TWEET_TOPICS_PARTITIONS_START"),
    (["demo"], {"TWEET_TOPICS_SPARK_MASTER": "garbage"}, "TWEET_TOPICS_SPARK_MASTER"),
    (["seed"], {"TWEET_TOPICS_SPARK_MASTER": "local[0]"}, "TWEET_TOPICS_SPARK_MASTER"),
    (["seed"], STACK_DOWN, "local up"),
    (["stream", "synthetic", "--max-tweets", "5"], STACK_DOWN, "local up"),
    (["seed"], {"TWEET_TOPICS_AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "TWEET_TOPICS_AWS_ENDPOINT_URL"),
    (["seed"], NO_CREDENTIALS, "credentials"),
    (["stream", "x"], NO_CREDENTIALS, "credentials"),
    (["seed"], {**NO_CREDENTIALS, "AWS_PROFILE": "nope"}, "(nope) could not be found"),
    (["stream", "synthetic", "--max-tweets", "5"], {**NO_CREDENTIALS, "AWS_PROFILE": "nope"}, "AWS_PROFILE"),
    (["seed"], {**NO_CREDENTIALS, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, "AWS_SECRET_ACCESS_KEY"),
    (["seed"], {**NO_CREDENTIALS, "AWS_CONFIG_FILE": "/etc/passwd", "AWS_PROFILE": "x"}, "/etc/passwd"),
    (["stream", "x", "--sink", "file"], {"TWEET_TOPICS_X_BEARER_TOKEN": None}, "TWEET_TOPICS_X_BEARER_TOKEN"),
    (["stream", "synthetic", "--sink", "file", "--out", "check.txt"], {}, "--out"),
    (["stream", "synthetic", "--sink", "file", "--out", "/nonexistent_dir/check.csv"], {}, "/nonexistent_dir"),
]


@pytest.mark.parametrize(
    ("argv", "env", "named"), BAD_INPUTS, ids=[" ".join(c[0]) + str(c[1])[:40] for c in BAD_INPUTS]
)
def test_bad_input_is_one_line_and_exit_2_before_any_side_effect(argv, env, named, tmp_path, moto_endpoint):
    bucket = f"bad-input-{zlib.crc32(repr((argv, env)).encode())}"
    full_env = {
        **os.environ,
        "TWEET_TOPICS_AWS_ENDPOINT_URL": moto_endpoint,  # the session's moto: a created bucket would show there
        "TWEET_TOPICS_BUCKET": bucket,
        "TWEET_TOPICS_LOCAL_DIR": str(tmp_path / "local"),
        "HOME": str(tmp_path),
        **env,
    }
    full_env = {k: v for k, v in full_env.items() if v is not None}
    result = subprocess.run(
        [sys.executable, "-m", "tweet_topics", *argv],
        env=full_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert named in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "local").exists()  # no state dir, spool, stack or snapshot was created
    settings = get_settings().model_copy(update={"aws_endpoint_url": moto_endpoint})
    assert bucket not in {b["Name"] for b in make_client(settings, "s3").list_buckets()["Buckets"]}


def test_credentials_aws_refuses_are_a_configuration_error():
    """Keys AWS refuses (the first call's ClientError) read as one line; a missing permission does not."""
    refused = ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "The token\nis invalid"}}, "PutObject")
    line = aws_config_problem(refused)
    assert line is not None and line.startswith(
        "AWS refused the credentials: InvalidClientTokenId: The token is invalid"
    )
    assert aws_config_problem(ClientError({"Error": {"Code": "NoSuchKey", "Message": "x"}}, "GetObject")) is None
