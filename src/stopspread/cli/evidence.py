"""``stopspread evidence verify``: re-read every evidence file and check the evidence log.

Exit 0: everything verifies. Exit 1: problems found, each listed on stderr. Exit 3: the set-up
is wrong (bad settings, no evidence key). Exit 2: usage error.
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import fail
from stopspread.cli._settings import config_option

__all__ = ["evidence_group"]


@click.group("evidence")
def evidence_group() -> None:
    """Captured evidence (encrypted WARC files and their hash-chained log)."""


@evidence_group.command("verify")
@config_option
def evidence_verify(config_file: Path | None) -> None:
    """Decrypt every evidence file, check every digest, the log chain and rows against it."""
    from stopspread.services.custody import verify_evidence

    with open_app(config_file) as app:
        report = verify_evidence(app.db, app.evidence_store())
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}", err=True)
    for name in report.unreferenced_files:
        click.echo(f"note: {name} is not referenced by any row (a capture rolled back)", err=True)
    summary = f"{report.records} evidence records, {report.entries} log entries"
    if report.erased:
        summary += f", {report.erased} erased at a withdrawal (her choice)"
    if not report.ok:
        fail(f"evidence BROKEN: {len(report.problems)} problems; {summary}")
    click.echo(f"evidence intact: {summary}")
