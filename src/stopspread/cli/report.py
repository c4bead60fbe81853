"""``stopspread report CASE``: the evidence report PDF and the WARC files alongside, or with
``--zip OUT.zip`` the evidence package (the PDF, the WARC files and a SHA-256 manifest).
``--author NAME`` names the person who prepares the report (required: it is printed on it).

Exit 0: written, evidence verified. Exit 1: written, but the evidence log did NOT verify
(the report says so on its title page). Exit 2: usage error (unknown case, or a case whose
survivor withdrew and asked for the center's evidence to be deleted). Exit 3: the
set-up is wrong (no evidence key, the CJK fonts missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stopspread.cli._context import AppContext, open_app
from stopspread.cli._exit import ExitCode, fail
from stopspread.cli._settings import config_option

if TYPE_CHECKING:
    from stopspread.languages import Language

__all__ = ["report_command"]


def _write_zip(
    app: AppContext, case_id: int, zip_path: Path, *, language: Language, **kw: Any
) -> bool:
    """Write the package next to ``zip_path`` first, then move it there (no half ZIP left)."""
    from stopspread.services.evidence_package import write_package

    partial = zip_path.with_name(zip_path.name + ".partial")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("wb") as target:
            made = write_package(
                app.services, app.evidence_store(), case_id, target, language=language, **kw
            )
        partial.replace(zip_path)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"{zip_path}  ({len(made.files) - 1} WARC files, the PDF and a SHA-256 manifest)")
    return made.verified


@click.command("report")
@config_option
@click.argument("code")
@click.option(
    "--lang", "language", type=click.Choice(["ko", "en"]), default="ko", show_default=True
)
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder for report-<CASE>-<lang>.pdf and warc/.",
)
@click.option(
    "--center", default=None, help="The center named on the report (default: the case's)."
)
@click.option(
    "--author",
    "--by",
    "author",
    required=True,
    help="The name of the person who prepares the report (printed on it as its author).",
)
@click.option(
    "--zip",
    "zip_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the evidence package: one ZIP with the PDF, warc/ and manifest-sha256.txt.",
)
@click.option("--survivor-name", default=None, help="Printed only when given.")
@click.option(
    "--blurred-previews", is_flag=True, help="Include each sighting's blurred grey preview."
)
def report_command(
    config_file: Path | None,
    code: str,
    language: str,
    folder: Path,
    center: str | None,
    author: str,
    zip_path: Path | None,
    survivor_name: str | None,
    blurred_previews: bool,
) -> None:
    """Write the evidence report of case CODE (PDF) with its WARC files alongside."""
    if not author.strip():
        fail("--author: name the person who prepares the report", ExitCode.USAGE)
    from stopspread.languages import Language
    from stopspread.services.case_report import export_report, report_case_id
    from stopspread.services.workers.accounts import case_center_name

    with open_app(config_file) as app:
        case_id = report_case_id(app.services, code)
        if center is None:
            center = case_center_name(app.services, case_id)
        if zip_path is not None:
            verified = _write_zip(
                app, case_id, zip_path, language=Language(language), center=center or "—",
                author=author.strip(), survivor_name=survivor_name,
                blurred_previews=blurred_previews,
            )  # fmt: skip
        else:
            done = export_report(
                app.services, app.evidence_store(), case_id, folder,
                language=Language(language), center=center or "—", worker=author.strip(),
                survivor_name=survivor_name, blurred_previews=blurred_previews,
            )  # fmt: skip
            verified = done.verified
            warcs = len(done.warc_files)
            click.echo(f"{done.pdf}  ({warcs} WARC files in {done.pdf.parent / 'warc'})")
    if not verified:
        fail("the evidence log did NOT verify; the report says so")
