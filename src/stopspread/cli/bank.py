"""``stopspread bank export|import``: banks as tx signal files or ``tx dataset --csv`` files.

Both are operator commands (they need the database's settings) and both are audited. An
export holds survivors' hashes: give it only to a partner you trust to delete withdrawn
hashes (docs/interop.md). Malformed rows of an import are counted and reported with their
line numbers; the good rows are imported and the command exits 1 if any row was bad.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stopspread.cli._context import open_app
from stopspread.cli._settings import config_option

__all__ = ["bank_group"]

MAX_REPORTED = 20  # malformed rows listed on stderr; the rest are counted


@click.group("bank")
def bank_group() -> None:
    """Hash banks in the files tx and HMA read and write."""


@bank_group.command("export")
@config_option
@click.option("--bank", "bank", default=None, help="An imported bank [the published hashes].")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["tx", "csv"]),
    default="tx",
    show_default=True,
    help="tx: '<signal_type> <signal>' lines; csv: tx dataset's columns.",
)
@click.option("--collab", default="StopSpread", show_default=True, help="CSV: the collab column.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def bank_export(
    config_file: Path | None,
    bank: str | None,
    output_format: str,
    collab: str,
    output: Path | None,
) -> None:
    """Write hashes for a trusted partner (PDQ of quality >= 70 unless --bank is given)."""
    from stopspread.services.exchange.banks import export_rows
    from stopspread.services.exchange.txfile import signal_line, write_dataset_csv

    with open_app(config_file) as app:
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            rows = export_rows(app.db, bank)
            if output_format == "csv":
                count = write_dataset_csv(out, rows, collab)
            else:
                count = 0
                for tx_type, value in rows:
                    out.write(signal_line(tx_type, value) + "\n")
                    count += 1
        finally:
            if output:
                out.close()
    click.echo(f"{count} signals exported", err=True)


@bank_group.command("import")
@config_option
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def bank_import(config_file: Path | None, name: str, path: str) -> None:
    """Import a tx signal file or tx dataset CSV into the bank NAME (created if new)."""
    from stopspread.services.exchange.banks import import_signals
    from stopspread.services.exchange.txfile import read_text

    if path == "-":
        text = sys.stdin.read()
    else:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    read = read_text(text)
    with open_app(config_file) as app:
        report = import_signals(app.db, name, read)
    for bad in report.malformed[:MAX_REPORTED]:
        click.echo(f"stopspread: {path}:{bad.line}: {bad.reason}", err=True)
    if len(report.malformed) > MAX_REPORTED:
        click.echo(f"stopspread: … {len(report.malformed) - MAX_REPORTED} more", err=True)
    click.echo(
        f"bank {name}: {report.added} added, {report.duplicates} already there, "
        f"{report.unsupported} of other signal types, {len(report.malformed)} malformed"
    )
    if report.malformed:
        sys.exit(1)
