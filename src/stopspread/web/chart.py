"""A small horizontal bar chart as inline SVG, drawn on the server (no JavaScript library).

The SVG is a labelled image (``role="img"`` with ``<title>`` and a ``<desc>`` that reads out
every value), and the same numbers follow in a real ``<table>`` inside a ``<details>`` element
(keyboard and screen reader friendly). It uses presentation attributes only — no ``style``
attribute, no script — so it passes the pages' strict Content-Security-Policy. Colours are
dark enough for text-level contrast (WCAG AA) on white.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup

__all__ = ["BAR_COLOURS", "Bar", "bar_chart"]

BAR_COLOURS: Final = ("#1f4e79", "#7a3b00", "#1e5e3a", "#5b2a86", "#8a1c1c", "#3d4a57")
_ID: Final = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_ROW_H: Final = 30  # px per bar row
_LABEL_W: Final = 160  # px for the labels on the left
_VALUE_W: Final = 60  # px for the numbers on the right


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    label_heading: str,
    value_heading: str,
    table_summary: str,
    width: int = 480,  # px; scaled down to the page width on phones
) -> Markup:
    """A ``<figure>`` with the SVG chart, its caption and the data table.

    ``chart_id`` makes the element ids unique on the page (lowercase, digits, hyphens);
    ``table_summary`` is the text of the ``<summary>`` that opens the table.
    """
    if not _ID.match(chart_id):
        raise ValueError("chart_id: lowercase letters, digits and hyphens, starting with a letter")
    if any(bar.value < 0 for bar in bars):
        raise ValueError("bar values are counts: never negative")
    height = max(1, len(bars)) * _ROW_H + 10
    top = max((bar.value for bar in bars), default=0) or 1
    span = width - _LABEL_W - _VALUE_W
    rows = Markup("").join(_row(i, bar, span, top) for i, bar in enumerate(bars))
    svg = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart-svg"'
        ' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' aria-labelledby="{cid}-title {cid}-desc">'
        '<title id="{cid}-title">{title}</title><desc id="{cid}-desc">{desc}</desc>{rows}</svg>'
    ).format(
        width=width,
        height=height,
        cid=chart_id,
        title=title,
        desc=", ".join(f"{bar.label}: {bar.value}" for bar in bars),
        rows=rows,
    )
    body = Markup("").join(
        Markup('<tr><th scope="row">{}</th><td>{}</td></tr>').format(bar.label, bar.value)
        for bar in bars
    )
    table = Markup(
        '<details class="chart-data"><summary>{summary}</summary>'
        "<table><caption>{title}</caption>"
        '<thead><tr><th scope="col">{lh}</th><th scope="col">{vh}</th></tr></thead>'
        "<tbody>{body}</tbody></table></details>"
    ).format(summary=table_summary, title=title, lh=label_heading, vh=value_heading, body=body)
    return Markup(
        '<figure class="chart" id="{cid}">{svg}<figcaption>{title}</figcaption>{table}</figure>'
    ).format(cid=chart_id, svg=svg, title=title, table=table)


_ROW: Final = Markup(
    '<text x="{lx}" y="{ty}" text-anchor="end" font-size="14" fill="#1a1a1a">{label}</text>'
    '<rect x="{bx}" y="{ry}" width="{length}" height="{bh}" fill="{colour}"></rect>'
    '<text x="{vx}" y="{ty}" font-size="14" fill="#1a1a1a">{value}</text>'
)


def _row(index: int, bar: Bar, span: int, top: int) -> Markup:
    y = 5 + index * _ROW_H
    length = round(span * bar.value / top)
    return _ROW.format(
        lx=_LABEL_W - 8,
        ty=y + 19,
        label=bar.label,
        bx=_LABEL_W,
        ry=y + 4,
        length=length,
        bh=_ROW_H - 8,
        colour=BAR_COLOURS[index % len(BAR_COLOURS)],
        vx=_LABEL_W + length + 6,
        value=bar.value,
    )
