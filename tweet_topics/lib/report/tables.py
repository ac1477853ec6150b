"""Report tables as plain HTML (not plotly tables): text wraps, nothing is clipped, and a browser can check both.

Why not ``go.Table``: plotly draws tables as SVG with fixed row heights, so long text is cut at the cell edge and
the figure height has to be guessed (the representative tweets were clipped, the cost total cut mid-sentence).
An HTML ``<table>`` sizes itself to its content. Every cell is escaped here, once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NO_DATA = "no data for this window"


@dataclass(frozen=True)
class HtmlTable:
    """A titled table; ``to_html`` and ``to_json`` mirror a plotly figure's so the page treats both alike."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str = ""  # under the title: how the rows were chosen, what a blank cell means
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned, never wrapped
    empty: str = NO_DATA  # said instead of the table when there are no rows

    def column(self, index: int) -> list[str]:
        return [str(row[index]) for row in self.rows]

    def to_html(self, **_: Any) -> str:
        head = f'<p class="table-title">{html.escape(self.title)}</p>'
        if self.note:
            head += f'<p class="table-note">{html.escape(self.note)}</p>'
        if not self.rows:
            return f'<div class="report-table">{head}<p class="table-empty">{html.escape(self.empty)}</p></div>'
        headers = "".join(f"<th>{html.escape(str(h))}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(self._cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in self.rows)
        table = f"<table><thead><tr>{headers}</tr></thead><tbody>{body}</tbody></table>"
        return f'<div class="report-table">{head}{table}</div>'

    def _cell(self, index: int, value: Any) -> str:
        css = ' class="num"' if index in self.numeric else ""
        return f"<td{css}>{html.escape(str(value))}</td>"

    def to_json(self) -> str:
        rows = [[str(v) for v in row] for row in self.rows]
        return json.dumps({"title": self.title, "note": self.note, "headers": list(self.headers), "rows": rows})


TABLE_CSS = (
    ".report-table{margin:0.5rem 0 1rem}.report-table table{border-collapse:collapse;width:100%}"
    ".report-table th,.report-table td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;"
    "vertical-align:top;white-space:normal;overflow-wrap:anywhere}"
    ".report-table th{background:#e8eef6}.report-table td.num{text-align:right;white-space:nowrap}"
    ".table-title{font-weight:bold;margin:0.25rem 0}.table-note{color:#555;margin:0.25rem 0}"
    ".table-empty{color:#777;font-style:italic}"
)
