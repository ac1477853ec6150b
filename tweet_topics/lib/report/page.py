"""Assemble plotly figures and HTML tables into one self-contained page (plotly.js inline: a pre-signed link to
the one object renders offline, and no second file has to be fetched with its own signature)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from tweet_topics.lib.report.tables import TABLE_CSS

REPORT_FILE = "index.html"  # the page's name in the bucket (storage/reports.py) and in a download


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_page(title: str, subtitle: str, sections: Sequence[tuple[str, Any]]) -> str:
    """``sections`` are (heading, plotly figure or ``HtmlTable``); every heading is an <h2> with a stable id."""
    body = []
    for heading, figure in sections:
        anchor = heading.lower().replace(" ", "-").replace("/", "")
        figure_html = figure.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        body.append(f'<section id="{html.escape(anchor)}"><h2>{html.escape(heading)}</h2>{figure_html}</section>')
    toc = "".join(f"<li>{html.escape(h)}</li>" for h, _ in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script type="text/javascript">{plotly_js()}</script>
<style>body{{font-family:sans-serif;margin:2rem;max-width:1400px}}section{{margin-bottom:2rem}}{TABLE_CSS}</style>
</head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p><ul>{toc}</ul>
{"".join(body)}
</body></html>
"""
