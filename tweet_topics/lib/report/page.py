"""Assemble plotly figures into one self-contained HTML page (plotly.js written once beside it)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

PLOTLY_JS = "plotly.min.js"


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_page(title: str, subtitle: str, sections: Sequence[tuple[str, Any]]) -> str:
    """``sections`` are (heading, figure); every heading is an <h2> with a stable id."""
    body = []
    for heading, figure in sections:
        anchor = heading.lower().replace(" ", "-").replace("/", "")
        figure_html = figure.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        body.append(f'<section id="{html.escape(anchor)}"><h2>{html.escape(heading)}</h2>{figure_html}</section>')
    toc = "".join(f"<li>{html.escape(h)}</li>" for h, _ in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script src="{PLOTLY_JS}"></script>
<style>body{{font-family:sans-serif;margin:2rem;max-width:1400px}}section{{margin-bottom:2rem}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p><ul>{toc}</ul>
{"".join(body)}
</body></html>
"""
