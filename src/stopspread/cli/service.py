"""Service commands: ``serve``, ``db upgrade|seal|status``, ``client create|revoke``,
``audit verify``.

Exit codes: see ``_exit.py`` (0 ok, 1 a check failed, 2 refused, 3 the set-up is wrong).
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import ExitCode, exit_code_for, fail
from stopspread.cli._settings import config_option, settings_from
from stopspread.config import Settings
from stopspread.errors import AuditChainError, StopSpreadError

__all__ = ["audit_group", "client_group", "db_group", "serve_command", "welcome"]


def welcome(settings: Settings, setup_token: str | None) -> list[str]:
    """What ``serve`` prints once it is ready: where to go, and how the first admin is made."""
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"StopSpread starts on {base} (Ctrl-C stops it)",
        f"  survivors:         {base}/",
        f"  support workers:   {base}/worker/login",
        f"  API documentation: {base}/docs",
    ]
    if setup_token is not None:
        lines += [
            "No admin account yet. Open this one-time link (valid 1 hour) to create the first",
            "center and its admin in the browser:",
            f"  {base}/setup?token={setup_token}",
            "or on this machine: stopspread center create NAME && "
            "stopspread worker create USER --center NAME --admin",
        ]
    return lines


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@click.command("serve")
@config_option
@click.option(
    "--host", default=None, help="Address to listen on (default: STOPSPREAD_HOST, 127.0.0.1)."
)
@click.option(
    "--port", type=int, default=None, help="Port (default: STOPSPREAD_PORT, 8000; 0 picks one)."
)
def serve_command(config_file: Path | None, host: str | None, port: int | None) -> None:
    """Run the HTTP API and pages (migrating the database first)."""
    import uvicorn

    from stopspread.services.centers import centers_from_settings
    from stopspread.services.workers.setup import issue_setup_token
    from stopspread.web import create_app
    from stopspread.web.proxy import proxy_options

    settings = settings_from(config_file)
    settings = settings.replace(
        host=host or settings.host, port=settings.port if port is None else port
    )
    if settings.port == 0:  # pick the port now, so that the printed links are right
        settings = settings.replace(port=_free_port(settings.host))
    with open_app(config_file, settings) as app:
        centers_from_settings(settings)  # a bad centers file: exit 3 before anything starts
        token = issue_setup_token(app.services)
        _print_status(settings)
    for line in welcome(settings, token):
        click.echo(line)  # the only place the set-up token is ever written
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if settings.workers > 1:  # each worker builds its app from the environment
        if config_file is not None:
            os.environ["STOPSPREAD_CONFIG"] = str(config_file)
        served: object = "stopspread.web.factory:app_from_environment"
    else:
        served = create_app(settings)
    uvicorn.run(
        served,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # paths carry case codes and the set-up token: nothing per request
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        **proxy_options(settings),  # X-Forwarded-For only from configured proxies
    )


@click.group("db")
def db_group() -> None:
    """The database: its schema, and which one this machine uses."""


@db_group.command("upgrade")
@config_option
def db_upgrade(config_file: Path | None) -> None:
    """Create or migrate the database to the latest schema."""
    from stopspread.services.context import schema_revision

    with open_app(config_file) as app:
        click.echo(f"database at revision {schema_revision(app.db)}")


def _print_status(settings: Settings) -> bool:
    from stopspread.services.data_status import data_status

    status = data_status(settings)
    click.echo(f"database:      {status.database}")
    click.echo(f"data folder:   {status.data_dir}")
    click.echo(f"evidence:      {status.evidence_dir}")
    click.echo(f"evidence key:  {status.evidence_key}")
    click.echo(f"hash key:      {status.hash_key}")
    if not status.exists:
        click.echo("schema:        no database yet (made by stopspread db upgrade or serve)")
    elif status.up_to_date:
        click.echo(f"schema:        revision {status.revision} (latest)")
    else:
        click.echo(f"schema:        revision {status.revision}; latest {status.head}")
    admin = "yes" if status.admin_exists else "no (serve prints a one-time /setup link)"
    click.echo(f"admin account: {admin}")
    return status.exists and status.up_to_date


@db_group.command("seal")
@config_option
def db_seal(config_file: Path | None) -> None:
    """Seal every hash value still stored in the clear with the hash key (the services also
    do it once at start). Idempotent: a second run seals 0. Refused (exit 3) when sealing is
    off or the key is not the one the database was sealed with."""
    from stopspread.services.context import seal_hash_values

    settings = settings_from(config_file)
    try:
        count = seal_hash_values(settings)
    except StopSpreadError as exc:
        fail(str(exc), exit_code_for(exc))
    click.echo(f"{count} hash values sealed; every hash value in the database is sealed")


@db_group.command("status")
@config_option
def db_status(config_file: Path | None) -> None:
    """Which database and evidence folder are used (from settings, else the per-user data
    folder), the schema revision, and whether an admin exists. Changes nothing.

    Exit 0 when the database exists and is migrated, 1 when it is missing or behind.
    """
    from sqlalchemy.exc import SQLAlchemyError

    settings = settings_from(config_file)
    try:
        ready = _print_status(settings)
    except (SQLAlchemyError, OSError) as exc:
        from stopspread.services.data_status import redacted_url

        where = redacted_url(settings.url)
        fail(f"cannot read the database {where}: {type(exc).__name__}", ExitCode.SETUP)
    if not ready:
        raise SystemExit(ExitCode.FAILED)


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

    with open_app(config_file) as app:
        client, key = create_client(app.db, name, can_hash)
    click.echo(f"client {client.name} (id {client.id}); its API key, shown only now:", err=True)
    click.echo(key)


@client_group.command("revoke")
@config_option
@click.argument("name")
def client_revoke(config_file: Path | None, name: str) -> None:
    """Revoke a platform's API key (within a second on every server process)."""
    from stopspread.services.platform import revoke_client

    with open_app(config_file) as app:
        revoke_client(app.db, name)
    click.echo(f"client {name} revoked")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@config_option
def audit_verify(config_file: Path | None) -> None:
    """Check every audit event's hash and link; exit 1 if any row was edited or deleted."""
    from stopspread.services.audit import verify

    with open_app(config_file) as app:
        try:
            report = verify(app.db)
        except AuditChainError as exc:
            fail(f"audit chain BROKEN: {exc}")
    click.echo(f"audit chain intact: {report.events} events, head {report.head_hash}")
