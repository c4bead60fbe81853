"""A request's history as the worker's page shows it: the follow-up's notes and actor in the
page's language, a worker's own words and name as written (issue 16: no English on a Korean
page)."""

from __future__ import annotations

from datetime import UTC, datetime

from stopspread.languages import Language
from stopspread.services.removal.dashboard import HistoryLine, history_in

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
LINES = [
    HistoryLine(AT, "sent", "hana", "e-mail to abuse@host.example"),
    HistoryLine(AT, "still_there_same", "follow-up", "same file"),
    HistoryLine(AT, "error", "follow-up", "timeout: read timed out after 20 s"),
    HistoryLine(AT, "acknowledged", "hana", "담당자와 통화함"),
]


def test_korean_history_has_no_english_words() -> None:
    shown = history_in(Language.KO, LINES)
    assert [h.actor for h in shown] == ["hana", "자동 재확인", "자동 재확인", "hana"]
    assert shown[0].note == "abuse@host.example 주소로 이메일 보냄"
    assert shown[1].note == "같은 파일이 그대로 있음"
    assert shown[2].note == "응답 시간 초과"  # the English detail is dropped in Korean
    assert shown[3].note == "담당자와 통화함"  # her own words, as written


def test_english_history_keeps_the_detail() -> None:
    shown = history_in(Language.EN, LINES)
    assert shown[1].actor == "automatic re-check"
    assert "abuse@host.example" in shown[0].note and "20 s" in shown[2].note
