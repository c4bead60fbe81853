"""``stopspread takedown check``: re-check every request waiting for a host (for cron).

Each requested URL is fetched with the scan fetcher; gone items move their request to
*removed*. Prints one line per request. Exit 0 when every check ran (whatever it found),
1 when some checks could not be made (the URL could not be fetched), 2 when none could.
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import ExitCode, fail
from stopspread.cli._settings import config_option

__all__ = ["takedown_group"]


@click.group("takedown")
def takedown_group() -> None:
    """Takedown requests: follow-up checks."""


@takedown_group.command("check")
@config_option
def takedown_check(config_file: Path | None) -> None:
    """Re-check the URL of every sent, acknowledged, refused or unanswered request."""
    from stopspread.services.removal.rechecks import FollowUp, follow_up_open

    with open_app(config_file) as app:
        results = follow_up_open(app.services)
    for request_id, result in results:
        click.echo(f"request {request_id}\t{result.outcome.value}\t{result.reason}")
    errors = sum(result.outcome is FollowUp.ERROR for _id, result in results)
    click.echo(f"{len(results)} requests checked, {errors} could not be checked")
    if errors and errors == len(results):
        fail(f"no request could be checked ({errors} errors)", ExitCode.ALL_FAILED)
    if errors:
        fail(f"{errors} of {len(results)} requests could not be checked", ExitCode.FAILED)
