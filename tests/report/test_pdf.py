"""The PDF evidence report: renders in Korean and English; pdftotext finds every fact;
pdftoppm renders the pages (PNGs saved under test-artifacts/report/ to look at)."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from stopspread.errors import ReportError
from stopspread.languages import REPORT_LANGUAGES, Language
from stopspread.report.fonts import find_cjk_fonts
from stopspread.report.model import (
    EvidenceReport,
    ReportCapture,
    ReportCase,
    ReportProof,
    ReportSighting,
    ReportTakedown,
    ReportTakedownEvent,
    ReportWarc,
)
from stopspread.report.pdf import format_time, render_report
from stopspread.report.strings import match_text
from tests.conftest import synthetic_rgb

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sample_report(
    language: Language,
    *,
    survivor: str | None = None,
    verified: bool = True,
    preview: bytes | None = None,
) -> EvidenceReport:
    sightings = []
    for n in range(3):
        url = f"https://cdn{n}.host.example/media/{n}/clip-{n:03d}.mp4"
        captures = [
            ReportCapture(
                captured_at=T0 + timedelta(hours=n, minutes=k * 30),
                media_sha256=sha(f"media-{n}-{k}"),
                page_sha256=sha(f"page-{n}-{k}"),
                warc_file=f"case-{n}-{k}.warc.gz",
                log_seq=10 + 2 * n + k,
                log_entry_hash=sha(f"log-{n}-{k}"),
            )
            for k in range(2)
        ]
        sightings.append(
            ReportSighting(
                url=url,
                page_url=f"https://host.example/board/view?id={1000 + n}&page=2",
                first_seen=T0 + timedelta(hours=n),
                last_seen=T0 + timedelta(days=2, hours=n),
                match_type=match_text(language, "vpdq" if n else "pdq", bool(n), 12),
                review="confirmed",
                captures=captures,
                reupload_of="SS-20261120-AAAAAA" if n == 2 else "",
                preview_png=preview if n == 0 else None,
            )
        )
    takedowns = [
        ReportTakedown(
            reference="SS-20261120-AAAAAA",
            url=sightings[0].url,
            host="host.example",
            recipient="abuse@host.example",
            language="ko",
            events=[
                ReportTakedownEvent(
                    T0 + timedelta(hours=2), "sent", "e-mail to abuse@host.example"
                ),
                ReportTakedownEvent(T0 + timedelta(hours=20), "acknowledged"),
                ReportTakedownEvent(T0 + timedelta(hours=30), "gone", "HTTP 404"),
                ReportTakedownEvent(T0 + timedelta(hours=30), "removed"),
                ReportTakedownEvent(T0 + timedelta(hours=40), "gone", "HTTP 404"),
                ReportTakedownEvent(
                    T0 + timedelta(hours=50), "error", "blocked: 10.0.0.1 is private"
                ),
            ],
        )
    ]
    return EvidenceReport(
        case=ReportCase(
            code="K7Q2-M9XD",
            center="디지털성범죄 피해자 지원센터 (예시)",
            opened_at=T0 - timedelta(days=3),
            worker="김지원",
            survivor_name=survivor,
        ),
        proof=ReportProof(
            verified=verified,
            verified_at=T0 + timedelta(days=3),
            chain_head=sha("head"),
            entries=42,
            detail="" if verified else "entry #12: digest does not match",
        ),
        generated_at=T0 + timedelta(days=3, minutes=1),
        language=language,
        sightings=sightings,
        takedowns=takedowns,
        warc_files=[
            ReportWarc(c.warc_file, sha(c.warc_file), 180_000 + i)
            for i, c in enumerate(c for s in sightings for c in s.captures)
        ],
    )


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool; ``make test`` installs them, so none missing is a failure."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: apt-get install poppler-utils (make test does)")
    return path


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return out.stdout.decode()


def flat(text: str) -> str:
    """Without white space: long URLs and digests wrap across lines in the table cells."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered() -> dict[Language, tuple[EvidenceReport, bytes]]:
    """One report per language, rendered once for the module (a render takes seconds)."""
    out = {}
    for language in REPORT_LANGUAGES:
        report = sample_report(language, survivor="홍길동")
        out[language] = (report, render_report(report))
    return out


