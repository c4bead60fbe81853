"""Settings for the service commands: ``STOPSPREAD_*`` variables plus ``--config FILE``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from stopspread.cli._exit import CliError, ExitCode
from stopspread.config import Settings, load_settings
from stopspread.errors import ConfigError

__all__ = ["config_option", "settings_from"]

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="A TOML settings file (else STOPSPREAD_CONFIG). Environment variables win.",
    )(func)


def settings_from(config_file: Path | None) -> Settings:
    """The settings; an invalid one ends the command with exit 3 (the set-up is wrong)."""
    try:
        return load_settings(os.environ, config_file)
    except ConfigError as exc:
        raise CliError(str(exc), ExitCode.SETUP) from exc
