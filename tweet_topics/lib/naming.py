"""Names shown to people: topic display names, window labels and small Markdown tables (for asset metadata)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any


def topic_name(topic: int, terms: Sequence[str], configured: Mapping[str, str] | None = None) -> str:
    """The configured name of a topic, else its top three terms."""
    return (configured or {}).get(str(topic)) or " / ".join(terms[:3])


def topic_names(topics: Iterable[Mapping[str, Any]], configured: Mapping[str, str] | None = None) -> dict[int, str]:
    """Topic index -> display name for a model manifest's ``topics``."""
    return {int(t["topic"]): topic_name(int(t["topic"]), t["terms"], configured) for t in topics}


def window_label(start: datetime, end: datetime) -> str:
    """The key-safe label of an hour window, e.g. ``2026030100-2026030223``."""
    return f"{start:%Y%m%d%H}-{end:%Y%m%d%H}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-style Markdown table; ``|`` and newlines in cells are escaped so a cell cannot break the table."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)
