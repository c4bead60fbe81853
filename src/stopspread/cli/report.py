"""``stopspread report CASE``: the evidence report PDF and the WARC files alongside.

Exit 0: written, evidence verified. Exit 1: written, but the evidence log did NOT verify
(the report says so on its title page). Exit 2: usage error (unknown case, or a case whose
survivor withdrew and asked for the center's evidence to be deleted). Exit 3: the
set-up is wrong (no evidence key, the CJK fonts missing).
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import fail
from stopspread.cli._settings import config_option

__all__ = ["report_command"]


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
@click.option("--by", "worker", default="cli", show_default=True, help="Who prepared it.")
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
    worker: str,
    survivor_name: str | None,
    blurred_previews: bool,
) -> None:
    """Write the evidence report of case CODE (PDF) with its WARC files alongside."""
    from stopspread.languages import Language
    from stopspread.services.case_report import export_report, report_case_id
    from stopspread.services.workers.accounts import case_center_name

    with open_app(config_file) as app:
        case_id = report_case_id(app.services, code)
        if center is None:
            center = case_center_name(app.services, case_id)
        done = export_report(
            app.services, app.evidence_store(), case_id, folder,
            language=Language(language), center=center or "—", worker=worker,
            survivor_name=survivor_name, blurred_previews=blurred_previews,
        )  # fmt: skip
    click.echo(f"{done.pdf}  ({len(done.warc_files)} WARC files in {done.pdf.parent / 'warc'})")
    if not done.verified:
        fail("the evidence log did NOT verify; the report says so")
