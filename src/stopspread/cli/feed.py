"""``stopspread feed allow|deny NAME`` and ``feed purge``: who may pull the hash feed.

Pulling the StopNCII-compatible feed downloads every published hash: it is off for every
platform client until the operator allows it here (audited).
"""

from __future__ import annotations

from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._settings import config_option

__all__ = ["feed_group"]


@click.group("feed")
def feed_group() -> None:
    """The StopNCII-compatible hash feed (bulk export, off by default)."""


@feed_group.command("allow")
@config_option
@click.argument("name")
def feed_allow(config_file: Path | None, name: str) -> None:
    """Let platform client NAME pull the whole feed (GET /v1/FetchHashes)."""
    from stopspread.services.exchange import feed

    with open_app(config_file) as app:
        feed.allow(app.db, name)
    click.echo(f"client {name} may pull the hash feed")


@feed_group.command("deny")
@config_option
@click.argument("name")
def feed_deny(config_file: Path | None, name: str) -> None:
    """Stop platform client NAME from pulling the feed (its key still matches)."""
    from stopspread.services.exchange import feed

    with open_app(config_file) as app:
        feed.deny(app.db, name)
    click.echo(f"client {name} may no longer pull the hash feed")


@feed_group.command("purge")
@config_option
def feed_purge(config_file: Path | None) -> None:
    """Delete tombstones older than the published retention (37 days)."""
    from stopspread.services.exchange.feed_log import purge_expired

    with open_app(config_file) as app:
        gone = purge_expired(app.db)
    click.echo(f"{gone} tombstones purged")
