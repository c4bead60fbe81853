"""What every database command shares: its settings and, opened once, its services.

:func:`open_app` opens the database (migrated) and the services on first use, closes them at
the end, and turns every error we raise on purpose into ``stopspread: message`` on stderr with
the exit code :func:`~stopspread.cli._exit.exit_code_for` gives (see ``_exit.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stopspread.cli._exit import CliError, exit_code_for
from stopspread.cli._settings import settings_from
from stopspread.config import Settings
from stopspread.errors import StopSpreadError

if TYPE_CHECKING:
    from stopspread.services.context import Database, Services
    from stopspread.services.custody import EvidenceStore
    from stopspread.services.scans.queue import ScanDeps

__all__ = ["AppContext", "open_app"]


@dataclass(slots=True)
class AppContext:
    """One command's settings and, opened on first use, its migrated database and services."""

    settings: Settings
    _db: Database | None = None
    _services: Services | None = None
    _scan_deps: ScanDeps | None = None
    _closing: list[Database] = field(default_factory=list)

    @property
    def db(self) -> Database:
        if self._db is None:
            from stopspread.services.context import open_database
            from stopspread.services.data_status import redacted_url

            url = self.settings.url
            db = open_database(url, redacted_url(url), self.settings)
            self._closing.append(db)
            self._db = db
        return self._db

    @property
    def services(self) -> Services:
        if self._services is None:
            from stopspread.services.context import build_services

            self._services = build_services(self.settings, self.db)
        return self._services

    @property
    def scan_deps(self) -> ScanDeps:
        if self._scan_deps is None:
            from stopspread.services.scans.queue import ScanDeps

            self._scan_deps = ScanDeps.build(self.settings, self.db)
        return self._scan_deps

    def evidence_store(self, *, create_key: bool = False) -> EvidenceStore:
        """The evidence store; without ``create_key`` a missing key is a :class:`ConfigError`
        (reading evidence never makes a new key; capturing it does)."""
        from stopspread.services.custody import EvidenceStore

        return EvidenceStore.from_settings(self.settings, self.db, create_key=create_key)

    def close(self) -> None:
        for db in self._closing:
            db.dispose()
        self._closing.clear()


@contextlib.contextmanager
def open_app(config_file: Path | None, settings: Settings | None = None) -> Iterator[AppContext]:
    """Settings once, the database and services on first use, closed at the end; an error we
    raise on purpose becomes ``stopspread: message`` on stderr and its :class:`ExitCode`."""
    app = AppContext(settings if settings is not None else settings_from(config_file))
    try:
        yield app
    except StopSpreadError as exc:
        raise CliError(str(exc), exit_code_for(exc)) from exc
    finally:
        app.close()
