"""Service commands: ``serve``, ``db upgrade``, ``client create|revoke``, ``audit verify``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stopspread.cli._settings import config_option, settings_from
from stopspread.errors import AuditChainError, ServiceError

if TYPE_CHECKING:
    from stopspread.storage import Database

__all__ = ["audit_group", "client_group", "db_group", "serve_command"]


def _database(config_file: Path | None) -> Database:
    """Connect (lazily imported: ``stopspread hash`` never loads SQLAlchemy)."""
    from stopspread.storage import Database

    return Database(settings_from(config_file).url)


@click.command("serve")
@config_option
@click.option(
    "--host", default=None, help="Address to listen on (default: STOPSPREAD_HOST, 127.0.0.1)."
)
@click.option(
    "--port", type=int, default=None, help="Port (default: STOPSPREAD_PORT, 8000; 0 picks one)."
)
def serve_command(config_file: Path | None, host: str | None, port: int | None) -> None:
    """Run the HTTP API (migrating the database first)."""
    import uvicorn

    from stopspread.storage import Database, upgrade
    from stopspread.web import create_app
    from stopspread.web.proxy import proxy_options

    settings = settings_from(config_file)
    settings = settings.replace(
        host=host or settings.host, port=settings.port if port is None else port
    )
    upgrade(Database(settings.url))
    click.echo(
        f"StopSpread {settings.url.split(':', 1)[0]} database ready; index: {settings.index_kind}"
    )
    click.echo(f"Open http://{settings.host}:{settings.port}/docs  (API under /v1; Ctrl-C stops)")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if settings.workers > 1:  # each worker builds its app from the environment
        if config_file is not None:
            os.environ["STOPSPREAD_CONFIG"] = str(config_file)
        app: object = "stopspread.web.factory:app_from_environment"
    else:
        app = create_app(settings)
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # paths carry case codes; nothing per request is logged
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        **proxy_options(settings),  # X-Forwarded-For only from configured proxies
    )


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@config_option
def db_upgrade(config_file: Path | None) -> None:
    """Create or migrate the database to the latest schema."""
    from stopspread.storage import current_revision, upgrade

    db = _database(config_file)
    upgrade(db)
    click.echo(f"database at revision {current_revision(db)}")
    db.dispose()


@click.group("client")
def client_group() -> None:
    """Platform API clients."""


@client_group.command("create")
@config_option
@click.argument("name")
@click.option(
    "--can-hash", is_flag=True, help="Allow POST /v1/hash (the file is hashed in memory)."
)
def client_create(config_file: Path | None, name: str, can_hash: bool) -> None:
    """Register a platform and print its API key (shown once, stored hashed)."""
    from stopspread.services.platform import create_client
    from stopspread.storage import upgrade

    db = _database(config_file)
    upgrade(db)
    try:
        client, key = create_client(db, name, can_hash)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"client {client.name} (id {client.id}); its API key, shown only now:", err=True)
    click.echo(key)


@client_group.command("revoke")
@config_option
@click.argument("name")
def client_revoke(config_file: Path | None, name: str) -> None:
    """Revoke a platform's API key (within a second on every server process)."""
    from stopspread.services.platform import revoke_client

    db = _database(config_file)
    try:
        revoke_client(db, name)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"client {name} revoked")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@config_option
def audit_verify(config_file: Path | None) -> None:
    """Check every audit event's hash and link; exit 1 if any row was edited or deleted."""
    from stopspread.services.audit import verify

    db = _database(config_file)
    try:
        report = verify(db)
    except AuditChainError as exc:
        click.echo(f"stopspread: audit chain BROKEN: {exc}", err=True)
        raise SystemExit(1) from exc
    finally:
        db.dispose()
    click.echo(f"audit chain intact: {report.events} events, head {report.head_hash}")
