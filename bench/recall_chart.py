#!/usr/bin/env python3
"""A small SVG bar chart of recall per family from a ``bench/keypoints.py`` result (issue 14).

    .venv/bin/python bench/recall_chart.py bench/results/keypoints_heldout_screens.json \\
        docs/robustness_heldout.svg --before bench/results/keypoints_heldout_final.json

One row per family, a bar per series (``ss-img-1``; ``ss-img-1 OR ss-kp-1`` of ``--before``
when given; ``ss-img-1 OR ss-kp-1`` now), a line at the issue's 75 % floor. Plain SVG text
(no plotting library in the environment), a few kilobytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from html import escape
from pathlib import Path

COLOURS = ("#9aa5b1", "#f0a35e", "#1f6feb")
ROW, BAR, LEFT, PLOT, TOP = 28, 8, 170, 420, 40
FLOOR = 75.0


def chart(series: dict[str, dict[str, float]], title: str) -> str:
    """``series``: legend label -> family -> recall %, drawn in that order."""
    families = list(next(iter(series.values())))
    height = TOP + ROW * len(families) + 30
    width = LEFT + PLOT + 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<text x="10" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (name, colour) in enumerate(zip(series, COLOURS, strict=False)):
        x = 10 + 200 * i
        out.append(f'<rect x="{x}" y="24" width="10" height="8" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="32">{escape(name)}</text>')
    for row, family in enumerate(families):
        y = TOP + ROW * row
        label = family.removeprefix("R ")
        out.append(f'<text x="{LEFT - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        for i, (name, colour) in enumerate(zip(series, COLOURS, strict=False)):
            w = PLOT * float(series[name][family]) / 100
            out.append(
                f'<rect x="{LEFT}" y="{y + 2 + i * BAR}" width="{w:.1f}" height="{BAR - 1}" '
                f'fill="{colour}"/>'
            )
        best = float(series[list(series)[-1]][family])
        out.append(f'<text x="{LEFT + PLOT + 4}" y="{y + 13}">{best:.1f}</text>')
    bottom = TOP + ROW * len(families)
    x75 = LEFT + PLOT * FLOOR / 100
    out.append(
        f'<line x1="{x75}" y1="{TOP}" x2="{x75}" y2="{bottom}" stroke="#d1242f" '
        f'stroke-dasharray="4 3"/>'
    )
    for tick in (0, 25, 50, 75, 100):
        x = LEFT + PLOT * tick / 100
        out.append(f'<text x="{x}" y="{bottom + 14}" text-anchor="middle">{tick} %</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _column(path: Path, key: str) -> dict[str, float]:
    recall = json.loads(path.read_text())["recall"]
    return {family: float(row[key]) for family, row in recall.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("now", type=Path)
    ap.add_argument("svg", type=Path)
    ap.add_argument("--before", type=Path)
    ap.add_argument("--title", default="Recall per family, held-out photos")
    args = ap.parse_args()
    both = "ss-img-1 OR ss-kp-1"
    series = {"ss-img-1": _column(args.now, "ss-img-1")}
    if args.before:
        series[f"{both}, before"] = _column(args.before, both)
    series[f"{both}, now" if args.before else both] = _column(args.now, both)
    args.svg.write_text(chart(series, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
