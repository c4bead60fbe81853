"""The dashboard's bar chart: valid SVG, escaped labels, a text alternative, CSP-safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stopspread.web.chart import Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def chart(bars: list[Bar]) -> str:
    return str(
        bar_chart(
            "requests-by-status",
            "상태별 삭제 요청",
            bars,
            label_heading="상태",
            value_heading="건수",
            table_summary="표로 보기",
        )
    )


def test_bars_scale_and_every_value_is_readable() -> None:
    html = chart([Bar("보냄", 4), Bar("삭제됨", 8), Bar("답 없음", 0)])
    root = ET.fromstring(html)  # well-formed XML as a whole
    svg = root.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "requests-by-status-title requests-by-status-desc"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None and title.text == "상태별 삭제 요청"
    assert desc is not None and desc.text == "보냄: 4, 삭제됨: 8, 답 없음: 0"
    widths = [int(rect.get("width", "-1")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[1] == 260 and widths[0] == 130 and widths[2] == 0  # 480 - 160 - 60 = 260
    rows = root.findall(".//tbody/tr")
    assert [(r[0].text, r[1].text) for r in rows] == [
        ("보냄", "4"),
        ("삭제됨", "8"),
        ("답 없음", "0"),
    ]
    assert root.find(".//details/summary").text == "표로 보기"  # type: ignore[union-attr]


def test_labels_are_escaped_and_nothing_inline_runs() -> None:
    html = chart([Bar('<script>alert("x")</script>', 1)])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "style=" not in html and "onload" not in html


def test_empty_chart_and_bad_input() -> None:
    ET.fromstring(chart([]))
    with pytest.raises(ValueError, match="never negative"):
        chart([Bar("x", -1)])
    with pytest.raises(ValueError, match="chart_id"):
        bar_chart("Bad Id", "t", [], label_heading="a", value_heading="b", table_summary="c")
