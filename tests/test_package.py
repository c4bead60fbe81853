"""Package-wide rules: public API lists (one-way imports: tests/test_layers.py)."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = [
    "stopspread",
    "stopspread.errors",
    "stopspread.hashing",
    "stopspread.hashing.pdq",
    "stopspread.hashing.dihedral",
    "stopspread.hashing.decode",
    "stopspread.hashing.digest",
    "stopspread.hashing.image",
    "stopspread.hashing.api",
    "stopspread.hashing.sniff",
    "stopspread.hashing.video",
    "stopspread.hashing.vpdq",
    "stopspread.hashing.signals",
    "stopspread.matching",
    "stopspread.matching.signal_types",
    "stopspread.matching.video",
    "stopspread.config",
    "stopspread.storage",
    "stopspread.storage.models",
    "stopspread.storage.types",
    "stopspread.services.audit",
    "stopspread.services.cases",
    "stopspread.services.platform",
    "stopspread.web",
    "stopspread.web.chart",
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
    "stopspread.evidence.files",
    "stopspread.evidence.preview",
    "stopspread.evidence.warc",
    "stopspread.hashchain",
    "stopspread.languages",
    "stopspread.services.custody",
    "stopspread.services.custody.log",
    "stopspread.services.custody.store",
    "stopspread.services.custody.verify",
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
    "stopspread.roomcheck",
    "stopspread.roomcheck.words",
    "stopspread.services.roomcheck",
    "stopspread.web.routes.room_check",
    "stopspread.web.room_check_app",
    "stopspread.storage.models_exchange",
    "stopspread.services.exchange.banks",
    "stopspread.services.exchange.feed",
    "stopspread.services.exchange.feed_log",
    "stopspread.services.exchange.peers",
    "stopspread.services.exchange.txfile",
    "stopspread.web.routes.feed",
    "stopspread.web.routes.hma",
    "stopspread.cli.bank",
    "stopspread.cli.exchange",
    "stopspread.cli.feed",
    "stopspread.services.snapshots",
    "stopspread.services.scans.batch",
    "stopspread.scale.cluster",
    "stopspread.services.evidence_package",
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
