"""``stopspread report CASE``: the evidence report PDF and the WARC files alongside.

Exit 0: written, evidence verified. Exit 1: written, but the evidence log did NOT verify
(the report says so on its title page). Exit 2: usage error (unknown case, no key, fonts).
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._settings import config_option, settings_from
from stopspread.errors import ConfigError, ReportError, ServiceError

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
    from sqlalchemy import select

    from stopspread.languages import Language
    from stopspread.services.case_report import export_report
    from stopspread.services.context import build_services
    from stopspread.services.custody.store import EvidenceStore
    from stopspread.services.scans.queue import case_id_for_code
    from stopspread.storage import Database, upgrade
    from stopspread.storage.models_worker import CaseAssignment, Center

    settings = settings_from(config_file)
    db = Database(settings.url)
    try:
        upgrade(db)
        svc = build_services(settings, db)
        case_id = case_id_for_code(db, code)
        if center is None:
            with db.read() as session:
                center = session.scalars(
                    select(Center.name)
                    .join(CaseAssignment, CaseAssignment.center_id == Center.id)
                    .where(CaseAssignment.case_id == case_id)
                    .order_by(CaseAssignment.id)
                ).first()
        store = EvidenceStore.from_settings(settings, db, create_key=False)
        done = export_report(
            svc, store, case_id, folder, language=Language(language),
            center=center or "—", worker=worker, survivor_name=survivor_name,
            blurred_previews=blurred_previews,
        )  # fmt: skip
    except (ServiceError, ConfigError, ReportError) as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"{done.pdf}  ({len(done.warc_files)} WARC files in {done.pdf.parent / 'warc'})")
    if not done.verified:
        click.echo("stopspread: the evidence log did NOT verify; the report says so", err=True)
        raise SystemExit(1)
