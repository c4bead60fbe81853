"""``stopspread quarantine list|release|keep``: the bank owner's decisions on quarantines.

A signal is quarantined for every platform when many distinct keys match it far more than
other signals, or muted for one key that floods it (services/quarantine.py). Each decision
is an audit event naming who made it.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._settings import config_option

__all__ = ["quarantine_group"]


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantined and muted signals: list them, release them, or keep a quarantine."""


@quarantine_group.command("list")
@config_option
def quarantine_list(config_file: Path | None) -> None:
    """Open quarantines (for every platform) and mutes (for one key), oldest first."""
    from stopspread.services.quarantine import open_quarantines

    with open_app(config_file) as app:
        rows = open_quarantines(app.db)
    if not rows:
        click.echo("no open quarantine", err=True)
    for row in rows:
        scope = "every platform" if row.client_id is None else f"client {row.client_id} only"
        when = row.created_at.isoformat(timespec="seconds")
        click.echo(
            f"{row.review_id}\tcase {row.case_id}\tsignal {row.signal_id}\t{scope}\t"
            f"{row.hits} hits\tsince {when}"
        )


@quarantine_group.command("release")
@config_option
@click.argument("review_id", type=click.IntRange(1, 2**63 - 1))
def quarantine_release(config_file: Path | None, review_id: int) -> None:
    """The hash is the survivor's: it answers again (within a second on every process)."""
    from stopspread.services.quarantine import release

    with open_app(config_file) as app:
        release(app.db, review_id, by=f"cli:{getpass.getuser()}")
    click.echo(f"quarantine {review_id} released")


@quarantine_group.command("keep")
@config_option
@click.argument("review_id", type=click.IntRange(1, 2**63 - 1))
def quarantine_keep(config_file: Path | None, review_id: int) -> None:
    """The hash matches what it should not: it stays quarantined for every platform."""
    from stopspread.services.quarantine import keep

    with open_app(config_file) as app:
        keep(app.db, review_id, by=f"cli:{getpass.getuser()}")
    click.echo(f"quarantine {review_id} kept")
