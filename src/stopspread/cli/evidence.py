"""``stopspread evidence verify``: re-read every evidence file and check the evidence log.

Exit 0: everything verifies. Exit 1: problems found, each listed on stderr. Exit 2: usage
error (bad settings, no evidence key).
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._settings import config_option, settings_from
from stopspread.errors import ConfigError

__all__ = ["evidence_group"]


@click.group("evidence")
def evidence_group() -> None:
    """Captured evidence (encrypted WARC files and their hash-chained log)."""


@evidence_group.command("verify")
@config_option
def evidence_verify(config_file: Path | None) -> None:
    """Decrypt every evidence file, check every digest, the log chain and rows against it."""
    from stopspread.services.custody import EvidenceStore, verify_evidence
    from stopspread.storage import Database, upgrade

    settings = settings_from(config_file)
    db = Database(settings.url)
    try:
        upgrade(db)
        try:
            store = EvidenceStore.from_settings(settings, db, create_key=False)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from exc
        report = verify_evidence(db, store)
    finally:
        db.dispose()
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}", err=True)
    for name in report.unreferenced_files:
        click.echo(f"note: {name} is not referenced by any row (a capture rolled back)", err=True)
    summary = f"{report.records} evidence records, {report.entries} log entries"
    if not report.ok:
        click.echo(
            f"stopspread: evidence BROKEN: {len(report.problems)} problems; {summary}", err=True
        )
        raise SystemExit(1)
    click.echo(f"evidence intact: {summary}")
