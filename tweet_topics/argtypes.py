"""argparse pieces shared by the command line and the streamer's options: typed values with bounds, so a bad
value ends in one line naming the option (exit 2) before anything runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block): the message names the option and the bound."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(
    kind: type[int] | type[float], low: float, strict: bool = False, high: float | None = None
) -> Callable[[str], float]:
    """An argparse type: ``kind`` with ``value >= low`` (``> low`` when ``strict``) and ``value <= high``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '≥'} {low}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be ≤ {high}, got {text}")
        return value

    return parse


COUNT, POSITIVE, PORT = _number(int, 1), _number(float, 0, strict=True), _number(int, 1, high=65535)


def hour(text: str) -> datetime:
    """``--start``: an hour as YYYY-MM-DD-HH (a partition key, YYYY-MM-DD-HH:00, works too)."""
    for fmt in ("%Y-%m-%d-%H", "%Y-%m-%d-%H:%M"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if parsed.minute == 0:
            return parsed.replace(tzinfo=UTC)
    raise argparse.ArgumentTypeError(f"expected an hour as YYYY-MM-DD-HH, e.g. 2026-11-28-00, got {text!r}")
