"""``stopspread exchange add|list|pull``: pull other StopSpread centers' hash feeds.

The other center creates a client for us (``client create``) and allows it to pull
(``feed allow``); we register its URL and that key here and pull on a schedule (cron, or
``pull --every SECONDS``). See docs/interop.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._settings import config_option

__all__ = ["exchange_group"]


@click.group("exchange")
def exchange_group() -> None:
    """Center-to-center exchange: pull other centers' feeds into banks of ours."""


@exchange_group.command("add")
@config_option
@click.argument("name")
@click.argument("url")
@click.option("--key", required=True, help="The API key the other center issued to us.")
def exchange_add(config_file: Path | None, name: str, url: str, key: str) -> None:
    """Register the center NAME at URL (its base URL, e.g. https://center.example)."""
    from stopspread.services.exchange.peers import add_peer

    with open_app(config_file) as app:
        peer_id = add_peer(app.services, name, url, key)
    click.echo(f"peer {name} (id {peer_id}): its hashes go into bank exchange:{name}")


@exchange_group.command("list")
@config_option
def exchange_list(config_file: Path | None) -> None:
    """The peers, their checkpoints and last errors."""
    from stopspread.services.exchange.peers import list_peers

    with open_app(config_file) as app:
        peers = list_peers(app.services)
    for peer in peers:
        click.echo(
            f"{peer.name}\t{peer.url}\tsignals {peer.signals}\tcheckpoint {peer.checkpoint_ts}"
            f"\tlast pull {peer.last_pull_at or '-'}\terror {peer.last_error or '-'}"
        )
    if not peers:
        click.echo("no peers yet: stopspread exchange add NAME URL --key KEY", err=True)


@exchange_group.command("pull")
@config_option
@click.argument("names", nargs=-1)
@click.option("--every", type=click.FloatRange(min=1), default=None, help="Repeat every N s.")
def exchange_pull(config_file: Path | None, names: tuple[str, ...], every: float | None) -> None:
    """Pull NAMES (default: every peer); exit 1 if any peer failed."""
    from stopspread.errors import ServiceError
    from stopspread.services.exchange.peers import peer_names, pull

    failed = False
    with open_app(config_file) as app:
        svc = app.services
        while True:
            wanted = list(names) or peer_names(svc)
            for name in wanted:
                try:
                    r = pull(svc, name)
                except ServiceError as exc:
                    failed = True
                    click.echo(f"stopspread: peer {name}: {exc}", err=True)
                    continue
                click.echo(
                    f"peer {name}: {r.pages} pages, {r.added} added, {r.removed} removed, "
                    f"{r.retries} retries, {r.feedback_sent} verdicts sent"
                )
            if every is None:
                break
            time.sleep(every)
    if failed:
        raise SystemExit(1)
