"""Secrets for the streamer: from the environment or SSM SecureString, never logged, never in heartbeats."""

from __future__ import annotations

import logging
import os
from typing import Any

BEARER_ENV = "TWEET_TOPICS_X_BEARER_TOKEN"
BEARER_PARAMETER_ENV = "TWEET_TOPICS_X_BEARER_PARAMETER"  # SSM parameter name, e.g. /tweet-topics/prod/x-bearer


class RedactSecrets(logging.Filter):
    """Replace every registered secret value in log records with ``***``."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def install_redaction(secrets: list[str]) -> None:
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    logging.getLogger("tweet_topics").addFilter(redactor)


def bearer_token(ssm_client: Any | None = None) -> str:
    """The X bearer token: ``TWEET_TOPICS_X_BEARER_TOKEN``, else the SSM SecureString it names."""
    token = os.environ.get(BEARER_ENV)
    if token:
        return token
    parameter = os.environ.get(BEARER_PARAMETER_ENV)
    if parameter and ssm_client is not None:
        return ssm_client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    raise RuntimeError(f"no X bearer token: set {BEARER_ENV} or {BEARER_PARAMETER_ENV} (SSM SecureString name)")
