"""Checks run before a command touches AWS, so the usual first-run mistakes end in one line, not a traceback
after retries: the local stack not running (or a stale ``.local/stack.json``), nothing listening at
``TWEET_TOPICS_AWS_ENDPOINT_URL``, or no AWS credentials with ``TWEET_TOPICS_ENV=prod``; and the one-line form of
every AWS configuration or credential error (a bad ``AWS_PROFILE``, an unreadable config file, partial keys,
keys AWS refuses), which the CLI prints with exit 2."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from botocore.exceptions import (
    ClientError,
    ConfigNotFound,
    ConfigParseError,
    CredentialRetrievalError,
    InvalidConfigError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    UnknownCredentialError,
)

from tweet_topics.settings import Settings, env_name

NO_CREDENTIALS = (
    "no AWS credentials found for TWEET_TOPICS_ENV=prod: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "or run on a host with an instance role (TWEET_TOPICS_ENV=local uses the embedded stack instead)"
)


# botocore's configuration and credential errors: a wrong setting, never a transient failure.
AWS_CONFIG_ERRORS = (
    ConfigNotFound,
    ConfigParseError,
    CredentialRetrievalError,
    InvalidConfigError,
    InvalidRegionError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    UnknownCredentialError,
)
# Error codes with which AWS refuses the credentials themselves (not a missing permission on one resource).
REFUSED_CREDENTIALS = {
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
}


class ConfigError(Exception):
    """A configuration problem found at start; the CLI prints it as one line and exits 2."""


def aws_config_problem(exc: BaseException) -> str | None:
    """One line for an AWS configuration or credential error, or None when ``exc`` is not one."""
    if isinstance(exc, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(exc, AWS_CONFIG_ERRORS):
        text = " ".join(str(exc).split())
        return f"AWS configuration: {text} (check AWS_PROFILE, AWS_CONFIG_FILE and the AWS_* variables)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        if error.get("Code") in REFUSED_CREDENTIALS:
            message = " ".join(str(error.get("Message", "")).split())[:200]
            return f"AWS refused the credentials: {error['Code']}: {message} (check AWS_PROFILE / AWS_ACCESS_KEY_ID)"
    return None


def check_aws(settings: Settings) -> None:
    """Raise ``LocalStackNotRunning`` or botocore's ``NoCredentialsError`` when no AWS call could succeed."""
    from tweet_topics.storage.clients import LocalStackNotRunning, resolve_endpoint

    if settings.env == "prod":
        import boto3

        if boto3.session.Session(region_name=settings.region).get_credentials() is None:
            raise NoCredentialsError()
        return
    endpoint = resolve_endpoint(settings)  # raises LocalStackNotRunning without an endpoint or a stack file
    if not settings.aws_endpoint_url:
        from tweet_topics.local import stack

        if not stack.status(settings).running:
            raise LocalStackNotRunning(
                f"the local AWS stack recorded in {settings.stack_file} is not running (TWEET_TOPICS_ENV=local): "
                "start it with `python -m tweet_topics local up` (or `make dev` / `make demo`)"
            )
    if endpoint and not _listening(endpoint):
        source = env_name("aws_endpoint_url") if settings.aws_endpoint_url else str(settings.stack_file)
        raise LocalStackNotRunning(
            f"nothing answers at {endpoint} (from {source}): "
            "start the local stack with `python -m tweet_topics local up`"
        )


def _listening(url: str, timeout: float = 2.0) -> bool:
    """A TCP connect to the endpoint: instant when refused, where botocore would retry for a minute."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False
