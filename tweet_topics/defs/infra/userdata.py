"""EC2 user-data from the package-data templates, with every substituted value validated and shell-quoted.

The package spec runs as root at boot, so it is checked before any AWS call: a PEP 508 requirement, or an
https/s3 URL of a wheel or sdist pinned with ``#sha256=<hex>`` (downloaded, hash-checked, then installed).
"""

from __future__ import annotations

import re
import shlex
from importlib.resources import files
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from tweet_topics.defs.infra.deployment import Deployment

TEMPLATES = files("tweet_topics.defs.infra") / "templates"
USER_DATA = "ec2-user-data.sh"
SYSTEMD_UNIT = "tweet-topics-streamer.service"
LIVE_USER_DATA = "ec2-live-user-data.sh"
LIVE_SYSTEMD_UNIT = "tweet-topics-live.service"
LIVE_STATE_DIR = "/var/lib/tweet-topics-live"  # the unit's StateDirectory
LIVE_DRIVER_MEMORY = "4g"  # the benchmark's driver; peak RSS 3.8 GB with it (docs/live.md)
PIP = "/opt/tweet-topics/venv/bin/pip"
VENV_PYTHON = "/opt/tweet-topics/venv/bin/python"
STATE_DIR = "/var/lib/tweet-topics"
_ARTIFACT = re.compile(r"^[A-Za-z0-9_.+-]+\.(whl|tar\.gz)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ENV_VALUE = re.compile(r"^[A-Za-z0-9_./:'()*!@+-]*$")


class UnsafePackageSpec(ValueError):
    """The streamer package spec is neither a PEP 508 requirement nor a sha256-pinned https/s3 artifact."""


def template(name: str) -> str:
    """A package-data template (works from a wheel install: importlib.resources, not a source path)."""
    return (TEMPLATES / name).read_text()


def parse_artifact_url(spec: str) -> tuple[str, str, str] | None:
    """(url without fragment, file name, sha256) for an https/s3 URL spec; None when it is not a URL."""
    parts = urlsplit(spec)
    if not parts.scheme:
        return None
    if parts.scheme not in ("https", "s3") or not parts.netloc:
        raise UnsafePackageSpec(f"streamer_package URL must be https:// or s3://, got scheme {parts.scheme!r}")
    name = parts.path.rsplit("/", 1)[-1]
    if not _ARTIFACT.fullmatch(name) or parts.query:
        raise UnsafePackageSpec(f"streamer_package URL must name a .whl or .tar.gz file, got {name!r}")
    sha = parts.fragment.removeprefix("sha256=") if parts.fragment.startswith("sha256=") else ""
    if not _SHA256.fullmatch(sha):
        raise UnsafePackageSpec("streamer_package URL must end in #sha256=<64 lowercase hex digits>")
    return spec.split("#", 1)[0], name, sha


def classify(spec: str) -> tuple[str, str, str] | None:
    """None for an index requirement; (url, file name, sha256) for a pinned artifact. Raises when unsafe."""
    if not spec or spec != spec.strip() or any(c in spec for c in "\n\r\t\0"):
        raise UnsafePackageSpec("streamer_package must be one non-empty line")
    if _URL.match(spec):
        return parse_artifact_url(spec)
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise UnsafePackageSpec(f"streamer_package is not a PEP 508 requirement: {exc}") from None
    return parse_artifact_url(requirement.url) if requirement.url else None


def validate_package_spec(spec: str) -> str:
    """The spec unchanged when it is safe to install as root, else ``UnsafePackageSpec`` naming the rule."""
    classify(spec)
    return spec


def install_commands(spec: str) -> str:
    """Shell lines that install the validated spec into the streamer venv (every value shell-quoted)."""
    artifact = classify(spec)
    if artifact is None:
        return f"{PIP} install --quiet {shlex.quote(spec)}"
    url, name, sha = artifact
    target = f"/tmp/{name}"
    if url.startswith("s3://"):
        fetch = f"aws s3 cp {shlex.quote(url)} {shlex.quote(target)}"
    else:
        fetch = (
            f"curl --fail --silent --show-error --location --proto =https -o {shlex.quote(target)} {shlex.quote(url)}"
        )
    check = f"echo {shlex.quote(f'{sha}  {target}')} | sha256sum --check --strict -"
    return "\n".join([fetch, check, f"{PIP} install --quiet {shlex.quote(target)}"])


def environment(d: Deployment) -> dict[str, str]:
    """Every setting the streamer reads on the instance (all prefixes too: the heartbeat goes where IAM allows)."""
    env = {
        "TWEET_TOPICS_ENV": d.env,
        "TWEET_TOPICS_PROJECT": d.project,
        "TWEET_TOPICS_REGION": d.region,
        "TWEET_TOPICS_BUCKET": d.bucket,
        "TWEET_TOPICS_FIREHOSE_STREAM": d.firehose_stream,
        "TWEET_TOPICS_LOCAL_DIR": STATE_DIR,
        **{f"TWEET_TOPICS_{name.upper()}": value for name, value in sorted(d.prefixes.items())},
        "TWEET_TOPICS_X_BEARER_PARAMETER": d.bearer_parameter,
    }
    bad = [k for k, v in env.items() if not _ENV_VALUE.fullmatch(v)]
    if bad:
        raise ValueError(f"unsafe characters in the instance environment: {bad}")
    return env


def live_environment(d: Deployment, checkpoint: str | None, buffer_seconds: int) -> dict[str, str]:
    """What the live query reads on its host: the streamer's settings without the X parameter, its own state dir,
    the Firehose buffer (its lookback), Spark ``local[*]`` with a 4 GiB driver, and the checkpoint (an s3a:// or
    hdfs:// URI survives the host)."""
    env = {k: v for k, v in environment(d).items() if k != "TWEET_TOPICS_X_BEARER_PARAMETER"}
    env["TWEET_TOPICS_LOCAL_DIR"] = LIVE_STATE_DIR
    env["TWEET_TOPICS_FIREHOSE_BUFFER_SECONDS"] = str(int(buffer_seconds))
    env["SPARK_DRIVER_MEMORY"] = LIVE_DRIVER_MEMORY  # spark-submit reads it; prod's spark_config sets no memory
    env["PYSPARK_PYTHON"] = VENV_PYTHON  # Python workers: the venv with the project, not the system python3
    if checkpoint:
        if not _ENV_VALUE.fullmatch(checkpoint):
            raise ValueError("unsafe characters in live_checkpoint")
        env["TWEET_TOPICS_LIVE_CHECKPOINT"] = checkpoint
    return env


def render_live_user_data(d: Deployment, package_spec: str, checkpoint: str | None, buffer_seconds: int) -> str:
    """The live host's user-data: a JDK, the package, ``/etc/tweet-topics/live.env`` and the live unit, started."""
    env_file = "\n".join(f"{k}={v}" for k, v in live_environment(d, checkpoint, buffer_seconds).items())
    return (
        template(LIVE_USER_DATA)
        .replace("{{INSTALL_PACKAGE}}", install_commands(package_spec))
        .replace("{{ENVIRONMENT}}", env_file)
        .replace("{{SYSTEMD_UNIT}}", template(LIVE_SYSTEMD_UNIT).strip())
    )


def render_user_data(d: Deployment, package_spec: str) -> str:
    """The instance's user-data: install the package, write the environment file and the unit, start it."""
    install = install_commands(package_spec)
    env_file = "\n".join(f"{k}={v}" for k, v in environment(d).items())
    return (
        template(USER_DATA)
        .replace("{{INSTALL_PACKAGE}}", install)
        .replace("{{ENVIRONMENT}}", env_file)
        .replace("{{SYSTEMD_UNIT}}", template(SYSTEMD_UNIT).strip())
    )
