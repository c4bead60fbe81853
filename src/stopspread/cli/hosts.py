"""``stopspread hosts check | lookup``: the takedown host registry from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from stopspread.cli._exit import CliError, ExitCode, exit_code_for
from stopspread.cli._settings import config_option, settings_from
from stopspread.errors import HostRegistryError
from stopspread.takedown.hosts import (
    HostRegistry,
    KnownHost,
    load_registry,
    registry_from_settings,
    shipped_registry_path,
)

__all__ = ["hosts_group"]


@click.group("hosts")
def hosts_group() -> None:
    """The host registry: who receives takedown notices for each domain."""


@hosts_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def check_command(files: tuple[Path, ...]) -> None:
    """Validate registry files (default: the shipped one). Exit 1 on the first bad file."""
    failed = False
    for path in files or (shipped_registry_path(),):
        try:
            registry = load_registry(path)
        except HostRegistryError as exc:
            click.echo(f"stopspread: {exc}", err=True)
            failed = True
            continue
        click.echo(f"{path}: {len(registry)} hosts, valid")
    if failed:
        sys.exit(ExitCode.FAILED)


@hosts_group.command("lookup")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per URL.")
@click.argument("urls", nargs=-1, required=True)
def lookup_command(config_file: Path | None, as_json: bool, urls: tuple[str, ...]) -> None:
    """Who gets the notice for each URL (shipped registry + STOPSPREAD_HOSTS_FILE).

    Exit 0 when every host is known, 1 when some are unknown or not URLs, 3 when
    STOPSPREAD_HOSTS_FILE cannot be read.
    """
    try:
        registry = registry_from_settings(settings_from(config_file))
    except HostRegistryError as exc:
        raise CliError(str(exc), exit_code_for(exc)) from exc
    ok = all([_show(registry, url, as_json) for url in urls])
    if not ok:
        sys.exit(ExitCode.FAILED)


def _show(registry: HostRegistry, url: str, as_json: bool) -> bool:
    try:
        found = registry.lookup(url)
    except ValueError as exc:
        click.echo(f"stopspread: {url}: {exc}", err=True)
        return False
    if isinstance(found, KnownHost):
        entry = found.entry
        record = {
            "url": url,
            "known": True,
            "domain": entry.domain,
            "abuse_email": entry.abuse_email,
            "form_url": entry.form_url,
            "language": entry.language.value,
            "jurisdiction": entry.jurisdiction,
        }
        contact = entry.abuse_email or f"form {entry.form_url}"
        line = f"{url}\t{entry.domain}\t{contact}\t{entry.language}\t{entry.jurisdiction}"
    else:
        record = {"url": url, "known": False, "registrable": found.registrable}
        line = f"{url}\tunknown host: add {found.registrable} to the registry"
    click.echo(json.dumps(record, ensure_ascii=False) if as_json else line)
    return isinstance(found, KnownHost)
