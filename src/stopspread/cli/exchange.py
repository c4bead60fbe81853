"""``stopspread exchange add|list|pull``: pull other StopSpread centers' hash feeds.

The other center creates a client for us (``client create``) and allows it to pull
(``feed allow``); we register its URL and that key here and pull on a schedule (cron, or
``pull --every SECONDS``). See docs/interop.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from stopspread.cli._settings import config_option
from stopspread.cli.worker import _services

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

    with _services(config_file) as svc:
        peer_id = add_peer(svc, name, url, key)
    click.echo(f"peer {name} (id {peer_id}): its hashes go into bank exchange:{name}")


@exchange_group.command("list")
@config_option
def exchange_list(config_file: Path | None) -> None:
    """The peers, their checkpoints and last errors."""
    from sqlalchemy import func, select

    from stopspread.storage.models import Signal
    from stopspread.storage.models_exchange import ExchangePeer

    with _services(config_file) as svc, svc.db.read() as session:
        for peer in session.scalars(select(ExchangePeer).order_by(ExchangePeer.name)):
            held = session.scalar(select(func.count()).where(Signal.bank_id == peer.bank_id))
            click.echo(
                f"{peer.name}\t{peer.url}\tsignals {held}\tcheckpoint {peer.checkpoint_ts}"
                f"\tlast pull {peer.last_pull_at or '-'}\terror {peer.last_error or '-'}"
            )


@exchange_group.command("pull")
@config_option
@click.argument("names", nargs=-1)
@click.option("--every", type=click.FloatRange(min=1), default=None, help="Repeat every N s.")
def exchange_pull(config_file: Path | None, names: tuple[str, ...], every: float | None) -> None:
    """Pull NAMES (default: every peer); exit 1 if any peer failed."""
    from sqlalchemy import select

    from stopspread.errors import ServiceError
    from stopspread.services.exchange.peers import pull
    from stopspread.storage.models_exchange import ExchangePeer

    failed = False
    with _services(config_file) as svc:
        while True:
            with svc.db.read() as session:
                wanted = list(names) or list(session.scalars(select(ExchangePeer.name)))
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
