"""``stopspread quarantine list|release|keep``: the bank owner's decisions on quarantines.

A signal is quarantined for every platform when many distinct keys match it far more than
other signals, or muted for one key that floods it (services/quarantine.py). Each decision
is an audit event naming who made it.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stopspread.cli._settings import config_option, settings_from
from stopspread.errors import ServiceError

if TYPE_CHECKING:
    from stopspread.storage import Database

__all__ = ["quarantine_group"]


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantined and muted signals: list them, release them, or keep a quarantine."""


def _db(config_file: Path | None) -> Database:
    """Connect (lazily imported: ``stopspread hash`` never loads SQLAlchemy)."""
    from stopspread.storage import Database

    return Database(settings_from(config_file).url)


@quarantine_group.command("list")
@config_option
def quarantine_list(config_file: Path | None) -> None:
    """Open quarantines (for every platform) and mutes (for one key), oldest first."""
    from stopspread.services.quarantine import open_quarantines

    db = _db(config_file)
    try:
        rows = open_quarantines(db)
    finally:
        db.dispose()
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

    db = _db(config_file)
    try:
        release(db, review_id, by=f"cli:{getpass.getuser()}")
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"quarantine {review_id} released")


@quarantine_group.command("keep")
@config_option
@click.argument("review_id", type=click.IntRange(1, 2**63 - 1))
def quarantine_keep(config_file: Path | None, review_id: int) -> None:
    """The hash matches what it should not: it stays quarantined for every platform."""
    from stopspread.services.quarantine import keep

    db = _db(config_file)
    try:
        keep(db, review_id, by=f"cli:{getpass.getuser()}")
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"quarantine {review_id} kept")