@pytest.mark.parametrize("language", list(REPORT_LANGUAGES))
def test_report_text_has_every_fact(
    language: Language,
    tmp_path: Path,
    rendered: dict[Language, tuple[EvidenceReport, bytes]],
) -> None:
    report, pdf = rendered[language]
    assert pdf.startswith(b"%PDF-")
    text = pdftotext(pdf, tmp_path)
    compact = flat(text)
    for sighting in report.sightings:
        assert flat(sighting.url) in compact
        assert flat(sighting.page_url) in compact
        for capture in sighting.captures:
            assert capture.media_sha256 in compact
            assert capture.log_entry_hash is not None and capture.log_entry_hash in compact
    assert report.proof.chain_head in compact
    for warc in report.warc_files:
        assert warc.sha256 in compact
        assert flat(warc.name) in compact
    assert "SS-20261120-AAAAAA" in compact
    assert "K7Q2-M9XD" in text
    assert "2026-11-20 10:30:00 KST (01:30:00 UTC)" in text
    headings = {
        Language.KO: [
            "증거 보고서",
            "사건 요약",
            "발견된 게시물",
            "증거 기록 검증",
            "삭제 요청 이력",
            "WARC 파일",
            "검증 통과",
        ],
        Language.EN: [
            "Evidence report",
            "Case summary",
            "Sightings",
            "Evidence log proof",
            "Takedown history",
            "WARC files",
            "Verified",
        ],
    }[language]
    for heading in headings:
        assert heading in text, heading
    assert "디지털성범죄 피해자 지원센터" in text  # Korean in the English report too
    if language is Language.KO:  # a follow-up after the removal does not undo it
        assert re.search(r"삭제 확인\s+1건", text), text[:800]
    pages = text.count("\f")
    page_word = "쪽" if language is Language.KO else "Page"
    assert text.count(page_word) >= pages >= 2


def test_pages_render_to_png(rendered: dict[Language, tuple[EvidenceReport, bytes]]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for language in REPORT_LANGUAGES:
        for old in ARTIFACTS.glob(f"report-{language.value}-*.png"):
            old.unlink()
        pdf = rendered[language][1]
        path = ARTIFACTS / f"report-{language.value}.pdf"
        path.write_bytes(pdf)
        prefix = ARTIFACTS / f"report-{language.value}"
        subprocess.run(
            [poppler("pdftoppm"), "-png", "-r", "60", str(path), str(prefix)], check=True
        )
        pngs = sorted(ARTIFACTS.glob(f"report-{language.value}-*.png"))
        assert len(pngs) >= 2
        with Image.open(pngs[0]) as page:
            # A4 at 60 dpi is 496 x 702 pixels
            assert abs(page.width - 496) <= 2 and abs(page.height - 702) <= 2
            grey = page.convert("L")
            assert grey.getextrema()[0] < 80  # there is dark text on it


def test_no_survivor_name_unless_entered_and_no_images(tmp_path: Path) -> None:
    pdf = render_report(sample_report(Language.KO))
    assert b"/Subtype /Image" not in pdf and b"/Subtype/Image" not in pdf
    if shutil.which("pdftotext"):
        text = pdftotext(pdf, tmp_path)
        assert "피해자 이름" not in text and "피해자\n" not in text
        named = pdftotext(render_report(sample_report(Language.KO, survivor="홍길동")), tmp_path)
        assert "홍길동" in named


def test_a_blurred_preview_is_drawn_only_when_given(tmp_path: Path) -> None:
    image = (
        Image.fromarray(synthetic_rgb(160, 120, seed=5))
        .convert("L")
        .filter(ImageFilter.GaussianBlur(8))
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    pdf = render_report(sample_report(Language.EN, preview=buffer.getvalue()))
    assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf
    assert "Blurred preview" in pdftotext(pdf, tmp_path)


def test_failed_verification_is_shown(tmp_path: Path) -> None:
    pdf = render_report(sample_report(Language.EN, verified=False))
    if shutil.which("pdftotext"):
        text = pdftotext(pdf, tmp_path)
        assert "FAILED" in text
        assert "entry #12: digest does not match" in text


def test_fonts_are_embedded_and_subset(
    rendered: dict[Language, tuple[EvidenceReport, bytes]],
) -> None:
    pdf = rendered[Language.KO][1]
    assert b"NotoSansCJKKR" in pdf
    assert b"/BaseFont /Courier" in pdf  # digests: a core font, nothing embedded
    assert len(pdf) < 400_000  # subset: the .ttc files are ~20 MB each


def test_missing_fonts_are_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="fonts-noto-cjk"):
        find_cjk_fonts([tmp_path])


def test_format_time() -> None:
    assert format_time(T0) == "2026-11-20 10:30:00 KST (01:30:00 UTC)"
    late = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    assert format_time(late) == "2026-11-21 05:00:00 KST (2026-11-20 20:00:00 UTC)"
    with pytest.raises(ReportError):
        format_time(datetime(2026, 1, 1))
