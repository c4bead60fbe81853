"""The evidence report as a PDF (A4, Korean or English), drawn with fpdf2.

A title page (case, center, counts, the verification result, what the report leaves out),
then: case summary, each sighting with its captures, the evidence log proof, the takedown
history, and the list of WARC files delivered alongside. Every page but the first carries
the case code, and every page its number. Times are printed as Korea time and UTC. No image
is drawn unless a sighting carries a blurred preview that a worker chose to include.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.errors import FPDFException

from stopspread.errors import ReportError
from stopspread.languages import REPORT_LANGUAGES
from stopspread.report.fonts import CjkFonts, find_cjk_fonts
from stopspread.report.model import (
    EvidenceReport,
    ReportCapture,
    ReportSighting,
    ReportTakedown,
)
from stopspread.report.strings import (
    LANGUAGE_NAMES,
    REVIEW_WORDS,
    STATUS_WORDS,
    WORDS,
    note_text,
    size_text,
)

__all__ = ["format_time", "render_report"]

KST: Final = timezone(timedelta(hours=9), "KST")
_SANS: Final = "noto"
_MONO: Final = "courier"  # a PDF core font: nothing to embed; digests and URLs are ASCII
_INK: Final = (20, 20, 20)
_MUTED: Final = (90, 90, 90)
_OK: Final = (0, 100, 50)
_BAD: Final = (170, 0, 0)
_LINE: Final = 5.2  # mm, body text line height
_LABEL_FILL: Final = (238, 240, 244)


def format_time(moment: datetime) -> str:
    """``2026-11-25 18:00:00 KST (09:00:00 UTC)``; the UTC date too when it differs."""
    if moment.tzinfo is None:
        raise ReportError("report times must be timezone-aware")
    kst, utc = moment.astimezone(KST), moment.astimezone(UTC)
    utc_text = f"{utc:%H:%M:%S}" if utc.date() == kst.date() else f"{utc:%Y-%m-%d %H:%M:%S}"
    return f"{kst:%Y-%m-%d %H:%M:%S} KST ({utc_text} UTC)"


class _Document(FPDF):
    def __init__(self, report: EvidenceReport, fonts: CjkFonts) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.words = WORDS[report.language]
        self.language = report.language
        self.case_code = report.case.code
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font(_SANS, "", str(fonts.regular), collection_font_number=fonts.regular_index)
        self.add_font(_SANS, "B", str(fonts.bold), collection_font_number=fonts.bold_index)
        self.set_title(f"{self.words['title']} — {report.case.code}")
        self.set_author(report.case.center)
        self.set_creator("StopSpread")
        self.set_lang(report.language.value)
        self.set_creation_date(report.generated_at.astimezone(UTC))

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(_SANS, "", 8)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, f"{self.words['title']} · {self.words['case']} {self.case_code}")
        self.ln(9)
        self.set_text_color(*_INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_SANS, "", 8)
        self.set_text_color(*_MUTED)
        text = self.words["page"].format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, text, align="C")
        self.set_text_color(*_INK)

    # --- building blocks -----------------------------------------------------------------

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 60:
            self.add_page()
        self.ln(3)
        self.set_font(_SANS, "B", 14)
        self.multi_cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def subheading(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(2)
        self.set_font(_SANS, "B", 11)
        self.multi_cell(0, 6.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str, size: float = 10, colour: tuple[int, int, int] = _INK) -> None:
        self.set_font(_SANS, "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, _LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*_INK)
        self.ln(1.5)

    def pairs(self, rows: Sequence[tuple[str, str]], mono: frozenset[str] = frozenset()) -> None:
        """A two-column label/value table; values whose label is in ``mono`` in monospace."""
        label_style = FontFace(family=_SANS, emphasis="BOLD", fill_color=_LABEL_FILL)
        self.set_font(_SANS, "", 9)
        with self.table(
            col_widths=(0.27, 0.73),
            first_row_as_headings=False,
            line_height=_LINE,
            text_align=("LEFT", "LEFT"),
            padding=1.2,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=label_style)
                row.cell(value, style=_mono(value, 8.5) if label in mono else None)
        self.ln(2)

    def grid(
        self,
        head: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        mono_columns: frozenset[int] = frozenset(),
    ) -> None:
        """A table with a heading row; columns in ``mono_columns`` in monospace."""
        self.set_font(_SANS, "", 8.5)
        heading = FontFace(family=_SANS, emphasis="BOLD", fill_color=_LABEL_FILL)
        with self.table(
            col_widths=tuple(widths),
            headings_style=heading,
            line_height=4.8,
            text_align="LEFT",
            padding=1.2,
        ) as table:
            first = table.row()
            for text in head:
                first.cell(text)
            for values in rows:
                row = table.row()
                for column, text in enumerate(values):
                    row.cell(text, style=_mono(text, 7.5) if column in mono_columns else None)
        self.ln(2)


def _mono(text: str, size: float) -> FontFace | None:
    """Courier for ASCII text (digests, URLs); anything else stays in the CJK font."""
    return FontFace(family=_MONO, size_pt=size) if text.isascii() else None


def render_report(report: EvidenceReport, fonts: CjkFonts | None = None) -> bytes:
    """The report as PDF bytes. Raises :class:`ReportError` (fonts missing, bad input)."""
    if report.language not in REPORT_LANGUAGES:
        raise ReportError(f"no report in {report.language.value}: ko or en")
    doc = _Document(report, fonts or find_cjk_fonts())
    try:
        _title_page(doc, report)
        doc.add_page()
        _summary(doc, report)
        _sightings(doc, report)
        _proof(doc, report)
        _takedowns(doc, report)
        _room_checks(doc, report)
        _warc(doc, report)
        return bytes(doc.output())
    except FPDFException as exc:
        raise ReportError(f"the report could not be laid out: {exc}") from exc


def _counts(report: EvidenceReport) -> list[tuple[str, str]]:
    w = report.language
    words = WORDS[w]
    c = report.counts
    numbers: dict[str, int]
    if c is not None:  # the case timeline's numbers: the dashboard and her status agree
        numbers = {
            "n_sightings": c.found,
            "n_under_review": c.under_review,
            "n_confirmed": c.confirmed,
            "n_platform": c.platform_matches,
            "n_captures": sum(len(s.captures) for s in report.sightings),
            "n_requests": c.requests_sent,
            "n_removed": c.removed,
            "n_reuploads": c.reuploads,
        }
    else:
        removed = sum(1 for t in report.takedowns if _last_status(t) == "removed")
        numbers = {
            "n_sightings": len(report.sightings),
            "n_captures": sum(len(s.captures) for s in report.sightings),
            "n_requests": len(report.takedowns),
            "n_removed": removed,
            "n_reuploads": sum(1 for s in report.sightings if s.reupload_of),
        }
    return [(words[key], words["count"].format(n=n)) for key, n in numbers.items()]


_STATUSES: Final = frozenset(
    {"draft", "sent", "acknowledged", "removed", "refused", "no_answer"}
)  # a request's statuses; other events are follow-up results


def _last_status(takedown: ReportTakedown) -> str:
    statuses = [e.status for e in takedown.events if e.status in _STATUSES]
    return statuses[-1] if statuses else ""


def _title_page(doc: _Document, report: EvidenceReport) -> None:
    words, case = doc.words, report.case
    doc.add_page()
    doc.set_y(48)
    doc.set_font(_SANS, "B", 28)
    doc.multi_cell(0, 13, words["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    doc.paragraph(words["subtitle"], size=11, colour=_MUTED)
    doc.ln(6)
    rows = [(words["case"], case.code), (words["center"], case.center)]
    if case.survivor_name:
        rows.append((words["survivor"], case.survivor_name))
    if case.worker:
        rows.append((words["worker"], case.worker))
    rows += [
        (words["opened"], format_time(case.opened_at)),
        (words["generated"], format_time(report.generated_at)),
    ]
    doc.pairs(rows)
    doc.subheading(words["summary"])
    doc.pairs(_counts(report))
    _verdict(doc, report)
    doc.paragraph(words["no_images"], size=9.5, colour=_MUTED)
    warcs = len(report.warc_files)
    warc_line = words["warc_with"].format(n=warcs) if warcs else words["warc_none"]
    doc.paragraph(warc_line, size=9.5, colour=_MUTED)
    if any(s.preview_png for s in report.sightings):
        doc.paragraph(words["with_previews"], size=9.5, colour=_MUTED)


def _verdict(doc: _Document, report: EvidenceReport) -> None:
    ok = report.proof.verified
    doc.ln(2)
    doc.set_font(_SANS, "B", 11)
    doc.set_text_color(*(_OK if ok else _BAD))
    doc.set_draw_color(*(_OK if ok else _BAD))
    text = doc.words["verified_ok" if ok else "verified_bad"]
    doc.multi_cell(0, 7, text, border=1, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_text_color(*_INK)
    doc.set_draw_color(0, 0, 0)
    doc.ln(4)


def _summary(doc: _Document, report: EvidenceReport) -> None:
    words, case = doc.words, report.case
    doc.heading(words["s_summary"])
    rows = [(words["case"], case.code), (words["center"], case.center)]
    if case.survivor_name:
        rows.append((words["survivor"], case.survivor_name))
    rows.append((words["opened"], format_time(case.opened_at)))
    if case.notes:
        rows.append((words["notes"], case.notes))
    rows += _counts(report)
    doc.pairs(rows)


def _sightings(doc: _Document, report: EvidenceReport) -> None:
    words = doc.words
    doc.heading(words["s_sightings"])
    if not report.sightings:
        doc.paragraph(words["no_sightings"])
    for number, sighting in enumerate(report.sightings, 1):
        doc.subheading(words["sighting"].format(n=number))
        doc.pairs(_sighting_rows(doc, sighting), mono=frozenset({words["url"], words["page_url"]}))
        if sighting.captures:
            _captures(doc, sighting.captures)
        if sighting.preview_png:
            _preview(doc, sighting.preview_png)


def _sighting_rows(doc: _Document, sighting: ReportSighting) -> list[tuple[str, str]]:
    words = doc.words
    rows = [
        (words["url"], sighting.url),
        (words["page_url"], sighting.page_url),
        (words["first_seen"], format_time(sighting.first_seen)),
        (words["last_seen"], format_time(sighting.last_seen)),
        (words["match_type"], sighting.match_type),
    ]
    if sighting.review:
        review = REVIEW_WORDS[doc.language].get(sighting.review, sighting.review)
        rows.append((words["review"], review))
    if sighting.reupload_of:
        rows.append((words["reupload_of"], sighting.reupload_of))
    return rows


def _captures(doc: _Document, captures: Sequence[ReportCapture]) -> None:
    words = doc.words
    for number, capture in enumerate(captures, 1):
        if doc.get_y() > doc.h - 70:  # keep a capture's table (about 45 mm) on one page
            doc.add_page()
        doc.set_font(_SANS, "B", 9)
        title = f"{words['captures']} {number}/{len(captures)}"
        doc.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        rows = [
            (words["captured_at"], format_time(capture.captured_at)),
            (words["media_sha256"], capture.media_sha256),
        ]
        if capture.page_sha256:
            rows.append((words["page_sha256"], capture.page_sha256))
        if capture.warc_file:
            rows.append((words["warc_file"], capture.warc_file))
        if capture.log_seq is not None:
            rows.append((words["log_entry"], f"#{capture.log_seq} {capture.log_entry_hash or ''}"))
        mono = {words["media_sha256"], words["page_sha256"], words["warc_file"], words["log_entry"]}
        doc.pairs(rows, mono=frozenset(mono))


def _preview(doc: _Document, png: bytes) -> None:
    doc.set_font(_SANS, "", 8.5)
    doc.cell(0, 5, doc.words["preview"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    try:
        doc.image(io.BytesIO(png), w=45)
    except Exception as exc:  # fpdf2/Pillow raise many kinds for a bad image
        raise ReportError(f"a preview image could not be drawn: {exc}") from exc
    doc.ln(2)


def _proof(doc: _Document, report: EvidenceReport) -> None:
    words, proof = doc.words, report.proof
    doc.heading(words["s_proof"])
    doc.paragraph(words["proof_intro"])
    rows = [
        (words["result"], words["ok"] if proof.verified else words["failed"]),
        (words["verified_at"], format_time(proof.verified_at)),
        (words["entries"], str(proof.entries)),
        (words["chain_head"], proof.chain_head),
    ]
    if proof.detail:
        rows.append((words["detail"], proof.detail))
    doc.pairs(rows, mono=frozenset({words["chain_head"]}))
    _verdict(doc, report)


def _takedowns(doc: _Document, report: EvidenceReport) -> None:
    words = doc.words
    doc.heading(words["s_takedowns"])
    if not report.takedowns:
        doc.paragraph(words["no_takedowns"])
    statuses = STATUS_WORDS[report.language]
    for takedown in report.takedowns:
        _takedown(doc, takedown, statuses)


def _takedown(doc: _Document, takedown: ReportTakedown, statuses: Mapping[str, str]) -> None:
    words = doc.words
    doc.subheading(f"{words['reference']} {takedown.reference}")
    doc.pairs(
        [
            (words["url"], takedown.url),
            (words["host"], takedown.host),
            (words["recipient"], takedown.recipient),
            (
                words["language"],
                LANGUAGE_NAMES[doc.language].get(takedown.language, takedown.language),
            ),
        ],
        mono=frozenset({words["url"]}),
    )
    if takedown.events:
        rows = [
            [format_time(e.at), statuses.get(e.status, e.status), note_text(doc.language, e.note)]
            for e in takedown.events
        ]
        doc.grid([words["time"], words["status"], words["note"]], rows, (0.42, 0.22, 0.36))


def _room_checks(doc: _Document, report: EvidenceReport) -> None:
    words = doc.words
    doc.heading(words["s_room"])
    if not report.room_checks:
        doc.paragraph(words["no_room"])
        return
    doc.paragraph(words["room_intro"])
    for number, room in enumerate(report.room_checks, 1):
        doc.subheading(words["room_check"].format(n=number))
        counts = words["room_counts_value"].format(
            likely=room.likely, check=room.check, unlikely=room.unlikely
        )
        rows = [
            (words["captured_at"], format_time(room.checked_at)),
            (words["room_network"], room.network),
            (words["room_counts"], counts),
            (words["media_sha256"], room.payload_sha256),
            (words["warc_file"], room.warc_file),
        ]
        if room.log_seq is not None:
            rows.append((words["log_entry"], f"#{room.log_seq} {room.log_entry_hash or ''}"))
        mono = {words["media_sha256"], words["warc_file"], words["log_entry"]}
        doc.pairs(rows, mono=frozenset(mono))
        if not room.flagged:
            doc.paragraph(words["room_none_flagged"], size=9.5, colour=_MUTED)
        for device in room.flagged:
            title = words["room_device"].format(address=device.address)
            label = f" ({device.label})" if device.label else ""
            doc.paragraph(f"{title}{label}: {device.verdict}", size=9.5)
            for reason in device.reasons:
                doc.paragraph(f"  - {reason}", size=9, colour=_MUTED)


def _warc(doc: _Document, report: EvidenceReport) -> None:
    words = doc.words
    doc.heading(words["s_warc"])
    if not report.warc_files:
        doc.paragraph(words["no_warc"])
        return
    doc.paragraph(words["warc_intro"])
    rows = [[w.name, size_text(report.language, w.size_bytes), w.sha256] for w in report.warc_files]
    doc.grid([words["file"], words["size"], "SHA-256"], rows, (0.25, 0.11, 0.64), frozenset({0, 2}))
