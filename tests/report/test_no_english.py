"""No English inside a Korean report: every Korean report string, and a Korean PDF's text.

Issue 16 found "PDQ (image), 0 bits", "검토 결과 confirmed", "e-mail to abuse@…" and the
history notes "follow-up", "blocked: …" in a Korean PDF. ``tests/report/latin.py`` holds the
allow-list (URLs, e-mail addresses, digests, file names, codes, PDQ/MD5/WARC/SHA-256/ZIP …).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stopspread.languages import Language
from stopspread.report.pdf import render_report
from stopspread.report.strings import (
    LANGUAGE_NAMES,
    REVIEW_WORDS,
    STATUS_WORDS,
    WORDS,
    distance_phrase,
    match_text,
    note_text,
    size_text,
)
from stopspread.takedown.followup import FetchFailure, FetchOutcome, classify
from tests.report.latin import latin_words
from tests.report.test_pdf import pdftotext, sample_report

# Every note the services write in English (removal.workflow, takedown.followup).
SERVICE_NOTES = [
    "e-mail to abuse@host.example",
    "HTTP 404",
    "HTTP 500",
    *(
        classify(FetchOutcome(failure=f, detail="address 10.0.0.1 is private"), "0" * 64).reason
        for f in FetchFailure
    ),
    *(classify(FetchOutcome(failure=f), "0" * 64).reason for f in FetchFailure),
    classify(FetchOutcome(status=200, body=b"x"), "0" * 64).reason,
    classify(FetchOutcome(status=200, body=b"x"), "0" * 64, lambda _b: True).reason,
    "same file",
]


def test_the_checker_catches_what_issue_16_found() -> None:
    assert latin_words("PDQ (image), 0 bits") == ["image", "bits"]
    assert latin_words("검토 결과 confirmed") == ["confirmed"]
    assert latin_words("e-mail to abuse@host.example") == ["e", "mail", "to"]
    assert latin_words("follow-up") == ["follow", "up"]
    allowed = "파일 evidence-1-media.warc SHA-256 abcdef0123456789abcdef 주소 https://a.example/x"
    assert latin_words(allowed + " 참조번호 SS-20261120-AAAAAA, ZIP 파일, MD5") == []


def korean_strings() -> list[str]:
    texts = [*WORDS[Language.KO].values(), *STATUS_WORDS[Language.KO].values()]
    texts += [*REVIEW_WORDS[Language.KO].values(), *LANGUAGE_NAMES[Language.KO].values()]
    texts += [distance_phrase(Language.KO, d) for d in (0, 5, 20, 60)]
    texts += [match_text(Language.KO, s, v, 7) for s in ("pdq", "md5", "vpdq") for v in (0, 1)]
    texts += [note_text(Language.KO, note) for note in SERVICE_NOTES]
    texts += [size_text(Language.KO, n) for n in (10, 50_000, 80_000_000)]
    return texts


@pytest.mark.parametrize("text", korean_strings())
def test_every_korean_report_string_is_korean(text: str) -> None:
    assert latin_words(re.sub(r"\{[a-z_]+\}", " ", text)) == [], text  # not the {placeholders}


def test_every_service_note_has_its_own_korean_words() -> None:
    for note in SERVICE_NOTES:
        assert note_text(Language.KO, note) != note, note
        assert note_text(Language.EN, note), note


def test_the_words_tables_have_the_same_keys() -> None:
    for table in (WORDS, STATUS_WORDS, REVIEW_WORDS, LANGUAGE_NAMES):
        assert set(table[Language.KO]) == set(table[Language.EN])


def test_a_korean_pdf_has_no_english(tmp_path: Path) -> None:
    report = sample_report(Language.KO)
    text = pdftotext(render_report(report), tmp_path)
    facts = [report.case.code, report.proof.chain_head]
    for s in report.sightings:
        facts += [s.url, s.page_url, s.reupload_of]
        facts += [c.warc_file for c in s.captures]
    for t in report.takedowns:
        facts += [t.reference, t.url, t.host, t.recipient]
    facts += [w.name for w in report.warc_files]
    assert latin_words(text, facts) == []
