"""Package-wide rules: public API lists, one-way imports."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "stopspread",
    "stopspread.errors",
    "stopspread.hashing",
    "stopspread.hashing.pdq",
    "stopspread.hashing.dihedral",
    "stopspread.hashing.digest",
    "stopspread.hashing.image",
    "stopspread.hashing.api",
    "stopspread.hashing.sniff",
    "stopspread.hashing.video",
    "stopspread.hashing.vpdq",
    "stopspread.hashing.signals",
    "stopspread.matching",
    "stopspread.matching.video",
    "stopspread.config",
    "stopspread.storage",
    "stopspread.storage.models",
    "stopspread.services.audit",
    "stopspread.services.cases",
    "stopspread.services.platform",
    "stopspread.web",
    "stopspread.report.chart",
    "stopspread.report.fonts",
    "stopspread.report.model",
    "stopspread.report.pdf",
    "stopspread.report.strings",
    "stopspread.services.removal.dashboard",
    "stopspread.services.removal.rechecks",
    "stopspread.services.case_report",
    "stopspread.services.removal.workflow",
    "stopspread.storage.models_takedown",
    "stopspread.takedown.followup",
    "stopspread.takedown.hosts",
    "stopspread.takedown.mail",
    "stopspread.takedown.notices",
    "stopspread.takedown.requests",
    "stopspread.evidence",
    "stopspread.evidence.capture",
    "stopspread.evidence.crypto",
    "stopspread.evidence.log",
    "stopspread.evidence.preview",
    "stopspread.evidence.store",
    "stopspread.evidence.verify",
    "stopspread.evidence.warc",
    "stopspread.storage.models_worker",
    "stopspread.services.workers.accounts",
    "stopspread.services.workers.admin",
    "stopspread.services.workers.review",
    "stopspread.web.worker_auth",
    "stopspread.sources",
    "stopspread.sources.addresses",
    "stopspread.sources.crawl",
    "stopspread.sources.fetch",
    "stopspread.sources.folder",
    "stopspread.sources.html",
    "stopspread.sources.media",
    "stopspread.sources.robots",
    "stopspread.sources.urls",
    "stopspread.storage.models_scan",
    "stopspread.services.scans.matcher",
    "stopspread.services.scans.run",
    "stopspread.services.scans.scheduler",
    "stopspread.services.scans.views",
    "stopspread.services.scans.queue",
    "stopspread.services.scans.sightings",
    "stopspread.web.routes.worker_scans",
    "stopspread.services.snapshots",
    "stopspread.services.scans.batch",
    "stopspread.scale.cluster",
]


def isort_key(name: str) -> tuple[int, str]:
    """Constants first, then classes, then functions (the order ruff's RUF022 keeps)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_key)
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.{symbol} is in __all__ but missing"


def test_hashing_imports_nothing_above_it() -> None:
    code = (
        "import sys, stopspread.hashing, stopspread.matching;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('click', 'sqlalchemy', 'fastapi', 'starlette', 'httpx', 'jinja2')"
        " or m.startswith(('stopspread.cli', 'stopspread.web', 'stopspread.storage',"
        " 'stopspread.services'))];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_sources_import_nothing_above_them() -> None:
    """Fetching and crawling know nothing of the database, the services or the web."""
    code = (
        "import sys, stopspread.sources;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'jinja2')"
        " or m.startswith(('stopspread.cli', 'stopspread.web', 'stopspread.storage',"
        " 'stopspread.services', 'stopspread.evidence'))];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
