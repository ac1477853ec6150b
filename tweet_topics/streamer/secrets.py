"""Secrets for the streamer: from the environment or SSM SecureString, never logged, never in heartbeats.

Redaction covers the formatted message, exception text and tracebacks (``log.exception``), stack info, and
exceptions that escape to ``sys.excepthook`` / ``threading.excepthook`` - a token in a URL or in an error from
tweepy or botocore would otherwise reach the journal through a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

BEARER_ENV = "TWEET_TOPICS_X_BEARER_TOKEN"
BEARER_PARAMETER_ENV = "TWEET_TOPICS_X_BEARER_PARAMETER"  # SSM parameter name, e.g. /tweet-topics/prod/x-bearer
_SECRETS: set[str] = set()  # every value registered by install_redaction, for redact()


def redact(text: str, secrets: list[str] | set[str] | None = None) -> str:
    """``text`` with every secret (registered ones by default) replaced by ``***``."""
    for secret in _SECRETS if secrets is None else secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class RedactSecrets(logging.Filter):
    """Replace every registered secret value in log records (message, exception, stack) with ``***``."""

    _formatter = logging.Formatter()

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not lose the record (nor raise here)
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            # The formatter prints exc_text when it is set; the exception object itself may still hold the
            # secret in its args, so it is dropped once its text is safe.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_redaction(secrets: list[str]) -> None:
    """Filter every root handler and the project's logger; also redact uncaught exceptions."""
    _SECRETS.update(s for s in secrets if s)
    redactor = RedactSecrets(sorted(_SECRETS))
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    project = logging.getLogger("tweet_topics")
    for old in [f for f in project.filters if isinstance(f, RedactSecrets)]:
        project.removeFilter(old)
    project.addFilter(redactor)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))


def _thread_excepthook(args: Any) -> None:
    if args.exc_type is SystemExit:
        return
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(redact(f"Exception in thread {getattr(args.thread, 'name', '?')}:\n{text}"))


def bearer_token(ssm_client: Any | None = None) -> str:
    """The X bearer token: ``TWEET_TOPICS_X_BEARER_TOKEN``, else the SSM SecureString it names."""
    token = os.environ.get(BEARER_ENV)
    if token:
        return token
    parameter = os.environ.get(BEARER_PARAMETER_ENV)
    if parameter and ssm_client is not None:
        return ssm_client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    raise RuntimeError(f"no X bearer token: set {BEARER_ENV} or {BEARER_PARAMETER_ENV} (SSM SecureString name)")
