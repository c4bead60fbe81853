"""The ``stopspread`` command line. One module per command group; this one wires them.

Exit codes, the same for every command (``_exit.ExitCode``): 0 everything worked, 1 some
input failed or a check found a problem (each failure on stderr), 2 usage error or a refused
request, 3 the set-up is wrong (a setting, the database, the evidence key, fonts),
130 interrupted. Commands that use the database open it once, through ``_context.open_app``.
"""

from __future__ import annotations

import sys
import warnings

import click
from PIL import Image

from stopspread import __version__
from stopspread.cli._exit import ExitCode
from stopspread.cli.bank import bank_group
from stopspread.cli.evidence import evidence_group
from stopspread.cli.exchange import exchange_group
from stopspread.cli.feed import feed_group
from stopspread.cli.hash import hash_command
from stopspread.cli.hosts import hosts_group
from stopspread.cli.match import match_command
from stopspread.cli.quarantine import quarantine_group
from stopspread.cli.report import report_command
from stopspread.cli.roomcheck import room_check_command
from stopspread.cli.scan import scan_group, source_group
from stopspread.cli.service import audit_group, client_group, db_group, serve_command
from stopspread.cli.takedown import takedown_group
from stopspread.cli.worker import case_group, center_group, worker_group

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stopspread")
def cli() -> None:
    """StopSpread: stop intimate images shared without consent from spreading.

    Hashes are computed on this machine; no image is sent anywhere.
    """


cli.add_command(hash_command)
cli.add_command(match_command)
for _command in (
    serve_command,
    db_group,
    client_group,
    audit_group,
    evidence_group,
    center_group,
    worker_group,
    case_group,
    source_group,
    scan_group,
    hosts_group,
    report_command,
    takedown_group,
    room_check_command,
    feed_group,
    bank_group,
    exchange_group,
    quarantine_group,
):
    cli.add_command(_command)


def main() -> None:
    # Our own pixel cap decides about large images; Pillow's warning would only add noise.
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    try:
        cli.main(prog_name="stopspread", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("stopspread: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
