"""``stopspread takedown check``: re-check every request waiting for a host (for cron).

Each requested URL is fetched with the scan fetcher; gone items move their request to
*removed*. Prints one line per request. Exit 0.
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._settings import config_option, settings_from

__all__ = ["takedown_group"]


@click.group("takedown")
def takedown_group() -> None:
    """Takedown requests: follow-up checks."""


@takedown_group.command("check")
@config_option
def takedown_check(config_file: Path | None) -> None:
    """Re-check the URL of every sent, acknowledged, refused or unanswered request."""
    from stopspread.services.context import build_services
    from stopspread.services.removal.rechecks import follow_up_open
    from stopspread.storage import Database, upgrade

    settings = settings_from(config_file)
    db = Database(settings.url)
    try:
        upgrade(db)
        results = follow_up_open(build_services(settings, db))
    finally:
        db.dispose()
    for request_id, result in results:
        click.echo(f"request {request_id}\t{result.outcome.value}\t{result.reason}")
    click.echo(f"{len(results)} requests checked")
