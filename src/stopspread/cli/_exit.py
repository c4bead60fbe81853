"""Exit codes, the same for every command, and the one mapping from the error tree to them.

- 0 everything worked;
- 1 something was tried and failed: some input could not be read, a scan failed, a check found
  a problem (a broken audit chain, an unreachable URL on a takedown re-check);
- 2 usage error, or the request was refused (unknown case or center, invalid input); also
  a batch of which nothing could be done (every takedown re-check failed);
- 3 the set-up is wrong: an invalid setting, a database that cannot be opened, the evidence key
  or the report fonts missing: fix the configuration, not the command;
- 130 interrupted (Ctrl-C).

As in python-threatexchange's CLI, a command raises :class:`CliError` (a message and a code);
``main()`` prints ``stopspread: message`` on stderr and exits with the code.
"""

from __future__ import annotations

import enum
from typing import IO, Any, NoReturn

import click

from stopspread.errors import ConfigError, ReportError, ServiceError

__all__ = ["CliError", "ExitCode", "exit_code_for", "fail"]


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # some input failed, or a check found a problem
    USAGE = 2  # usage error, or a refused request
    ALL_FAILED = 2  # a batch of which nothing could be done (takedown check): same code
    SETUP = 3  # settings, database, evidence key or fonts: the set-up must be fixed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code of an error we raise on purpose (the one mapping, for every command)."""
    if isinstance(exc, ConfigError | ReportError):
        return ExitCode.SETUP
    if isinstance(exc, ServiceError):
        return ExitCode.USAGE
    return ExitCode.FAILED


class CliError(click.ClickException):
    """A message for stderr (``stopspread: ...``) and the exit code that goes with it."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code
        self.exit_code = int(code)  # type: ignore[misc]  # click declares a class default

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"stopspread: {self.format_message()}", err=True, file=file)


def fail(message: str, code: ExitCode = ExitCode.FAILED) -> NoReturn:
    raise CliError(message, code)
